//! Attacks on `RcuMutex`, its guard, the reader view, the updater's projection (`RcuMut`),
//! `PinnedDrop`, `#[rcu_head]` with `drop_async`, and `RcuList`s reached through `#[rcu]` fields,
//! from safe code, beyond what `tests/mutex_guard.rs`, `mutex_readers.rs`, `derive_projection.rs`,
//! `derive_has_field.rs` and `reentrancy.rs` cover:
//!
//! - user code that re-enters the mutex while its lock is held: the data's `Debug` locking the
//!   mutex or formatting it again from inside `Debug for RcuMutex`; a `PinnedDrop` of a value
//!   replaced through `RcuMut` that locks the same mutex when the updater drops the `RcuOld`
//!   under the lock; the `Drop` of list nodes (an `RcuList` behind an `#[rcu]` field) that lock
//!   the mutex while the old list is dropped under it: each is a clear panic, never a deadlock
//!   or an abort, and the mutex is usable afterwards;
//! - the callback worker blocked (inside a `PinnedDrop` queued by `drop_async`) on the lock that
//!   an updater holds: grace periods, and dropping an `RcuOld`, still complete under that lock;
//! - `PinnedDrop`s that panic, with a payload that panics when dropped, on the worker (two in one
//!   batch, and one inside a boxed `RcuMutex`) and on the user thread (dropping the mutex); two
//!   `#[rcu]` pointees of one struct that do the same on the worker (two late drops); a
//!   `PinnedDrop` that waits for a grace period and then for the callbacks on the worker: no
//!   abort, every field is dropped, `rcu_barrier` returns;
//! - the owner of a live reader borrow moved away: the mutex sent to another thread and dropped
//!   there, the last `Arc` of it dropped there, its data taken out with `into_inner` there, two
//!   mutexes swapped and one dropped: each drop waits for the borrowing section;
//! - `mem::swap` of `RcuMut`s of two locked mutexes (only the handles move);
//! - `mem::forget` of guards (the lock stays held: the holder panics, other threads see it held,
//!   `&mut` access, `into_inner` and drop still work), and of `RcuMut`s and projections by the
//!   thousand;
//! - `fork` while another thread holds the lock, while the forking thread holds it, while a
//!   `PinnedDrop` runs on the worker, and while a `drop_async` of a derived struct is queued;
//! - derive shapes used through the runtime: `Rcu<Arc<RcuMutex<_>>>` (a mutex that readers lock
//!   through the outer view), `Rcu<RcuBox<_>>`, zero-sized pointees and fields, fields named
//!   like the generated items and methods.
//!
//! Each scenario that could abort, hang, fork or count callback panics runs in a copy of this
//! test binary (`isolated`), under a time limit, so that a regression fails its test instead of
//! taking the others down.

use core::pin::pin;
use std::fmt;
use std::marker::PhantomPinned;
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind, panic_any};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, mpsc};
use std::thread;
use std::time::Duration;

use rcu_runtime::{
    PinnedDrop, Rcu, RcuBox, RcuHead, RcuLinks, RcuList, RcuMutex, RcuProtected, rcu_barrier, read_lock,
    stats, synchronize_rcu,
};
use test_support::child::{Outcome, Reporter, in_child};
use test_support::{
    HANG, Tracked, counter, finishes_within, isolated, join_within, panic_message, wait_until,
};

/// The start of the message of a re-entrant `RcuMutex::lock`.
const REENTERED: &str = "RcuMutex::lock() called while this thread holds the same structure's updaters' lock";

/// The message of the panic `f` raises; fails the test if it returns.
fn panics(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    panic_message(&*payload)
}

/// A panic payload whose own drop panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the panic payload's drop panics too");
    }
}

/// Drops a payload caught from `panic_any(PanicsOnDrop)`: its drop panics, which this catches;
/// that second payload is a plain message.
fn drop_bad_payload(payload: Box<dyn std::any::Any + Send>) {
    assert!(payload.is::<PanicsOnDrop>(), "{}", panic_message(&*payload));
    let second = catch_unwind(AssertUnwindSafe(|| drop(payload))).expect_err("the payload's drop panics");
    assert_eq!(panic_message(&*second), "the panic payload's drop panics too");
}

/// Runs `check` in a forked child and asserts that it passed.
fn in_forked_child(check: impl FnOnce(&Reporter) -> Result<(), String>) {
    // SAFETY: the callers run in a process of their own (`isolated`), where no other test runs;
    // the child uses only the engine, whose fork handlers keep it consistent, its own memory, and
    // mutexes whose holders at the fork it knows.
    let outcome = unsafe { in_child(HANG, check) };
    assert_eq!(outcome, Outcome::Passed);
}

// ---------------------------------------------------------------------------------------------
// `Debug` that re-enters the mutex.

/// What `Shown`'s `Debug` does besides printing.
static SHOWN_MODE: AtomicU8 = AtomicU8::new(PLAIN);
const PLAIN: u8 = 0;
const LOCKS: u8 = 1;
const FORMATS_AGAIN: u8 = 2;

#[derive(RcuProtected)]
struct Shown {
    #[rcu]
    value: Rcu<Box<u32>>,
    formatted: u32,
}

