//! The callback worker thread: when it wakes, how it batches, the drops it defers to after its
//! next grace period, `rcu_barrier`, and backpressure on callers.
//!
//! The worker sleeps while nothing is pending. The first callback queued into an empty queue wakes
//! it; it then lets callbacks accumulate for the batch delay (so that one grace period serves
//! many of them and readers see few membarrier interruptions), takes the batch, waits one grace
//! period and runs it ([`Domain::process_callbacks`](super::domain::Domain)). `rcu_barrier`,
//! polled grace periods and backpressure cut the delay short.

use core::cell::{Cell, RefCell};
use core::ffi::c_void;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use super::sync::{Mutex, MutexGuard};
use std::thread::{self, Thread};

use super::head::RcuHead;
use super::lineage::{self, Generation};
use super::{config, domain, panic, start, thread as this_thread};

/// The worker's handle, to wake it; `None` until started (and again in a forked child).
static WORKER: Mutex<Option<Thread>> = Mutex::new(None);
/// Whether the worker runs in this process; checked on every enqueue, so kept apart from `WORKER`.
static STARTED: AtomicBool = AtomicBool::new(false);
/// Someone waits for the queue to be processed (`rcu_barrier`, backpressure): skip the delay.
static URGENT: AtomicBool = AtomicBool::new(false);
/// The highest polled grace-period target that was asked for.
static GP_REQUEST: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
    /// Values dropped by callbacks that would otherwise have waited for a grace period on the
    /// worker. Only the worker thread's list is ever used.
    static LATE_DROPS: RefCell<Vec<LateDrop>> = const { RefCell::new(Vec::new()) };
}

/// Whether the current thread is the callback worker.
pub(crate) fn on_worker_thread() -> bool {
    ON_WORKER.get()
}

/// Called after every enqueue with the number of callbacks that were pending before it.
#[inline]
pub(crate) fn after_enqueue(before: usize, head: NonNull<RcuHead>) {
    // Queued by a callback (or a deferred drop) of the worker: `rcu_barrier` waits for it too.
    lineage::queued(head);
    // Relaxed: a stale `false` only costs a redundant `wake`; a stale `true` cannot happen in a
    // process where the worker was never started, and after fork it is reset before any enqueue.
    if before == 0 || !STARTED.load(Ordering::Relaxed) {
        wake();
    } else if before >= config::max_pending_callbacks() {
        throttle();
    }
}

/// Asks the worker to process the queue now, without the batch delay.
pub(crate) fn hurry() {
    URGENT.store(true, Ordering::Release);
    wake();
}

/// Asks the worker to drive grace periods until `target` is reached (polled grace periods).
pub(crate) fn request_grace_period(target: u64) {
    GP_REQUEST.fetch_max(target, Ordering::AcqRel);
    wake();
}

/// As [`request_grace_period`], for callers that ask again at every poll (`GpState::poll`): wakes
/// the worker only when `target` was not requested yet, or when no worker runs in this process
/// (a forked child).
pub(crate) fn ensure_grace_period(target: u64) {
    // AcqRel, as in `request_grace_period`. Whoever raised the request to `target` or beyond
    // wakes the worker after its `fetch_max`, and the worker loads the request again after every
    // wake-up before it parks: it drives grace periods up to `target`, and a second wake-up would
    // add nothing. (If that requester's thread did not survive a fork, `ensure_running` starts
    // this process's worker, which begins by loading the request.) The plain load first keeps a
    // caller that polls in a loop from writing the worker's shared request line at every poll.
    // Acquire: as the `fetch_max`'s load half.
    if GP_REQUEST.load(Ordering::Acquire) < target && GP_REQUEST.fetch_max(target, Ordering::AcqRel) < target
    {
        wake();
    } else {
        ensure_running();
    }
}

/// Starts the worker if this process has none (a forked child) and something waits for it.
fn ensure_running() {
    // Relaxed: as in `after_enqueue`.
    if !STARTED.load(Ordering::Relaxed) {
        wake();
    }
}

#[cold]
fn wake() {
    start();
    let mut worker = crate::engine::sync::lock(&WORKER);
    let handle = worker.get_or_insert_with(spawn);
    // Release: pairs with the Relaxed check in `after_enqueue` only as a hint; the lock above is
    // what serializes starting the thread.
    STARTED.store(true, Ordering::Release);
    handle.unpark();
}

fn spawn() -> Thread {
    thread::Builder::new()
        .name("rcu-callbacks".into())
        .spawn(run)
        .unwrap_or_else(|err| panic!("rcu-runtime: cannot start the RCU callback worker thread: {err}"))
        .thread()
        .clone()
}

/// Waits while too many callbacks are pending, unless waiting could deadlock.
#[cold]
fn throttle() {
    // A reader (or the stall handler) would hold up the grace period the worker needs; the
    // worker would wait for itself.
    if on_worker_thread() || this_thread::must_not_wait() {
        return;
    }
    domain().callbacks.wait_for_room(config::max_pending_callbacks(), hurry);
}

/// Whether someone waits for the worker right now.
fn urgent_work(max: usize) -> bool {
    let d = domain();
    URGENT.swap(false, Ordering::AcqRel)
        || !d.seq.is_done(GP_REQUEST.load(Ordering::Acquire))
        || d.callbacks.pending() >= max / 2
}

