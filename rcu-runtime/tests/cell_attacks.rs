//! Attacks on `RcuCell`, its snapshots, `ArcBorrow`, `RcuOld` and the awaited grace periods, from
//! safe code, beyond what `tests/rcu_cell.rs` and `tests/grace_period_state.rs` cover:
//!
//! - wakers whose `Drop`, `wake` or `clone` run user code that calls back into the engine (also a
//!   task, as executors build them, that owns a registered future) or panics, with a payload whose
//!   own drop panics; the engine must never run waker code under its own lock;
//! - futures forgotten by the thousand, dropped after registering, polled again after completing;
//! - an `RcuOld`'s grace period polled in a loop in a quiet process: it must complete;
//! - values whose `Drop` panics (with a bad payload) wherever the cell's old values are freed;
//! - closures that re-enter the cell, wait, drop an `RcuOld` or update other cells;
//! - the owner of a live borrow dropped on the borrowing thread, and an `ArcBorrow` sent to another
//!   thread while a third replaces the value and waits;
//! - `fork` while another thread is inside `copy_update`'s loop, while a future is pending, while
//!   a snapshot lives.
//!
//! Each scenario that could deadlock the engine's own locks, abort, fork or needs a quiet process
//! runs in a copy of this test binary (`isolated`), under a time limit, so that a regression fails
//! its test instead of hanging the others.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, panic_any};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{RcuCell, RcuRef, is_reading, rcu_barrier, read_lock, start_poll, stats, synchronize_rcu};
use test_support::child::{Outcome, Reporter, in_child};
use test_support::{HANG, Tracked, counter, finishes_within, isolated, panic_message, wait_until};

/// The part of the message every "would deadlock" panic shares.
const INSIDE_A_SECTION: &str = "called inside an RCU read-side critical section on the same thread";

/// A waker whose last drop starts a polled grace period: user code that runs wherever the
/// engine drops its copy of the waker, and that takes the engine's grace-period lock.
struct StartsPollOnDrop;

impl Wake for StartsPollOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for StartsPollOnDrop {
    fn drop(&mut self) {
        STARTS_POLL_DROPS.fetch_add(1, Ordering::SeqCst);
        let _ = start_poll();
    }
}

fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_its_future_is_cancelled() {
    if !isolated("a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_its_future_is_cancelled")
    {
        return;
    }
    finishes_within(HANG, "cancelling the future", || {
        let guard = read_lock();
        // Started inside our own section: pending until the guard is dropped.
        let mut future = Box::pin(start_poll().wait_async());
        let waker = Waker::from(Arc::new(StartsPollOnDrop));
        assert!(poll_once(future.as_mut(), &waker).is_pending());
        drop(waker); // the engine's copy is the last one
        drop(future); // withdraws the registration, dropping that copy
        assert_eq!(STARTS_POLL_DROPS.load(Ordering::SeqCst), 1);
        drop(guard);
        synchronize_rcu();
    });
}

#[test]
fn a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_replaced_by_another() {
    if !isolated("a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_replaced_by_another") {
        return;
    }
    finishes_within(HANG, "polling with another waker", || {
        let guard = read_lock();
        let mut future = Box::pin(start_poll().wait_async());
        let first = Waker::from(Arc::new(StartsPollOnDrop));
        assert!(poll_once(future.as_mut(), &first).is_pending());
        drop(first);
        // Polled by another task now: the engine replaces its copy of the first waker.
        let second = Waker::from(Arc::new(StartsPollOnDrop));
        assert!(poll_once(future.as_mut(), &second).is_pending());
        assert_eq!(STARTS_POLL_DROPS.load(Ordering::SeqCst), 1, "the first waker was dropped");
        drop(guard);
        synchronize_rcu();
        drop(future);
    });
}

/// A task as executors build them: the waker is the task, and the task owns a future. Its last
/// drop drops that future, which may itself be registered with the engine.
struct TaskOwningAFuture {
    _future: std::sync::Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
}