static SHOWN: LazyLock<RcuMutex<Shown>> =
    LazyLock::new(|| RcuMutex::new(Shown { value: Rcu::new(Box::new(7)), formatted: 0 }));

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match SHOWN_MODE.load(Ordering::SeqCst) {
            LOCKS => drop(SHOWN.lock()),
            FORMATS_AGAIN => return write!(f, "Shown({:?})", *SHOWN),
            _ => {}
        }
        write!(f, "Shown")
    }
}

#[test]
fn debug_of_the_data_that_locks_the_mutex_again_panics_and_that_formats_it_again_sees_it_locked() {
    assert_eq!(format!("{:?}", *SHOWN), "RcuMutex { data: Shown }");
    SHOWN_MODE.store(FORMATS_AGAIN, Ordering::SeqCst);
    // `Debug for RcuMutex` holds the lock (`try_lock`) while it formats the data: the inner
    // format sees it locked instead of deadlocking.
    assert_eq!(format!("{:?}", *SHOWN), "RcuMutex { data: Shown(RcuMutex { data: <locked>, .. }) }");
    let guard = SHOWN.lock();
    assert_eq!(format!("{guard:?}"), "Shown(RcuMutex { data: <locked>, .. })");
    drop(guard);
    SHOWN_MODE.store(LOCKS, Ordering::SeqCst);
    let message = panics(|| drop(format!("{:?}", *SHOWN)));
    assert!(message.starts_with(REENTERED), "{message}");
    SHOWN_MODE.store(PLAIN, Ordering::SeqCst);
    // The panic released the lock.
    let mut guard = SHOWN.try_lock().expect("the panic released the lock");
    *guard.project().formatted += 1;
    drop(guard);
    assert_eq!(SHOWN.lock().formatted, 1);
    let g = read_lock();
    assert_eq!(SHOWN.rcu().value().dereference(&g).copied(), Some(7));
}

// ---------------------------------------------------------------------------------------------
// A `PinnedDrop` that locks the mutex whose update freed the value.

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Relocks {
    tracked: Tracked,
    #[rcu]
    inner: Rcu<Box<Tracked>>,
}

impl PinnedDrop for Relocks {
    fn drop(self: Pin<&mut Self>) {
        let mut holder = RELOCKED.lock();
        *holder.project().relocks += 1;
    }
}

#[derive(RcuProtected)]
struct Holder {
    #[rcu]
    current: Rcu<Box<Relocks>>,
    relocks: u32,
}

static RELOCKED: LazyLock<RcuMutex<Holder>> =
    LazyLock::new(|| RcuMutex::new(Holder { current: Rcu::null(), relocks: 0 }));

fn relocks(id: u64, drops: &Arc<AtomicUsize>) -> Box<Relocks> {
    Box::new(Relocks {
        tracked: Tracked::new(id, drops),
        inner: Rcu::new(Box::new(Tracked::new(id + 100, drops))),
    })
}

#[test]
fn a_pinned_drop_that_locks_the_mutex_it_was_replaced_under_panics_clearly_and_drops_every_field() {
    let drops = counter();
    let mut w = RELOCKED.lock();
    assert!(w.project().current.replace(relocks(1, &drops)).is_none());
    let old = w.project().current.replace(relocks(2, &drops)).expect("the first value");
    // Dropping the `RcuOld` waits for a grace period, then drops the value here, under the lock:
    // its `PinnedDrop` locks the same mutex.
    let message = panics(|| drop(old));
    assert!(message.starts_with(REENTERED), "{message}");
    // The fields were dropped all the same (the `Rcu` field waits for a grace period of its own).
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    let g = read_lock();
    let current = RELOCKED.rcu().current().dereference(&g).expect("the second value");
    assert_eq!(current.tracked.check(), 2);
    drop(g);
    drop(w);
    // Unlocked by the guard's drop; the panic did not poison anything.
    assert_eq!(RELOCKED.lock().relocks, 0);
    // Freed on the worker, whose `PinnedDrop` takes the free lock.
    RELOCKED.lock().project().current.take().expect("the second value").defer_drop();
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert_eq!(RELOCKED.lock().relocks, 1);
}

// ---------------------------------------------------------------------------------------------
// The worker blocked on the lock that an updater holds.

#[derive(RcuProtected)]
struct Gate {
    #[rcu]
    value: Rcu<Box<u32>>,
}

static GATE: LazyLock<RcuMutex<Gate>> =
    LazyLock::new(|| RcuMutex::new(Gate { value: Rcu::new(Box::new(0)) }));
static GATE_ENTERED: AtomicBool = AtomicBool::new(false);
static GATE_PASSED: AtomicUsize = AtomicUsize::new(0);

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct LocksGateOnDrop {
    #[rcu_head]
    head: RcuHead,
}

