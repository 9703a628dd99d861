//! The callback worker thread: when it wakes, how it batches, and backpressure on callers.
//!
//! The worker sleeps while nothing is pending. The first callback queued into an empty queue wakes
//! it; it then lets callbacks accumulate for the batch delay (so that one grace period serves
//! many of them and readers see few membarrier interruptions), takes the batch, waits one grace
//! period and runs it. `rcu_barrier`, polled grace periods and backpressure cut the delay short.

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::{self, Thread};
use std::time::Duration;

use crate::callbacks::Batch;
use crate::config;
use crate::engine::{domain, start};

/// The worker's handle, to wake it; `None` until started (and again in a forked child).
static WORKER: Mutex<Option<Thread>> = Mutex::new(None);
/// Whether the worker runs in this process; checked on every enqueue, so kept apart from `WORKER`.
static STARTED: AtomicBool = AtomicBool::new(false);
/// Someone waits for the queue to be processed (`rcu_barrier`, backpressure): skip the delay.
static URGENT: AtomicBool = AtomicBool::new(false);
/// The highest polled grace-period target that was asked for.
static GP_REQUEST: AtomicU64 = AtomicU64::new(0);
/// Callers waiting for room under backpressure, and where they wait.
static ROOM_WAITERS: AtomicUsize = AtomicUsize::new(0);
static ROOM: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is the callback worker.
pub(crate) fn on_worker_thread() -> bool {
    ON_WORKER.get()
}

/// Called after every enqueue with the number of callbacks that were pending before it.
#[inline]
pub(crate) fn after_enqueue(before: usize) {
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

#[cold]
fn wake() {
    start();
    let mut worker = crate::sync::lock(&WORKER);
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
    // A reader would hold up the grace period the worker needs; the worker would wait for itself.
    if on_worker_thread() || crate::guard::is_reading() {
        return;
    }
    hurry();
    let max = config::max_pending_callbacks();
    let mut room = crate::sync::lock(&ROOM.0);
    // SeqCst: with the SeqCst load in `notify_room`, either the worker sees us waiting or we see
    // its decrement of `pending`.
    ROOM_WAITERS.fetch_add(1, Ordering::SeqCst);
    while domain().callbacks.pending() > max {
        // The timeout is a safety net; `notify_room` is the normal wake-up.
        room =
            ROOM.1.wait_timeout(room, Duration::from_millis(10)).map_or_else(|e| e.into_inner().0, |r| r.0);
        hurry();
    }
    ROOM_WAITERS.fetch_sub(1, Ordering::SeqCst);
}

fn notify_room() {
    if ROOM_WAITERS.load(Ordering::SeqCst) > 0 {
        let _room = crate::sync::lock(&ROOM.0);
        ROOM.1.notify_all();
    }
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
    let what = failure.err().and_then(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
    });
    eprintln!(
        "rcu-runtime: the RCU callback worker failed ({}); queued callbacks can no longer run and \
         rcu_barrier() would wait forever, so the process aborts",
        what.as_deref().unwrap_or("unknown panic")
    );
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
        let mut remaining = process_one_batch();
        run_late_drops();
        run_after_batch();
        remaining = remaining.min(d.callbacks.pending());
        notify_room();
        let requested = GP_REQUEST.load(Ordering::Acquire);
        if !d.seq.is_done(requested) {
            d.seq.wait_for(d, requested);
        }
        if remaining == 0 && !URGENT.load(Ordering::Acquire) {
            // Woken by the next enqueue into the empty queue, or by a request (park tokens make
            // an unpark that comes before this park count).
            thread::park();
        }
    }
}

/// Locks the worker handle, for the fork handlers.
pub(crate) fn lock_for_fork() -> MutexGuard<'static, Option<Thread>> {
    crate::sync::lock(&WORKER)
}