impl Wake for TaskOwningAFuture {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn a_task_that_owns_a_registered_future_may_be_released_by_the_engine() {
    if !isolated("a_task_that_owns_a_registered_future_may_be_released_by_the_engine") {
        return;
    }
    finishes_within(HANG, "releasing the task", || {
        let guard = read_lock();
        let mut inner: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(start_poll().wait_async());
        let counting = Counting::new();
        assert!(poll_once(inner.as_mut(), &Waker::from(Arc::clone(&counting))).is_pending());
        let task = Arc::new(TaskOwningAFuture { _future: std::sync::Mutex::new(Some(inner)) });
        let mut outer = Box::pin(start_poll().wait_async());
        assert!(poll_once(outer.as_mut(), &Waker::from(task)).is_pending());
        // The engine holds the task's last copy: cancelling `outer` drops it, and with it the
        // registered `inner`, whose own cancellation goes to the engine again.
        drop(outer);
        drop(guard);
        synchronize_rcu();
        assert_eq!(counting.wakes(), 0, "inner was cancelled, not woken");
    });
}

/// How many `StartsPollOnDrop` wakers have been dropped, in this process.
static STARTS_POLL_DROPS: AtomicUsize = AtomicUsize::new(0);

/// A waker that counts its wake-ups and unparks the thread that made it.
struct Counting {
    thread: thread::Thread,
    wakes: AtomicUsize,
}

impl Counting {
    fn new() -> Arc<Self> {
        Arc::new(Self { thread: thread::current(), wakes: AtomicUsize::new(0) })
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Polls `future` until ready, parking between polls; fails if it is not ready within `limit`.
fn block_on<F: Future>(future: F, limit: Duration) -> F::Output {
    let counting = Counting::new();
    let waker = Waker::from(Arc::clone(&counting));
    let mut future = std::pin::pin!(future);
    let deadline = Instant::now() + limit;
    loop {
        if let Poll::Ready(output) = poll_once(future.as_mut(), &waker) {
            return output;
        }
        assert!(Instant::now() < deadline, "the future was not ready within {limit:?}: it hangs");
        thread::park_timeout(Duration::from_millis(10));
    }
}

/// A panic payload whose destructor panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the panic payload's destructor panics too");
    }
}

/// A value whose destructor panics with a payload that panics when dropped.
struct DropPanicsWithABadPayload;

impl Drop for DropPanicsWithABadPayload {
    fn drop(&mut self) {
        panic_any(PanicsOnDrop);
    }
}

/// Runs `f`, which must panic; returns the payload's message, leaking the payload (its drop may
/// panic).
fn panic_of(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the call did not panic");
    let message = panic_message(&*payload);
    // Some tests panic with a payload whose drop panics: that one's own payload is leaked.
    if let Err(payload_of_the_drop) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(payload_of_the_drop);
    }
    message
}