impl PinnedDrop for LocksGateOnDrop {
    fn drop(self: Pin<&mut Self>) {
        GATE_ENTERED.store(true, Ordering::SeqCst);
        let _gate = GATE.lock();
        GATE_PASSED.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn grace_periods_complete_under_a_lock_that_the_callback_worker_waits_for() {
    if !isolated("grace_periods_complete_under_a_lock_that_the_callback_worker_waits_for") {
        return;
    }
    finishes_within(HANG, "waiting for grace periods under the lock the worker waits for", || {
        let mut w = GATE.lock();
        let mut queued = pin!(Rcu::new(Box::new(LocksGateOnDrop { head: RcuHead::new() })));
        queued.as_mut().take().expect("published").drop_async();
        wait_until(HANG, "the worker runs the PinnedDrop", || GATE_ENTERED.load(Ordering::SeqCst));
        // The worker now waits for our lock. Grace periods must not need it.
        synchronize_rcu();
        let old = w.project().value.replace(Box::new(1)).expect("published");
        assert_eq!(*old.wait(), 0);
        let old = w.project().value.replace(Box::new(2)).expect("published");
        drop(old);
        assert_eq!(GATE_PASSED.load(Ordering::SeqCst), 0, "the worker got a lock we hold");
        drop(w);
        rcu_barrier();
        assert_eq!(GATE_PASSED.load(Ordering::SeqCst), 1);
    });
}

// ---------------------------------------------------------------------------------------------
// `PinnedDrop`s that panic, or wait, on the worker and on the user thread.

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct BadOnDrop {
    #[rcu_head]
    head: RcuHead,
    tracked: Tracked,
    #[rcu]
    inner: Rcu<Box<Tracked>>,
}

impl PinnedDrop for BadOnDrop {
    fn drop(self: Pin<&mut Self>) {
        panic_any(PanicsOnDrop);
    }
}

fn bad_on_drop(id: u64, drops: &Arc<AtomicUsize>) -> BadOnDrop {
    BadOnDrop {
        head: RcuHead::new(),
        tracked: Tracked::new(id, drops),
        inner: Rcu::new(Box::new(Tracked::new(id + 100, drops))),
    }
}

#[test]
fn pinned_drops_panicking_with_a_bad_payload_on_the_worker_drop_every_field_and_do_not_abort() {
    if !isolated("pinned_drops_panicking_with_a_bad_payload_on_the_worker_drop_every_field_and_do_not_abort")
    {
        return;
    }
    let drops = counter();
    let before = stats().callback_panics;
    // Two in one batch through their `#[rcu_head]`...
    let mut first = pin!(Rcu::new(Box::new(bad_on_drop(1, &drops))));
    let mut second = pin!(Rcu::new(Box::new(bad_on_drop(2, &drops))));
    first.as_mut().take().expect("published").drop_async();
    second.as_mut().take().expect("published").drop_async();
    // ...and one inside a mutex, boxed and freed by `defer_drop`.
    let mut boxed = pin!(Rcu::new(Box::new(RcuMutex::new(bad_on_drop(3, &drops)))));
    boxed.as_mut().take().expect("published").defer_drop();
    finishes_within(HANG, "rcu_barrier after panicking PinnedDrops", rcu_barrier);
    assert_eq!(drops.load(Ordering::SeqCst), 6, "every field, and the values of the `Rcu` fields");
    assert_eq!(stats().callback_panics - before, 3);
    finishes_within(HANG, "a second rcu_barrier", rcu_barrier);
}

/// A pointee whose drop panics with a payload that panics when dropped.
struct BadPointee(Tracked);

impl Drop for BadPointee {
    fn drop(&mut self) {
        assert_ne!(self.0.check(), 0);
        panic_any(PanicsOnDrop);
    }
}

#[derive(RcuProtected)]
struct TwoBadPointees {
    #[rcu_head]
    head: RcuHead,
    #[rcu]
    first: Rcu<Box<BadPointee>>,
    #[rcu]
    second: Rcu<Box<BadPointee>>,
}

#[test]
fn two_rcu_fields_whose_pointees_panic_with_bad_payloads_when_dropped_on_the_worker_do_not_abort() {
    if !isolated(
        "two_rcu_fields_whose_pointees_panic_with_bad_payloads_when_dropped_on_the_worker_do_not_abort",
    ) {
        return;
    }
    let drops = counter();
    let value = TwoBadPointees {
        head: RcuHead::new(),
        first: Rcu::new(Box::new(BadPointee(Tracked::new(1, &drops)))),
        second: Rcu::new(Box::new(BadPointee(Tracked::new(2, &drops)))),
    };
    // On the worker, each `Rcu` field's value is dropped late, after a grace period of its own,
    // each drop caught on its own: two panics in one batch, no panic while unwinding.
    let mut rcu = pin!(Rcu::new(Box::new(value)));
    rcu.as_mut().take().expect("published").drop_async();
    finishes_within(HANG, "rcu_barrier after two panicking late drops", rcu_barrier);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    finishes_within(HANG, "a second rcu_barrier", rcu_barrier);
}

#[test]
fn dropping_a_mutex_whose_pinned_drop_panics_with_a_bad_payload_drops_every_field() {
    let drops = counter();
    let m = RcuMutex::new(bad_on_drop(1, &drops));
    let payload = catch_unwind(AssertUnwindSafe(|| drop(m))).expect_err("the PinnedDrop panics");
    drop_bad_payload(payload);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    // The same through `into_inner`.
    let inner = RcuMutex::new(bad_on_drop(2, &drops)).into_inner();
    let payload = catch_unwind(AssertUnwindSafe(|| drop(inner))).expect_err("the PinnedDrop panics");
    drop_bad_payload(payload);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn an_updater_panicking_with_a_bad_payload_under_the_lock_leaves_the_mutex_usable() {
    let drops = counter();
    let m = owned(1, &drops);
    let payload = catch_unwind(AssertUnwindSafe(|| {
        let mut w = m.lock();
        w.project().value.replace(Box::new(Tracked::new(2, &drops))).expect("published").defer_drop();
        panic_any(PanicsOnDrop);
    }))
    .expect_err("the updater panicked");
    drop_bad_payload(payload);
    let mut w = m.try_lock().expect("unlocked by the unwinding");
    let g = read_lock();
    assert_eq!(w.value.dereference(&g).map(Tracked::check), Some(2), "the update before the panic is kept");
    drop(g);
    w.project().value.replace(Box::new(Tracked::new(3, &drops))).expect("published").defer_drop();
    drop(w);
    drop(m);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    finishes_within(HANG, "rcu_barrier", rcu_barrier);
}

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct WaitsOnDrop {
    #[rcu_head]
    head: RcuHead,
    tracked: Tracked,
    #[rcu]
    inner: Rcu<Box<Tracked>>,
}

impl PinnedDrop for WaitsOnDrop {
    fn drop(self: Pin<&mut Self>) {
        // Allowed on the worker (it only delays the callbacks behind this one)...
        synchronize_rcu();
        WAITED.store(true, Ordering::SeqCst);
        // ...but waiting for the callbacks would wait for itself: a panic.
        rcu_barrier();
    }
}

static WAITED: AtomicBool = AtomicBool::new(false);

#[test]
fn a_pinned_drop_that_waits_for_callbacks_on_the_worker_panics_and_still_drops_every_field() {
    if !isolated("a_pinned_drop_that_waits_for_callbacks_on_the_worker_panics_and_still_drops_every_field") {
        return;
    }
    let drops = counter();
    let before = stats().callback_panics;
    let value = WaitsOnDrop {
        head: RcuHead::new(),
        tracked: Tracked::new(1, &drops),
        inner: Rcu::new(Box::new(Tracked::new(2, &drops))),
    };
    let mut rcu = pin!(Rcu::new(Box::new(value)));
    rcu.as_mut().take().expect("published").drop_async();
    finishes_within(HANG, "rcu_barrier after a PinnedDrop that waits", rcu_barrier);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert!(WAITED.load(Ordering::SeqCst), "synchronize_rcu on the worker returns");
    assert_eq!(stats().callback_panics - before, 1, "rcu_barrier on the worker is refused with a panic");
}

// ---------------------------------------------------------------------------------------------
// A list behind an `#[rcu]` field, whose nodes lock the mutex when dropped.

#[derive(RcuProtected)]
struct Node {
    #[rcu_links]
    links: RcuLinks,
    tracked: Tracked,
}

impl Drop for Node {
    fn drop(&mut self) {
        drop(LISTS.lock());
    }
}

#[derive(RcuProtected)]
struct Lists {
    #[rcu]
    list: Rcu<Box<RcuList<Node>>>,
}

static LISTS: LazyLock<RcuMutex<Lists>> = LazyLock::new(|| RcuMutex::new(Lists { list: Rcu::null() }));

#[test]
fn list_nodes_that_lock_the_mutex_when_the_old_list_is_dropped_under_it_panic_once_after_all_are_dropped() {
    if !isolated(
        "list_nodes_that_lock_the_mutex_when_the_old_list_is_dropped_under_it_panic_once_after_all_are_dropped",
    ) {
        return;
    }
    let drops = counter();
    let list = Box::new(RcuList::new());
    for id in 0..3 {
        list.push_back(Box::new(Node { links: RcuLinks::new(), tracked: Tracked::new(id, &drops) }));
    }
    assert!(LISTS.lock().project().list.replace(list).is_none());
    {
        // Readers reach the list through the view, and may even update it (its own lock).
        let g = read_lock();
        let list = LISTS.rcu().list().dereference(&g).expect("published");
        assert_eq!(list.iter(&g).map(|n| n.tracked.check()).collect::<Vec<_>>(), [0, 1, 2]);
        list.push_front(Box::new(Node { links: RcuLinks::new(), tracked: Tracked::new(9, &drops) }));
    }
    let mut w = LISTS.lock();
    let old = w.project().list.replace(Box::new(RcuList::new())).expect("published");
    // Every node's `Drop` locks the mutex this thread holds: each panics, the list drops the rest
    // and goes on with the first panic (no panic while unwinding, no abort).
    let message = panics(|| drop(old));
    assert!(message.starts_with(REENTERED), "{message}");
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    drop(w);
    let g = read_lock();
    assert_eq!(LISTS.rcu().list().dereference(&g).expect("published").len(), 0);
    drop(g);
    LISTS.lock().project().list.take().expect("published").defer_drop();
    finishes_within(HANG, "rcu_barrier", rcu_barrier);
}

// ---------------------------------------------------------------------------------------------
// The owner of a live borrow moved away.

#[derive(RcuProtected)]
struct Owned {
    #[rcu]
    value: Rcu<Box<Tracked>>,
}

fn owned(id: u64, drops: &Arc<AtomicUsize>) -> RcuMutex<Owned> {
    RcuMutex::new(Owned { value: Rcu::new(Box::new(Tracked::new(id, drops))) })
}

/// Runs `dispose` on another thread while this thread borrows the value of `m`'s `#[rcu]` field
/// under a guard: `dispose` must not free it before the guard is dropped.
fn borrow_while_another_thread_disposes<M: Send + 'static>(
    m: M,
    view: impl FnOnce(&M) -> &Rcu<Box<Tracked>>,
    dispose: impl FnOnce(M) + Send + 'static,
    drops: &Arc<AtomicUsize>,
) {
    let g = read_lock();
    let borrowed: &Tracked = view(&m).dereference(&g).expect("published");
    let done = Arc::new(AtomicBool::new(false));
    let disposer = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            dispose(m);
            done.store(true, Ordering::SeqCst);
        })
    };
    thread::sleep(Duration::from_millis(30));
    assert!(!done.load(Ordering::SeqCst), "the owner was freed while a reader borrowed its value");
    assert_eq!(borrowed.check(), 1);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(g);
    join_within(disposer, HANG, "the disposing thread");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_mutex_moved_to_another_thread_and_dropped_there_waits_for_the_borrowing_reader() {
    let drops = counter();
    borrow_while_another_thread_disposes(owned(1, &drops), |m| m.rcu().value(), drop, &drops);
}

