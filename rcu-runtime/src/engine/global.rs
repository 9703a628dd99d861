//! The process-wide engine: the global [`Domain`], its one-time start-up, and the entry points
//! the typed layer calls (listed in the module documentation of `engine`).

use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, Ordering};
use std::task::Waker;
use std::time::Duration;

use super::domain::Domain;
use super::thread::assert_may_wait;
use super::{config, fork, head, membarrier, thread, worker};

static DOMAIN: Domain = Domain::new();
/// Where the one-time start-up is: [`NOT_STARTED`], [`STARTED`], or the id of the process in
/// which a thread is running it. Not a `std::sync::Once`: a `fork()` while another thread runs
/// the start-up would leave the child's `Once` running for good (that thread does not exist in
/// the child), and every call into the engine there would wait for it forever. Recording the
/// process lets the child see that and run the start-up itself.
static START: AtomicI32 = AtomicI32::new(NOT_STARTED);
const NOT_STARTED: i32 = 0;
const STARTED: i32 = -1;

/// The process-wide RCU engine.
#[inline(always)]
pub(crate) fn domain() -> &'static Domain {
    &DOMAIN
}

/// Reads the configuration, chooses the barrier flavour and installs the fork handlers, once.
///
/// Runs before the first reader registers, so the flavour never changes under a reader.
#[inline]
pub(crate) fn start() {
    // Acquire: pairs with the Release store at the end of `start_slow`, so the start-up's effects
    // (the barrier flavour, the handlers) are visible to whoever sees it done.
    if START.load(Ordering::Acquire) != STARTED {
        start_slow();
    }
}

/// [`start`] before the start-up is done: runs it, or waits for the thread of this process that
/// runs it, or (in the child of a `fork()` that happened while a thread of the parent ran it)
/// runs it again, since that thread does not exist here.
#[cold]
#[inline(never)]
fn start_slow() {
    // SAFETY: getpid has no preconditions and cannot fail.
    let me = unsafe { libc::getpid() };
    loop {
        // Acquire: as in `start`.
        let state = START.load(Ordering::Acquire);
        if state == STARTED {
            return;
        }
        if state == me {
            // Another thread of this process runs it; start-up takes a system call or two.
            std::thread::sleep(Duration::from_micros(50));
            continue;
        }
        // Not started, or started by a thread of a parent process that forked meanwhile: only
        // the forking thread exists in the child, and it was not that one (start-up never forks).
        // Acquire on success: the parent's partial start-up (a decided barrier flavour) is ours
        // to complete. Relaxed on failure: we load again.
        if START.compare_exchange(state, me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            run_start_up(state != NOT_STARTED);
            // Release: pairs with the Acquire loads above and in `start`.
            START.store(STARTED, Ordering::Release);
            return;
        }
    }
}

/// The start-up itself; `resumed` in a forked child whose parent had begun it on another thread.
/// Each step may have run in that parent already, and is idempotent.
fn run_start_up(resumed: bool) {
    /// Lets another caller try again if the start-up panics.
    struct Abandon;
    impl Drop for Abandon {
        fn drop(&mut self) {
            // Relaxed: nothing was started that another thread needs to see.
            START.store(NOT_STARTED, Ordering::Relaxed);
        }
    }
    let abandon = Abandon;
    config::read_env();
    membarrier::init(config::fences_forced());
    // The parent may have registered membarrier for its address space, not for this one: register
    // again (as the fork child handler does), falling back to fences if that fails. No reader
    // is registered yet (registering starts the engine first), so none needs switching.
    if resumed && membarrier::reinit_after_fork() {
        debug_assert_eq!(membarrier::mode(), Some(config::BarrierMode::Fences));
    }
    if membarrier::mode() == Some(config::BarrierMode::Fences) {
        DOMAIN.use_reader_fences();
    }
    fork::install_handlers();
    core::mem::forget(abandon);
}