#[test]
fn a_waker_whose_clone_starts_a_grace_period_may_register_a_future() {
    fn clone(_: *const ()) -> RawWaker {
        // User code inside the waker's clone, which the engine calls while registering.
        let _ = start_poll();
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    if !isolated("a_waker_whose_clone_starts_a_grace_period_may_register_a_future") {
        return;
    }
    finishes_within(HANG, "registering the future", || {
        // SAFETY: the vtable's functions ignore the data pointer and own nothing, so every
        // contract of `RawWakerVTable` holds (a clone is as good as the original, wake and drop
        // release nothing).
        let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
        let guard = read_lock();
        let mut future = Box::pin(start_poll().wait_async());
        assert!(poll_once(future.as_mut(), &waker).is_pending());
        drop(guard);
        synchronize_rcu();
        assert!(poll_once(future.as_mut(), &waker).is_ready());
    });
}

#[test]
fn a_waker_whose_clone_panics_fails_that_poll_only() {
    fn clone(_: *const ()) -> RawWaker {
        panic!("the waker's clone panics");
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the data pointer and own nothing; `clone` never
    // returns, so it never hands out a waker that breaks a contract.
    let bad = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let guard = read_lock();
    let mut future = Box::pin(start_poll().wait_async());
    let message = panic_of(|| {
        let _ = poll_once(future.as_mut(), &bad);
    });
    assert_eq!(message, "the waker's clone panics");
    // The future registers with a good waker afterwards, and is woken.
    let counting = Counting::new();
    let good = Waker::from(Arc::clone(&counting));
    assert!(poll_once(future.as_mut(), &good).is_pending());
    drop(guard);
    synchronize_rcu();
    wait_until(HANG, "the good waker was never woken", || counting.wakes() >= 1);
    assert!(poll_once(future.as_mut(), &good).is_ready());
}

#[test]
fn a_waker_whose_drop_panics_fails_the_cancelling_drop_only() {
    struct DropPanics;
    impl Wake for DropPanics {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for DropPanics {
        fn drop(&mut self) {
            panic!("the waker's drop panics");
        }
    }
    let guard = read_lock();
    let mut future = Box::pin(start_poll().wait_async());
    let waker = Waker::from(Arc::new(DropPanics));
    assert!(poll_once(future.as_mut(), &waker).is_pending());
    drop(waker); // not the last copy: the engine's is, dropped below
    let message = panic_of(|| drop(future));
    assert_eq!(message, "the waker's drop panics");
    assert!(is_reading(), "our own section is untouched");
    drop(guard);
    // The engine works on: a new registration is woken by the next grace period.
    let guard = read_lock();
    let mut future = Box::pin(start_poll().wait_async());
    let counting = Counting::new();
    let good = Waker::from(Arc::clone(&counting));
    assert!(poll_once(future.as_mut(), &good).is_pending());
    drop(guard);
    synchronize_rcu();
    wait_until(HANG, "the good waker was never woken", || counting.wakes() >= 1);
    assert!(poll_once(future.as_mut(), &good).is_ready());
}

#[test]
fn a_waker_that_panics_on_wake_with_a_bad_payload_does_not_stop_the_grace_period_machinery() {
    struct WakePanics;
    impl Wake for WakePanics {
        fn wake(self: Arc<Self>) {
            panic_any(PanicsOnDrop);
        }
    }
    if !isolated("a_waker_that_panics_on_wake_with_a_bad_payload_does_not_stop_the_grace_period_machinery") {
        return;
    }
    let guard = read_lock();
    let target = start_poll();
    let mut first = Box::pin(target.wait_async());
    let mut second = Box::pin(target.wait_async());
    let counting = Counting::new();
    assert!(poll_once(first.as_mut(), &Waker::from(Arc::new(WakePanics))).is_pending());
    assert!(poll_once(second.as_mut(), &Waker::from(Arc::clone(&counting))).is_pending());
    drop(guard);
    // Whoever completes the grace period (the worker, or this thread) wakes both.
    synchronize_rcu();
    wait_until(HANG, "the second waker was never woken", || counting.wakes() >= 1);
    assert!(poll_once(first.as_mut(), &Waker::from(Arc::clone(&counting))).is_ready());
    assert!(poll_once(second.as_mut(), &Waker::from(Arc::clone(&counting))).is_ready());
    // The worker survived and grace periods go on.
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    rcu_runtime::defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier();
    assert!(ran.load(Ordering::SeqCst));
    synchronize_rcu();
}

#[test]
fn a_waker_that_drops_a_fresh_rcu_old_when_woken_gets_it_freed_wherever_it_runs() {
    let drops = counter();
    let cell = Arc::new(RcuCell::new(Box::new(Tracked::new(1, &drops))));
    /// Replaces the cell when woken and drops the `RcuOld` it gets, not yet past its grace
    /// period: on the worker it is freed after the worker's next one, elsewhere the wake waits.
    struct ReplacesAndDrops {
        cell: Arc<RcuCell<Box<Tracked>>>,
        drops: Arc<AtomicUsize>,
        woken: AtomicBool,
    }
    impl Wake for ReplacesAndDrops {
        fn wake(self: Arc<Self>) {
            drop(self.cell.replace(Box::new(Tracked::new(2, &self.drops))));
            self.woken.store(true, Ordering::SeqCst);
        }
    }
    let waker = Arc::new(ReplacesAndDrops {
        cell: Arc::clone(&cell),
        drops: Arc::clone(&drops),
        woken: AtomicBool::new(false),
    });
    let guard = read_lock();
    let mut future = Box::pin(start_poll().wait_async());
    assert!(poll_once(future.as_mut(), &Waker::from(Arc::clone(&waker))).is_pending());
    drop(guard);
    synchronize_rcu();
    wait_until(HANG, "the waker was never woken", || waker.woken.load(Ordering::SeqCst));
    rcu_barrier();
    wait_until(HANG, "the value dropped by the wake-up was never freed", || {
        drops.load(Ordering::SeqCst) == 1
    });
    assert_eq!(cell.read().unwrap().check(), 2);
    drop(future);
}

#[test]
fn forgotten_registered_futures_are_woken_by_the_next_grace_period_and_release_their_wakers() {
    const N: usize = 20_000;
    let drops = counter();
    let counting = Counting::new();
    let waker = Waker::from(Arc::clone(&counting));
    let guard = read_lock();
    // Grace-period futures and `RcuOld` futures, registered (our own section keeps them
    // pending), then forgotten mid-wait: their registrations stay with the engine.
    let target = start_poll();
    for i in 0..N {
        let mut future = Box::pin(target.wait_async());
        assert!(poll_once(future.as_mut(), &waker).is_pending());
        std::mem::forget(future);
        if i % 1000 == 0 {
            let old = RcuCell::new(Box::new(Tracked::new(i as u64, &drops))).take().unwrap();
            let mut future = Box::pin(old.wait_async());
            assert!(poll_once(future.as_mut(), &waker).is_pending());
            std::mem::forget(future); // the value is leaked with it
        }
    }
    drop(guard);
    synchronize_rcu();
    let expected = N + N / 1000;
    wait_until(HANG, "not every forgotten future was woken", || counting.wakes() == expected);
    drop(waker);
    assert_eq!(Arc::strong_count(&counting), 1, "the engine kept a waker it had woken");
    assert_eq!(drops.load(Ordering::SeqCst), 0, "a forgotten future's value is leaked, not freed");
}

#[test]
fn a_completed_rcu_old_future_polled_again_panics_clearly_and_a_grace_period_future_stays_ready() {
    let cell = RcuCell::new(Box::new(1));
    let old = cell.replace(Box::new(2)).unwrap();
    let state = old.grace_period();
    let mut future = Box::pin(old.wait_async());
    synchronize_rcu();
    let counting = Counting::new();
    let waker = Waker::from(Arc::clone(&counting));
    assert!(matches!(poll_once(future.as_mut(), &waker), Poll::Ready(value) if *value == 1));
    let message = panic_of(|| {
        let _ = poll_once(future.as_mut(), &waker);
    });
    assert!(message.contains("polled after it completed"), "{message}");
    drop(future); // nothing left to drop
    let mut future = Box::pin(state.wait_async());
    for _ in 0..3 {
        assert!(poll_once(future.as_mut(), &waker).is_ready());
    }
    assert_eq!(counting.wakes(), 0);
}

#[test]
fn a_cancelled_rcu_old_future_whose_grace_period_elapsed_frees_the_value_at_once() {
    let drops = counter();
    let cell = RcuCell::new(Box::new(Tracked::new(1, &drops)));
    let guard = read_lock();
    let old = cell.replace(Box::new(Tracked::new(2, &drops))).unwrap();
    let mut future = Box::pin(old.wait_async());
    let waker = Waker::from(Counting::new());
    assert!(poll_once(future.as_mut(), &waker).is_pending());
    drop(guard);
    synchronize_rcu(); // elapsed, woken, but not polled again
    drop(future);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped on this thread, not deferred");
}

#[test]
fn dropping_the_cell_on_the_thread_that_borrows_from_it_panics_and_leaks_the_borrowed_value() {
    let drops = counter();
    let cell = RcuCell::new(Box::new(Tracked::new(1, &drops)));
    let guard = read_lock();
    let borrowed: &Tracked = cell.dereference(&guard).unwrap();
    let message = panic_of(move || drop(cell));
    assert!(message.contains(INSIDE_A_SECTION), "{message}");
    assert_eq!(borrowed.check(), 1, "the borrow is still valid");
    drop(guard);
    synchronize_rcu();
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 0, "leaked, never freed under the borrow");
}

#[test]
fn a_value_whose_drop_panics_with_a_bad_payload_may_be_freed_on_the_worker() {
    if !isolated("a_value_whose_drop_panics_with_a_bad_payload_may_be_freed_on_the_worker") {
        return;
    }
    let cell = RcuCell::new(Box::new(DropPanicsWithABadPayload));
    let panics_before = stats().callback_panics;
    cell.replace(Box::new(DropPanicsWithABadPayload)).unwrap().defer_drop();
    rcu_barrier();
    assert!(stats().callback_panics > panics_before, "the panic was caught and counted");
    // Through an abandoned `wait_async` future too.
    let old = cell.replace(Box::new(DropPanicsWithABadPayload)).unwrap();
    let guard = read_lock();
    let mut future = Box::pin(old.wait_async());
    assert!(poll_once(future.as_mut(), &Waker::from(Counting::new())).is_pending());
    drop(future); // handed to the worker
    drop(guard);
    rcu_barrier();
    synchronize_rcu();
    std::mem::forget(cell);
}

#[test]
fn a_value_whose_drop_panics_with_a_bad_payload_unwinds_to_whoever_drops_its_rcu_old() {
    let cell = RcuCell::new(Box::new(DropPanicsWithABadPayload));
    let message = panic_of(|| drop(cell.take()));
    assert_eq!(message, "<not a string>");
    assert!(cell.is_null());
    let message = panic_of(|| drop(RcuCell::new(Box::new(DropPanicsWithABadPayload))));
    assert_eq!(message, "<not a string>");
    assert!(cell.replace(Box::new(DropPanicsWithABadPayload)).is_none());
    let message = panic_of(|| drop(cell.take().unwrap().wait()));
    assert_eq!(message, "<not a string>");
    synchronize_rcu();
    rcu_barrier();
}

#[test]
fn a_closure_that_takes_the_same_cell_runs_again_with_the_cell_empty() {
    let cell = RcuCell::new(Box::new(1));
    let mut seen = Vec::new();
    let old = cell.copy_update(|current| {
        seen.push(current.copied());
        if seen.len() == 1 {
            cell.take().unwrap().defer_drop();
        }
        Some(Box::new(current.copied().unwrap_or(0) + 10))
    });
    assert!(old.is_none(), "the cell was empty when the exchange won");
    assert_eq!(seen, [Some(1), None]);
    assert_eq!(*cell.read().unwrap(), 10);
}

#[test]
fn waiting_or_dropping_an_rcu_old_inside_a_closure_panics_and_publishes_nothing() {
    let cell = RcuCell::new(Box::new(1));
    let other = RcuCell::new(Box::new(100));
    type Misuse<'a> = Box<dyn Fn() + 'a>;
    let misuses: Vec<(&str, Misuse<'_>)> = vec![
        ("dropping an RcuOld", Box::new(|| drop(other.replace(Box::new(101))))),
        ("RcuOld::wait()", Box::new(|| drop(other.replace(Box::new(102)).unwrap().wait()))),
        ("rcu_barrier()", Box::new(rcu_barrier)),
        ("synchronize_rcu()", Box::new(synchronize_rcu)),
        ("GpState::wait()", Box::new(|| start_poll().wait())),
    ];
    for (what, misuse) in &misuses {
        let message = panic_of(|| {
            let _ = cell.fetch_update(|_| {
                misuse();
                Some(Box::new(2))
            });
        });
        assert!(message.starts_with(what) && message.contains(INSIDE_A_SECTION), "{what}: {message}");
        assert!(!is_reading(), "{what}: the round's section ended");
        assert_eq!(*cell.read().unwrap(), 1, "{what}: nothing published");
    }
    // The same inside `RcuRef::map`: the snapshot's section ends with the unwinding.
    let message = panic_of(|| {
        let _ = RcuRef::map(cell.read().unwrap(), |v| {
            drop(cell.replace(Box::new(3)));
            v
        });
    });
    assert!(message.contains(INSIDE_A_SECTION), "{message}");
    assert!(!is_reading());
    assert_eq!(*cell.read().unwrap(), 3, "published before the misuse; the old value is leaked");
    let message = panic_of(|| {
        let _ = RcuRef::map(cell.read().unwrap(), |_| -> &u32 { panic_any(PanicsOnDrop) });
    });
    assert_eq!(message, "<not a string>");
    assert!(!is_reading());
}

#[test]
fn a_closure_may_read_and_update_other_cells_and_its_own_under_its_section() {
    let cell = RcuCell::new(Box::new(1));
    let other = RcuCell::new(Box::new(10));
    let mut rounds = 0;
    let old = cell.fetch_update(|current| {
        rounds += 1;
        let current = *current.unwrap();
        // Another cell: read it (nested section), update it through every method.
        let seen = *other.read().unwrap();
        other.replace(Box::new(seen + 1)).unwrap().defer_drop();
        other.copy_update(|v| Some(Box::new(v.unwrap() + 1))).unwrap().defer_drop();
        assert!(matches!(other.fetch_update(|_| None), Err(rcu_runtime::Unchanged)));
        // This cell, read and left alone: the round still wins.
        assert_eq!(*cell.read().unwrap(), current);
        assert!(matches!(cell.fetch_update(|_| None), Err(rcu_runtime::Unchanged)));
        Some(Box::new(current + seen))
    });
    assert_eq!(*old.unwrap().unwrap().wait(), 1);
    assert_eq!(rounds, 1);
    assert_eq!(*cell.read().unwrap(), 11);
    assert_eq!(*other.read().unwrap(), 12);
}

/// Runs `check` in a forked child and asserts that it passed.
fn in_forked_child(check: impl FnOnce(&Reporter) -> Result<(), String>) {
    // SAFETY: the callers run in a process of their own (`isolated`), where no other test runs;
    // the child uses only the engine, whose fork handlers keep it consistent, and its own memory.
    let outcome = unsafe { in_child(HANG, check) };
    assert_eq!(outcome, Outcome::Passed);
}

#[test]
fn fork_while_another_thread_copy_updates_leaves_the_child_a_usable_cell() {
    if !isolated("fork_while_another_thread_copy_updates_leaves_the_child_a_usable_cell") {
        return;
    }
    let cell = Arc::new(RcuCell::new(Box::new(0_u64)));
    let stop = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let updater = {
        let (cell, stop) = (Arc::clone(&cell), Arc::clone(&stop));
        thread::spawn(move || {
            let mut n = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                cell.copy_update(|v| Some(Box::new(v.unwrap() + 1))).unwrap().defer_drop();
                n += 1;
                if n == 100 {
                    started_tx.send(()).unwrap();
                }
            }
            n
        })
    };
    started_rx.recv().unwrap();
    for _ in 0..3 {
        in_forked_child(|_| {
            // The updater may have been inside its section at the fork: it never ends here, so
            // the child must not wait for a grace period; updating and reading need none.
            let before = *cell.read().ok_or("the child's cell is empty")?;
            cell.copy_update(|v| Some(Box::new(v.unwrap() + 1))).unwrap().defer_drop();
            let after = *cell.read().unwrap();
            if after != before + 1 {
                return Err(format!("{before} then {after}"));
            }
            cell.take().unwrap().defer_drop();
            if cell.read().is_some() {
                return Err("take left a value".into());
            }
            Ok(())
        });
    }
    stop.store(true, Ordering::Relaxed);
    let updates = updater.join().unwrap();
    assert_eq!(*cell.read().unwrap(), updates, "the parent lost no update");
}

#[test]
fn fork_while_a_wait_async_future_is_pending_lets_both_processes_complete_it() {
    if !isolated("fork_while_a_wait_async_future_is_pending_lets_both_processes_complete_it") {
        return;
    }
    let drops = counter();
    let cell = RcuCell::new(Box::new(Tracked::new(1, &drops)));
    let guard = read_lock();
    let old = cell.replace(Box::new(Tracked::new(2, &drops))).unwrap();
    let mut future = Box::pin(old.wait_async());
    let counting = Counting::new();
    assert!(poll_once(future.as_mut(), &Waker::from(Arc::clone(&counting))).is_pending());
    let mut guard = Some(guard);
    let mut future = Some(future);
    in_forked_child(|_| {
        // The forking thread's section is the child's own: it can end it.
        drop(guard.take());
        let value = block_on(future.take().unwrap(), HANG);
        if value.check() != 1 {
            return Err("wrong value".into());
        }
        drop(value);
        synchronize_rcu();
        rcu_barrier();
        Ok(())
    });
    drop(guard);
    let value = block_on(future.unwrap(), HANG);
    assert_eq!(value.check(), 1);
    drop(value);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn fork_while_a_snapshot_is_alive_keeps_it_valid_on_both_sides() {
    if !isolated("fork_while_a_snapshot_is_alive_keeps_it_valid_on_both_sides") {
        return;
    }
    let drops = counter();
    let cell = RcuCell::new(Box::new(Tracked::new(1, &drops)));
    let snapshot = cell.read().unwrap();
    let old = cell.replace(Box::new(Tracked::new(2, &drops))).unwrap();
    let mut snapshot = Some(snapshot);
    let mut old = Some(old);
    in_forked_child(|_| {
        let snap = snapshot.take().unwrap();
        if snap.check() != 1 {
            return Err("the snapshot changed".into());
        }
        drop(snap);
        // The snapshot's section was the forking thread's, so it has ended: the old value can be
        // waited for and freed here.
        let value = old.take().unwrap().wait();
        if value.check() != 1 {
            return Err("wrong old value".into());
        }
        Ok(())
    });
    let snapshot = snapshot.unwrap();
    assert_eq!(snapshot.check(), 1);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the child freed its copy only");
    drop(snapshot);
    assert_eq!(old.unwrap().wait().check(), 1);
}

#[test]
fn polling_the_grace_period_of_an_rcu_old_drives_it_to_completion() {
    // In a process of its own: no other test's grace periods complete it by chance.
    if !isolated("polling_the_grace_period_of_an_rcu_old_drives_it_to_completion") {
        return;
    }
    let cell = RcuCell::new(Box::new(1));
    synchronize_rcu(); // the engine has started; no grace period is running or requested now
    let old = cell.replace(Box::new(2)).unwrap();
    let state = old.grace_period();
    // GpState::poll's documented loop: the callback worker drives the grace period.
    wait_until(HANG, "the RcuOld's grace period never completed while polled", || state.poll());
    assert_eq!(*old.wait(), 1);
}

#[test]
fn an_arc_borrow_sent_to_another_thread_stays_valid_while_a_third_replaces_and_waits() {
    let drops = counter();
    let cell = Arc::new(RcuCell::new(Arc::new(Tracked::new(1, &drops))));
    let guard = read_lock();
    let borrow = cell.dereference(&guard).unwrap();
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let replacer = {
        let (cell, drops) = (Arc::clone(&cell), Arc::clone(&drops));
        thread::spawn(move || {
            let old = cell.replace(Arc::new(Tracked::new(2, &drops))).unwrap();
            waiting_tx.send(()).unwrap();
            old.wait() // waits for our guard
        })
    };
    waiting_rx.recv().unwrap();
    // Another thread reads through the borrow and makes an owned `Arc` of it while the replacer
    // waits; the cell's own strong count is the replacer's now.
    let owned = thread::scope(|s| {
        s.spawn(move || {
            assert_eq!(borrow.check(), 1);
            borrow.to_arc()
        })
        .join()
        .unwrap()
    });
    thread::sleep(Duration::from_millis(20));
    assert!(!replacer.is_finished(), "the old value was handed back under a live borrow");
    drop(guard);
    let old = test_support::join_within(replacer, HANG, "the replacer");
    assert!(Arc::ptr_eq(&old, &owned));
    drop(old);
    assert_eq!(owned.check(), 1, "the owned Arc keeps the value");
    drop(owned);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