#[test]
fn the_last_arc_of_a_mutex_dropped_on_another_thread_waits_for_the_borrowing_reader() {
    let drops = counter();
    borrow_while_another_thread_disposes(Arc::new(owned(1, &drops)), |m| m.rcu().value(), drop, &drops);
}

#[test]
fn into_inner_on_another_thread_then_dropping_waits_for_the_borrowing_reader() {
    let drops = counter();
    borrow_while_another_thread_disposes(
        owned(1, &drops),
        |m| m.rcu().value(),
        |m| drop(m.into_inner()),
        &drops,
    );
}

#[test]
fn a_mutex_swapped_with_another_then_dropped_elsewhere_waits_for_the_borrowing_reader() {
    let drops = counter();
    let others = counter();
    let pair = (owned(1, &drops), owned(2, &others));
    borrow_while_another_thread_disposes(
        pair,
        |(a, _)| a.rcu().value(),
        |(mut a, mut b)| {
            mem::swap(&mut a, &mut b);
            // `b` holds what `a` held: its data did not move.
            let g = read_lock();
            assert_eq!(b.rcu().value().dereference(&g).map(Tracked::check), Some(1));
            drop(g);
            drop(b);
            drop(a);
        },
        &drops,
    );
    assert_eq!(others.load(Ordering::SeqCst), 1);
}