/// In a forked child the worker thread does not exist: forget it, so the next enqueue (or
/// `rcu_barrier`) starts a new one, which also runs the callbacks inherited from the parent.
pub(crate) fn forget_after_fork(worker: &mut Option<Thread>) {
    *worker = None;
    STARTED.store(false, Ordering::Relaxed);
    ON_WORKER.set(false);
}

/// A value dropped on the worker that must outlive the worker's next grace period.
struct LateDrop {
    ptr: core::ptr::NonNull<core::ffi::c_void>,
    drop: unsafe fn(core::ptr::NonNull<core::ffi::c_void>),
}

thread_local! {
    /// Values dropped by callbacks that would otherwise have waited for a grace period on the
    /// worker. Only the worker thread's list is ever used.
    static LATE_DROPS: core::cell::RefCell<Vec<LateDrop>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// On the worker: runs `drop(ptr)` after the next grace period instead of waiting now.
///
/// # Safety
///
/// The caller is the worker thread, and `drop(ptr)` is sound to call on this thread once a grace
/// period that starts after this call has elapsed.
pub(crate) unsafe fn drop_after_grace_period(
    ptr: core::ptr::NonNull<core::ffi::c_void>,
    drop: unsafe fn(core::ptr::NonNull<core::ffi::c_void>),
) {
    debug_assert!(on_worker_thread());
    LATE_DROPS.with(|late| late.borrow_mut().push(LateDrop { ptr, drop }));
}

/// Runs the drops that callbacks left for after a grace period, if any.
fn run_late_drops() {
    let late = LATE_DROPS.with(|late| core::mem::take(&mut *late.borrow_mut()));
    if late.is_empty() {
        return;
    }
    let d = domain();
    d.seq.wait_for(d, d.seq.snapshot());
    for item in late {
        let call = std::panic::AssertUnwindSafe(|| {
            // SAFETY: queued by `drop_after_grace_period` on this thread, whose contract allows
            // the call once the grace period just waited for has elapsed.
            unsafe { (item.drop)(item.ptr) }
        });
        let result = std::panic::catch_unwind(call);
        if result.is_err() {
            eprintln!("rcu-runtime: a value dropped by an RCU callback panicked in its destructor");
        }
    }
}

thread_local! {
    /// What callbacks of the current batch asked to run once the batch is fully done.
    static AFTER_BATCH: core::cell::RefCell<Vec<Box<dyn FnOnce()>>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// On the worker: runs `f` once the current batch, its bookkeeping and its late drops are done.
pub(crate) fn after_batch(f: Box<dyn FnOnce()>) {
    debug_assert!(on_worker_thread());
    AFTER_BATCH.with(|after| after.borrow_mut().push(f));
}

fn run_after_batch() {
    let after = AFTER_BATCH.with(|after| core::mem::take(&mut *after.borrow_mut()));
    for f in after {
        f();
    }
}

/// The batch the worker has taken and not finished, where `fork()` can find it: a batch that only
/// lived on the worker's stack would be lost in a forked child, which has no worker thread.
/// The worker holds the lock while it runs the callbacks, not while it waits for their grace
/// period, so `fork()` waits at most for callbacks to run.
static IN_FLIGHT: Mutex<Option<Batch>> = Mutex::new(None);

/// Takes the queued callbacks, waits for a grace period, runs them; returns how many are pending.
fn process_one_batch() -> usize {
    let d = domain();
    let batch = d.callbacks.take_all();
    if batch.is_empty() {
        return d.callbacks.pending();
    }
    *crate::sync::lock(&IN_FLIGHT) = Some(batch);
    d.wait_for_callback_grace_period();
    let mut in_flight = crate::sync::lock(&IN_FLIGHT);
    let batch = in_flight.take().expect("only the worker takes the in-flight batch");
    d.run_batch(batch)
}

/// Locks the in-flight batch, for the fork handlers.
pub(crate) fn lock_in_flight() -> MutexGuard<'static, Option<Batch>> {
    crate::sync::lock(&IN_FLIGHT)
}