/// Waits for a full grace period: returns once every read-side critical section that began
/// before the call has ended. Concurrent callers share grace periods.
///
/// # Panics
///
/// Where waiting would deadlock (see [`assert_may_wait`]); `what` names the caller's operation.
#[track_caller]
pub(crate) fn synchronize(what: &str) {
    assert_may_wait(what);
    start();
    domain().synchronize();
}

/// Starts a grace period (or joins one about to start) without waiting for it; returns the
/// sequence value that [`poll`] and [`wait_for`] compare with. The callback worker drives it.
pub(crate) fn start_poll() -> u64 {
    start();
    let target = domain().start_poll();
    worker::request_grace_period(target);
    target
}

/// The grace-period state of "now", without starting a grace period or taking a lock: the
/// sequence value at which a full grace period has elapsed since the call (the kernel's
/// `get_state_synchronize_rcu`). Call it right after unpublishing; see `GpSequence::get_state`
/// for why a fence and a load are enough.
#[inline]
pub(crate) fn get_state() -> u64 {
    domain().seq.get_state()
}

/// Whether the grace period numbered `target` has completed; if not, arranges for `waker` to be
/// woken when it has (`*id` holds the registration between polls; withdraw an abandoned one
/// with [`cancel_async`]) and asks the callback worker to drive grace periods up to `target`.
pub(crate) fn poll_async(target: u64, id: &mut Option<u64>, waker: &Waker) -> bool {
    let d = domain();
    if d.seq.poll_async(target, id, waker) {
        return true;
    }
    if drive_on_worker(target) {
        // Completed: this withdraws the registration just made (the grace period's leader woke
        // its waker already, which only costs the task a spurious wake-up).
        let done = d.seq.poll_async(target, id, waker);
        debug_assert!(done, "the grace period just driven has completed");
        return done;
    }
    // The worker runs grace periods until `target`; the one that reaches it wakes us (or
    // another caller's grace period does, whichever completes first).
    start_poll_to(target);
    false
}

/// Whether the grace period numbered `target` has completed, without starting anything.
#[inline]
pub(crate) fn is_done(target: u64) -> bool {
    domain().seq.is_done(target)
}

/// Waits until `target` has elapsed, panicking where waiting could deadlock even when it has
/// elapsed already (for reclaiming an unpublished value: the misuse shows in every run).
///
/// # Panics
///
/// Where waiting would deadlock (see [`assert_may_wait`]).
#[track_caller]
pub(crate) fn wait_for_reclaim(target: u64, what: &str) {
    assert_may_wait(what);
    if !domain().seq.is_done(target) {
        start();
        let d = domain();
        d.seq.wait_for(d, target);
    }
}

/// Withdraws a registration of [`poll_async`] whose future was dropped before it completed.
pub(crate) fn cancel_async(id: u64) {
    domain().seq.cancel_async(id);
}

/// Asks the worker to drive grace periods until `target` is reached.
fn start_poll_to(target: u64) {
    start();
    worker::request_grace_period(target);
}

/// Whether the grace period numbered `target` (from [`start_poll`] or [`get_state`]) has
/// completed; if not, makes sure the worker drives grace periods up to it.
pub(crate) fn poll(target: u64) -> bool {
    if domain().poll(target) || drive_on_worker(target) {
        return true;
    }
    // A state from `get_state` (an `RcuOld`'s) was taken without asking for a grace period, and
    // in a forked child the worker that was driving one is gone: without this, a caller polling
    // in a loop in an otherwise quiet process would wait forever.
    worker::ensure_grace_period(target);
    false
}

/// On the callback worker: completes the grace period numbered `target` by leading it, and
/// returns `true`; elsewhere (or where this thread may not wait) returns `false` at once.
///
/// Polled grace periods are driven by the worker. A callback (or a value it drops) that polls one
/// in a loop, or blocks on a future that waits for one, keeps the worker from driving it, and in a
/// process where no other thread runs grace periods it would never complete. The worker may wait
/// for a grace period (callbacks may call `synchronize_rcu`), so it drives it there and then.
/// Not from the stall handler or inside a read-side section (`must_not_wait`): the grace period
/// would wait for the caller.
fn drive_on_worker(target: u64) -> bool {
    if !worker::on_worker_thread() || thread::must_not_wait() {
        return false;
    }
    // No `start()`: the worker exists only once the engine has started.
    let d = domain();
    d.seq.wait_for(d, target);
    true
}