/// The worker thread: runs the loop; a panic outside the callbacks (which are caught one by one)
/// would leave every later `rcu_barrier` waiting forever, so it ends the process loudly instead.
fn run() {
    let failure = std::panic::catch_unwind(run_loop);
    let what = match &failure {
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned()),
        Ok(()) => None,
    };
    eprintln!(
        "rcu-runtime: the RCU callback worker failed ({}); queued callbacks can no longer run and \
         rcu_barrier() would wait forever, so the process aborts",
        what.as_deref().unwrap_or("unknown panic")
    );
    // The payload is not dropped: its destructor could panic too.
    core::mem::forget(failure);
    std::process::abort();
}

/// The worker's main loop; never returns.
fn run_loop() {
    ON_WORKER.set(true);
    let d = domain();
    loop {
        if !urgent_work(config::max_pending_callbacks()) {
            thread::park_timeout(config::callback_batch_delay());
        }
        lineage::next_batch();
        let remaining = d.process_callbacks();
        run_late_drops();
        lineage::release_waiters();
        let requested = GP_REQUEST.load(Ordering::Acquire);
        if !d.seq.is_done(requested) {
            d.seq.wait_for(d, requested);
        }
        if remaining.min(d.callbacks.pending()) == 0 && !URGENT.load(Ordering::Acquire) {
            // Woken by the next enqueue into the empty queue, or by a request (park tokens make
            // an unpark that comes before this park count).
            thread::park();
        }
    }
}

/// A value dropped on the worker that must outlive the worker's next grace period.
struct LateDrop {
    ptr: NonNull<c_void>,
    drop: unsafe fn(NonNull<c_void>),
    /// The generation of the callback that dropped it (see `lineage.rs`).
    generation: Option<Generation>,
}

/// On the worker: runs `drop(ptr)` after the next grace period instead of waiting now.
///
/// # Safety
///
/// The caller is the worker thread, and `drop(ptr)` is sound to call on this thread once a grace
/// period that starts after this call has elapsed.
pub(crate) unsafe fn drop_after_grace_period(ptr: NonNull<c_void>, drop: unsafe fn(NonNull<c_void>)) {
    debug_assert!(on_worker_thread());
    let generation = lineage::current();
    LATE_DROPS.with(|late| late.borrow_mut().push(LateDrop { ptr, drop, generation }));
}

/// Runs the drops that callbacks left for after a grace period, and the drops those drops leave
/// in turn (a value whose drop drops another `Rcu`), until none is left: one grace period per
/// level of nesting.
fn run_late_drops() {
    loop {
        let late = LATE_DROPS.with(|late| core::mem::take(&mut *late.borrow_mut()));
        if late.is_empty() {
            return;
        }
        let d = domain();
        d.seq.wait_for(d, d.seq.snapshot());
        for item in late {
            let drop_it = || {
                // SAFETY: queued by `drop_after_grace_period` on this thread, whose contract
                // allows the call once the grace period just waited for has elapsed.
                unsafe { (item.drop)(item.ptr) }
            };
            // What the drop queues or defers belongs to the lineage of the callback that
            // deferred it.
            let failed = panic::catch(|| match item.generation {
                Some(generation) => lineage::run_as(generation, drop_it),
                None => drop_it(),
            });
            if failed {
                eprintln!("rcu-runtime: a value dropped by an RCU callback panicked in its destructor");
            }
        }
    }
}

/// `rcu_barrier`: waits until every callback queued before the call has run, with everything
/// those callbacks queued or deferred, transitively.
///
/// A marker callback at the end of the queue runs after every callback queued before; it then
/// waits for their lineages (`lineage.rs`): the signal comes once no callback queued by one of
/// them, at any depth, is pending, and their deferred drops are done. The signal is an atomic
/// flag and an unpark, no lock: a forked child's worker may run the marker of a barrier whose
/// caller does not exist there, and must not block on its lock.
#[track_caller]
pub(crate) fn barrier(what: &str) {
    assert!(
        !on_worker_thread(),
        "{what} called from an RCU callback: it would wait for the callback worker, which is the \
         thread running it"
    );
    let done = Arc::new(AtomicBool::new(false));
    let signal = Arc::clone(&done);
    let caller = thread::current();
    super::defer(move || {
        lineage::wait_for_lineages(Box::new(move || {
            // Release: pairs with the Acquire load below.
            signal.store(true, Ordering::Release);
            caller.unpark();
        }));
    });
    hurry();
    while !done.load(Ordering::Acquire) {
        thread::park();
    }
}

/// Locks the worker handle, for the fork handlers.
pub(crate) fn lock_for_fork() -> MutexGuard<'static, Option<Thread>> {
    crate::engine::sync::lock(&WORKER)
}

/// In a forked child, which has only the forking thread: if that thread is the worker (a
/// callback forked), it stays the worker and goes on with its batch; otherwise the worker does
/// not exist here, and the next call that needs it starts a new one (which also runs the
/// callbacks inherited from the parent).
pub(crate) fn after_fork_in_child(worker: &mut Option<Thread>) {
    if on_worker_thread() {
        return;
    }
    *worker = None;
    STARTED.store(false, Ordering::Relaxed);
}