#[test]
fn swapping_rcu_muts_of_two_locked_mutexes_swaps_only_the_handles() {
    let (da, db) = (counter(), counter());
    let (a, b) = (owned(1, &da), owned(2, &db));
    let (mut wa, mut wb) = (a.lock(), b.lock());
    let mut pa = wa.project();
    let mut pb = wb.project();
    mem::swap(&mut pa.value, &mut pb.value);
    // `pa.value` now publishes into `b`'s field, which `wb` keeps locked.
    let old_b = pa.value.replace(Box::new(Tracked::new(3, &db))).expect("b's value");
    let old_a = pb.value.replace(Box::new(Tracked::new(4, &da))).expect("a's value");
    let g = read_lock();
    assert_eq!(a.rcu().value().dereference(&g).map(Tracked::check), Some(4));
    assert_eq!(b.rcu().value().dereference(&g).map(Tracked::check), Some(3));
    drop(g);
    assert_eq!(old_a.wait().check(), 1);
    assert_eq!(old_b.wait().check(), 2);
    drop((wa, wb));
    drop((a, b));
    assert_eq!((da.load(Ordering::SeqCst), db.load(Ordering::SeqCst)), (2, 2));
}

// ---------------------------------------------------------------------------------------------
// Forgotten guards, `RcuMut`s and projections.

#[test]
fn a_forgotten_guard_keeps_the_lock_held_the_holder_panics_and_others_see_it_held() {
    let drops = counter();
    let mut m = owned(1, &drops);
    mem::forget(m.lock());
    let message = panics(|| drop(m.lock()));
    assert!(message.starts_with(REENTERED), "{message}");
    assert!(m.try_lock().is_none());
    thread::scope(|s| {
        // Joined explicitly: the join orders the other thread's look at the lock before the
        // moves of `m` below, in a way ThreadSanitizer sees (the scope's own wait runs in std's
        // uninstrumented code).
        s.spawn(|| assert!(m.try_lock().is_none(), "another thread sees the lock held")).join().unwrap();
    });
    assert_eq!(format!("{:?}", Dbg(&m)), "locked");
    // Readers need no lock.
    let g = read_lock();
    assert_eq!(m.rcu().value().dereference(&g).map(Tracked::check), Some(1));
    drop(g);
    // `&mut` proves that no guard is in use, forgotten or not.
    m.get_mut().project().value.replace(Box::new(Tracked::new(2, &drops))).expect("published").defer_drop();
    let inner = m.into_inner();
    drop(inner);
    // By the thousand, on mutexes that are then dropped still locked: nothing is allocated by a
    // guard, so nothing leaks.
    for id in 0..1000 {
        let m = owned(10 + id, &drops);
        mem::forget(m.lock());
        drop(m);
    }
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1002);
}