/// Waits until the grace period numbered `target` has completed.
///
/// # Panics
///
/// Where waiting would deadlock (see [`assert_may_wait`]), unless it has completed already.
#[track_caller]
pub(crate) fn wait_for(target: u64, what: &str) {
    if domain().seq.is_done(target) {
        return;
    }
    assert_may_wait(what);
    start();
    let d = domain();
    d.seq.wait_for(d, target);
}

/// Queues `func(head)` to run on the callback worker after a grace period.
///
/// # Safety
///
/// As for the public `call_rcu`: the caller hands over `head` (and what `func` frees), and
/// `func(head)` is sound to call on another thread once no pre-existing reader remains.
#[inline]
pub(crate) unsafe fn call_rcu(head: NonNull<head::RcuHead>, func: head::RcuCallback) {
    // SAFETY: forwarded from the caller.
    let before = unsafe { domain().callbacks.push(head, func) };
    worker::after_enqueue(before, head);
}

/// Waits until every callback queued before the call has run, and everything those callbacks
/// queued or deferred, transitively.
///
/// # Panics
///
/// Where waiting would deadlock (see [`assert_may_wait`]), and on the callback worker.
#[track_caller]
pub(crate) fn barrier(what: &str) {
    assert_may_wait(what);
    worker::barrier(what);
}

/// Reclaims an unpublished pointer once no reader can hold it: the policy of dropping an
/// `RcuOld` (or a non-null `Rcu`). `state` is the [`get_state`] cookie taken when the pointer
/// was unpublished: when that grace period has already elapsed, nothing is waited for.
///
/// - On the callback worker, waiting would stall every queued callback: `drop(ptr)` runs after
///   the worker's next grace period instead (at once if `state` has elapsed).
/// - While a panic unwinds out of a read-side critical section, waiting would deadlock and a
///   second panic would abort: the pointer is leaked (the panic is the error being reported),
///   unless `state` has elapsed, when it is dropped.
/// - Otherwise: wait until `state` has elapsed (usually one grace period, none if it already
///   has), then `drop(ptr)`.
///
/// # Safety
///
/// `ptr` was unpublished before `state` was taken (no new reader can reach it), the caller
/// owns it, and `drop(ptr)` is sound to call on this thread once `state` has elapsed.
///
/// # Panics
///
/// Inside a read-side critical section (or the stall handler) when not unwinding, even when
/// `state` has elapsed, so that the misuse shows in every run rather than only when no grace
/// period happened to complete in between. `what` names the operation for the message.
#[track_caller]
pub(crate) unsafe fn retire(ptr: NonNull<c_void>, drop: unsafe fn(NonNull<c_void>), state: u64, what: &str) {
    let elapsed = domain().seq.is_done(state);
    if worker::on_worker_thread() {
        if elapsed {
            // SAFETY: `state` has elapsed since the pointer was unpublished; we own it.
            unsafe { drop(ptr) };
        } else {
            // SAFETY: forwarded from the caller; the worker runs it on this very thread after a
            // grace period that starts after this call, hence after `state` was taken.
            unsafe { worker::drop_after_grace_period(ptr, drop) };
        }
        return;
    }
    if std::thread::panicking() && thread::must_not_wait() {
        if elapsed {
            // SAFETY: as above.
            unsafe { drop(ptr) };
        }
        return;
    }
    assert_may_wait(what);
    if !elapsed {
        start();
        let d = domain();
        d.seq.wait_for(d, state);
    }
    // SAFETY: `state` has elapsed since the pointer was unpublished; we own it.
    unsafe { drop(ptr) };
}

/// The engine's counters: grace periods completed, callbacks pending, run, and panicked.
pub(crate) fn counters() -> (u64, usize, u64, u64) {
    let d = domain();
    let (run, panicked) = d.callbacks.counts();
    (d.seq.completed(), d.callbacks.pending(), run, panicked)
}
