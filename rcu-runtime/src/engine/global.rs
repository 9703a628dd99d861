//! The process-wide engine: the global [`Domain`], its one-time start-up, and the entry points
//! the typed layer calls (listed in the module documentation of `engine`).

use core::ffi::c_void;
use core::ptr::NonNull;
use std::sync::Once;

use super::domain::Domain;
use super::thread::assert_may_wait;
use super::{config, fork, head, membarrier, thread, worker};

static DOMAIN: Domain = Domain::new();
static START: Once = Once::new();

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
    START.call_once(|| {
        config::read_env();
        membarrier::init(config::fences_forced());
        if membarrier::mode() == Some(config::BarrierMode::Fences) {
            DOMAIN.use_reader_fences();
        }
        fork::install_handlers();
    });
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

/// Whether the grace period numbered `target` (from [`start_poll`]) has completed.
pub(crate) fn poll(target: u64) -> bool {
    if domain().poll(target) {
        return true;
    }
    // In a forked child the worker that was driving the grace period is gone: start one.
    worker::ensure_running();
    false
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
    worker::after_enqueue(before);
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
/// `RcuOld` (or a non-null `Rcu`).
///
/// - On the callback worker, waiting would stall every queued callback: `drop(ptr)` runs after
///   the worker's next grace period instead.
/// - While a panic unwinds out of a read-side critical section, waiting would deadlock and a
///   second panic would abort: the pointer is leaked (the panic is the error being reported).
/// - Otherwise: wait for a grace period, then `drop(ptr)`.
///
/// # Safety
///
/// `ptr` was unpublished before the call (no new reader can reach it), the caller owns it, and
/// `drop(ptr)` is sound to call on this thread once a grace period that starts after this call
/// has elapsed.
///
/// # Panics
///
/// Inside a read-side critical section (or the stall handler) when not unwinding: waiting
/// there would deadlock. `what` names the operation for the message.
#[track_caller]
pub(crate) unsafe fn retire(ptr: NonNull<c_void>, drop: unsafe fn(NonNull<c_void>), what: &str) {
    if worker::on_worker_thread() {
        // SAFETY: forwarded from the caller; the worker runs it on this very thread after a
        // grace period that starts after this call.
        unsafe { worker::drop_after_grace_period(ptr, drop) };
        return;
    }
    if std::thread::panicking() && thread::must_not_wait() {
        return;
    }
    synchronize(what);
    // SAFETY: a grace period has elapsed since the pointer was unpublished; we own it.
    unsafe { drop(ptr) };
}

/// The engine's counters: grace periods completed, callbacks pending, run, and panicked.
pub(crate) fn counters() -> (u64, usize, u64, u64) {
    let d = domain();
    let (run, panicked) = d.callbacks.counts();
    (d.seq.completed(), d.callbacks.pending(), run, panicked)
}