/// Shows whether a mutex is locked, through its `Debug`.
struct Dbg<'a>(&'a RcuMutex<Owned>);

impl fmt::Debug for Dbg<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.try_lock() {
            Some(_) => write!(f, "free"),
            None => write!(f, "locked"),
        }
    }
}

#[test]
#[expect(
    clippy::forget_non_drop,
    forgetting_copy_types,
    reason = "the point: `RcuMut`, the projections and the view have no drop glue, so forgetting \
              them is dropping them, and nothing (the lock, the values) may depend on their drop"
)]
fn forgetting_rcu_muts_and_projections_by_the_thousand_changes_nothing() {
    let drops = counter();
    let m = owned(0, &drops);
    let mut w = m.lock();
    for _ in 0..1000 {
        let mut p = w.project();
        mem::forget(p.value.as_mut());
        mem::forget(p);
        mem::forget(w.project_ref());
        mem::forget(m.rcu());
    }
    let old = w.project().value.replace(Box::new(Tracked::new(1, &drops))).expect("published");
    drop(w);
    assert_eq!(old.wait().check(), 0);
    let mut w = m.try_lock().expect("the guard released the lock");
    let old = w.project().value.take().expect("published");
    drop(w);
    drop(old);
    drop(m);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------------
// fork.

#[test]
fn fork_while_another_thread_holds_the_lock_leaves_the_child_readers_and_try_lock() {
    if !isolated("fork_while_another_thread_holds_the_lock_leaves_the_child_readers_and_try_lock") {
        return;
    }
    let drops = counter();
    let m = Arc::new(owned(1, &drops));
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = {
        let m = Arc::clone(&m);
        thread::spawn(move || {
            let w = m.lock();
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            drop(w);
        })
    };
    locked_rx.recv().unwrap();
    in_forked_child(|_| {
        // The holder does not exist here; its lock stays held for good, as a std mutex's would.
        if m.try_lock().is_some() {
            return Err("the child got a lock held by another thread at the fork".into());
        }
        if !format!("{:?}", Dbg(&m)).contains("locked") {
            return Err("Debug does not see the lock held".into());
        }
        let g = read_lock();
        match m.rcu().value().dereference(&g).map(Tracked::check) {
            Some(1) => Ok(()),
            other => Err(format!("the child's reader saw {other:?}")),
        }
    });
    release_tx.send(()).unwrap();
    join_within(holder, HANG, "the holder");
    m.lock().project().value.replace(Box::new(Tracked::new(2, &drops))).expect("published").defer_drop();
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn fork_while_this_thread_holds_the_lock_lets_the_child_update_unlock_and_lock_again() {
    if !isolated("fork_while_this_thread_holds_the_lock_lets_the_child_update_unlock_and_lock_again") {
        return;
    }
    let drops = counter();
    let m = owned(1, &drops);
    let mut w = Some(m.lock());
    in_forked_child(|_| {
        let mut held = w.take().ok_or("no guard")?;
        // The child's thread is the holder: locking again is refused with the panic.
        let again = catch_unwind(AssertUnwindSafe(|| drop(m.lock())));
        if again.is_ok() {
            return Err("a re-entrant lock in the child did not panic".into());
        }
        let old = held.project().value.replace(Box::new(Tracked::new(2, &drops))).ok_or("empty")?;
        if old.wait().check() != 1 {
            return Err("wrong old value".into());
        }
        drop(held);
        let mut w = m.try_lock().ok_or("the child's unlock did not release the lock")?;
        w.project().value.replace(Box::new(Tracked::new(3, &drops))).ok_or("empty")?.defer_drop();
        drop(w);
        rcu_barrier();
        let g = read_lock();
        match m.rcu().value().dereference(&g).map(Tracked::check) {
            Some(3) if drops.load(Ordering::SeqCst) == 2 => Ok(()),
            other => Err(format!("the child saw {other:?} after {} drops", drops.load(Ordering::SeqCst))),
        }
    });
    // The parent's own guard is untouched by the child.
    let mut held = w.take().expect("the parent's guard");
    assert_eq!(
        held.project().value.replace(Box::new(Tracked::new(4, &drops))).expect("published").wait().check(),
        1
    );
    drop(held);
    drop(w);
    drop(m);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

static SLOW_ENTERED: AtomicBool = AtomicBool::new(false);
static SLOW_DONE: AtomicUsize = AtomicUsize::new(0);

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct SlowDrop {
    #[rcu_head]
    head: RcuHead,
    #[rcu]
    inner: Rcu<Box<u32>>,
}

impl PinnedDrop for SlowDrop {
    fn drop(self: Pin<&mut Self>) {
        SLOW_ENTERED.store(true, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(200));
        SLOW_DONE.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn fork_while_a_pinned_drop_runs_on_the_worker_waits_for_it() {
    if !isolated("fork_while_a_pinned_drop_runs_on_the_worker_waits_for_it") {
        return;
    }
    let mut rcu = pin!(Rcu::new(Box::new(SlowDrop { head: RcuHead::new(), inner: Rcu::new(Box::new(5)) })));
    rcu.as_mut().take().expect("published").drop_async();
    wait_until(HANG, "the worker runs the PinnedDrop", || SLOW_ENTERED.load(Ordering::SeqCst));
    in_forked_child(|_| {
        // `fork()` waited for the running callback: it finished before the fork, once.
        match SLOW_DONE.load(Ordering::SeqCst) {
            1 => {}
            n => return Err(format!("the PinnedDrop ran {n} times before the fork")),
        }
        rcu_barrier();
        match SLOW_DONE.load(Ordering::SeqCst) {
            1 => Ok(()),
            n => Err(format!("the PinnedDrop ran {n} times in the child")),
        }
    });
    rcu_barrier();
    assert_eq!(SLOW_DONE.load(Ordering::SeqCst), 1);
}

static QUEUED_DONE: AtomicUsize = AtomicUsize::new(0);

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Queued {
    #[rcu_head]
    head: RcuHead,
    #[rcu]
    inner: Rcu<Box<u32>>,
}

impl PinnedDrop for Queued {
    fn drop(self: Pin<&mut Self>) {
        QUEUED_DONE.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(RcuProtected)]
struct QueuedHolder {
    #[rcu]
    current: Rcu<Box<Queued>>,
}

#[test]
fn fork_with_a_drop_async_of_a_derived_struct_queued_runs_its_pinned_drop_in_both_processes() {
    if !isolated("fork_with_a_drop_async_of_a_derived_struct_queued_runs_its_pinned_drop_in_both_processes") {
        return;
    }
    let queued = |n| Box::new(Queued { head: RcuHead::new(), inner: Rcu::new(Box::new(n)) });
    let m = RcuMutex::new(QueuedHolder { current: Rcu::new(queued(1)) });
    // Queued inside a section, so that the worker cannot run it before the fork.
    let g = read_lock();
    let mut w = m.lock();
    w.project().current.replace(queued(2)).expect("published").drop_async();
    drop(w);
    in_forked_child(|_| {
        if QUEUED_DONE.load(Ordering::SeqCst) != 0 {
            return Err("ran before the forking thread's section ended".into());
        }
        drop(g);
        rcu_barrier();
        let mut w = m.lock();
        let value = {
            let r = read_lock();
            m.rcu().current().dereference(&r).and_then(|q| q.inner.dereference(&r).copied())
        };
        w.project().current.take().ok_or("empty")?.drop_async();
        drop(w);
        rcu_barrier();
        match (QUEUED_DONE.load(Ordering::SeqCst), value) {
            (2, Some(2)) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    // `g` was moved into the closure and dropped with it in this process too, right after the
    // fork: the parent's section has ended, and the child's drops were the child's own.
    rcu_barrier();
    assert_eq!(QUEUED_DONE.load(Ordering::SeqCst), 1);
    drop(m);
    assert_eq!(QUEUED_DONE.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------------
// Derive shapes used through the runtime.

#[derive(RcuProtected)]
struct InnerCount {
    #[rcu]
    count: Rcu<Box<u64>>,
    writes: u64,
}

#[derive(RcuProtected)]
struct Outer {
    #[rcu]
    inner: Rcu<Arc<RcuMutex<InnerCount>>>,
}

fn inner_count(n: u64) -> Arc<RcuMutex<InnerCount>> {
    Arc::new(RcuMutex::new(InnerCount { count: Rcu::new(Box::new(n)), writes: 0 }))
}

#[test]
fn readers_lock_a_mutex_reached_through_the_outer_view_while_the_outer_updater_replaces_it() {
    let outer = RcuMutex::new(Outer { inner: Rcu::new(inner_count(0)) });
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..200 {
                    // Inside the section: borrow the inner mutex, keep an owned `Arc` past it.
                    let kept = {
                        let g = read_lock();
                        let inner = outer.rcu().inner().dereference(&g).expect("always published");
                        let mut w = inner.lock();
                        let next = w.count.dereference(&g).copied().unwrap_or(0) + 1;
                        *w.project().writes += 1;
                        // Dropping the old value here would wait inside the section: defer it.
                        w.project().count.replace(Box::new(next)).expect("published").defer_drop();
                        drop(w);
                        inner.to_arc()
                    };
                    let w = kept.lock();
                    assert!(w.writes >= 1);
                }
            });
        }
        s.spawn(|| {
            for n in 0..50 {
                let mut w = outer.lock();
                w.project().inner.replace(inner_count(n * 1000)).expect("published").defer_drop();
            }
        });
    });
    rcu_barrier();
    let g = read_lock();
    let inner = outer.rcu().inner().dereference(&g).expect("published");
    assert!(inner.lock().count.dereference(&g).is_some());
}

/// A zero-sized value that counts its drops.
struct ZeroSized;

static ZERO_SIZED_DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for ZeroSized {
    fn drop(&mut self) {
        ZERO_SIZED_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(RcuProtected)]
struct ZeroSizedFields {
    #[rcu]
    zst: Rcu<Box<ZeroSized>>,
    #[rcu]
    unit: Rcu<Arc<()>>,
    #[pin]
    pinned: PhantomPinned,
    empty: [u64; 0],
    nothing: (),
}

#[test]
fn zero_sized_pointees_share_an_address_and_are_still_dropped_once_each() {
    const _: () = assert!(size_of::<Box<ZeroSized>>() == size_of::<usize>());
    let m = RcuMutex::new(ZeroSizedFields {
        zst: Rcu::new(Box::new(ZeroSized)),
        unit: Rcu::new(Arc::new(())),
        pinned: PhantomPinned,
        empty: [],
        nothing: (),
    });
    let mut w = m.lock();
    for _ in 0..10 {
        // Every `Box<ZeroSized>` has the same (dangling) address: the old and the new value
        // cannot be told apart by their pointer.
        let mut p = w.project();
        p.zst.as_mut().replace(Box::new(ZeroSized)).expect("published").defer_drop();
        p.unit.replace(Arc::new(())).expect("published").defer_drop();
        assert!(p.empty.is_empty());
        let _: &mut () = p.nothing;
    }
    drop(w);
    rcu_barrier();
    assert_eq!(ZERO_SIZED_DROPS.load(Ordering::SeqCst), 10);
    let g = read_lock();
    assert!(m.rcu().zst().dereference(&g).is_some());
    assert!(m.rcu().unit().dereference(&g).is_some());
    drop(g);
    drop(m);
    assert_eq!(ZERO_SIZED_DROPS.load(Ordering::SeqCst), 11);
}

/// Fields named like the generated items, the view's field and the methods around it. Two are
/// not snake case: the `allow` below must cover the generated projection fields and view methods
/// named after them too (it did not before the derive allowed `non_snake_case` there).
#[derive(RcuProtected)]
#[allow(non_snake_case, reason = "field names copied from the generated items")]
struct NamedLikeGenerated {
    #[rcu]
    project: Rcu<Box<u8>>,
    #[rcu]
    project_ref: Rcu<Box<u8>>,
    #[rcu]
    rcu: Rcu<Box<u8>>,
    #[rcu]
    lock: Rcu<Box<u8>>,
    #[rcu]
    clone: Rcu<Box<u8>>,
    #[rcu]
    __raw: Rcu<Box<u8>>,
    #[rcu]
    rcu_field: Rcu<Box<u8>>,
    #[rcu]
    check_paths: Rcu<Box<u8>>,
    #[rcu]
    view: Rcu<Box<u8>>,
    #[rcu]
    NamedLikeGeneratedProjection: Rcu<Box<u8>>,
    __pin: u8,
    NamedLikeGeneratedView: u8,
}

#[test]
fn fields_named_like_generated_items_are_reached_by_their_own_names() {
    let m = RcuMutex::new(NamedLikeGenerated {
        project: Rcu::new(Box::new(1)),
        project_ref: Rcu::new(Box::new(2)),
        rcu: Rcu::new(Box::new(3)),
        lock: Rcu::new(Box::new(4)),
        clone: Rcu::new(Box::new(5)),
        __raw: Rcu::new(Box::new(6)),
        rcu_field: Rcu::new(Box::new(7)),
        check_paths: Rcu::new(Box::new(8)),
        view: Rcu::new(Box::new(9)),
        NamedLikeGeneratedProjection: Rcu::new(Box::new(12)),
        __pin: 10,
        NamedLikeGeneratedView: 11,
    });
    let g = read_lock();
    let v = m.rcu();
    let read = |r: &Rcu<Box<u8>>| r.dereference(&g).copied();
    let seen = [
        read(v.project()),
        read(v.project_ref()),
        read(v.rcu()),
        read(v.lock()),
        read(v.clone()),
        read(v.__raw()),
        read(v.rcu_field()),
        read(v.check_paths()),
        read(v.view()),
        read(v.NamedLikeGeneratedProjection()),
    ];
    assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 12].map(Some));
    drop(g);
    let mut w = m.lock();
    let p = w.project();
    *p.__pin += 1;
    *p.NamedLikeGeneratedView += 1;
    p.lock.replace(Box::new(40)).expect("published").defer_drop();
    assert_eq!((w.__pin, w.NamedLikeGeneratedView), (11, 12));
    let r = w.project_ref();
    assert_eq!(r.clone.dereference(&read_lock()).copied(), Some(5));
}

#[derive(RcuProtected)]
struct Boxes {
    #[rcu]
    value: Rcu<RcuBox<Tracked>>,
}

#[test]
fn an_rcu_box_behind_an_rcu_field_outlives_a_borrow_taken_before_it_was_replaced_and_is_freed_once() {
    let drops = counter();
    let m = RcuMutex::new(Boxes { value: Rcu::new(RcuBox::new(Tracked::new(1, &drops))) });
    let (borrowed_tx, borrowed_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    thread::scope(|s| {
        let m = &m;
        s.spawn(move || {
            let g = read_lock();
            let value: &Tracked = m.rcu().value().dereference(&g).expect("published");
            borrowed_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            // Replaced, its `RcuOld` waited for by the updater below... which waits for us.
            assert_eq!(value.check(), 1);
        });
        borrowed_rx.recv().unwrap();
        let mut w = m.lock();
        let old = w.project().value.replace(RcuBox::new(Tracked::new(2, &drops))).expect("published");
        release_tx.send(()).unwrap();
        // The `RcuOld` waits for the reader, then drops the `RcuBox`, which queues its value for
        // one more grace period.
        drop(old);
        drop(w);
    });
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(m);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}
