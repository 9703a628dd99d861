//! `RcuMutex` and its guard on one thread: locking, no poisoning, pinning kept across
//! `into_inner`, `get_mut`, shared access, and the conditions for `Send`/`Sync`.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

use test_support::probe;

/// Counts its drops.
#[derive(Debug)]
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(RcuProtected, Debug)]
struct State {
    #[rcu]
    #[expect(clippy::box_collection, reason = "an `Rcu` publishes one pointer: the box is that pointer")]
    name: Rcu<Box<String>>,
    steps: Vec<u32>,
    owned: Option<Tracked>,
}

fn state(name: &str) -> State {
    State { name: Rcu::new(Box::new(name.to_owned())), steps: Vec::new(), owned: None }
}

fn name_of(m: &RcuMutex<State>) -> String {
    let g = read_lock();
    m.rcu().name().dereference(&g).cloned().unwrap_or_default()
}

#[test]
fn try_lock_fails_while_locked_and_succeeds_after() {
    let m = RcuMutex::new(state("a"));
    let w = m.lock();
    assert!(m.try_lock().is_none());
    drop(w);
    let mut w = m.try_lock().expect("free again");
    w.project().steps.push(1);
    drop(w);
    assert_eq!(m.lock().steps, [1]);
}

#[test]
fn readers_on_the_updaters_thread_see_each_publication() {
    let m = RcuMutex::new(state("a"));
    let mut w = m.lock();
    assert_eq!(name_of(&m), "a");
    let old = w.project().name.replace(Box::new("b".to_owned())).unwrap();
    // The lock is still held: readers do not need it.
    assert_eq!(name_of(&m), "b");
    assert_eq!(*old.wait(), "a");
    let taken = w.project().name.take().unwrap();
    assert_eq!(name_of(&m), "");
    assert_eq!(*taken.wait(), "b");
}

#[test]
fn rcu_mut_reborrows_for_several_updates() {
    let m = RcuMutex::new(state("v0"));
    let mut w = m.lock();
    let mut p = w.project();
    for i in 1..=3 {
        let old = p.name.as_mut().replace(Box::new(format!("v{i}"))).unwrap();
        assert_eq!(*old.wait(), format!("v{}", i - 1));
    }
    // `RcuMut` derefs to the `Rcu` for reading on the updater's side.
    assert_eq!(p.name.dereference(&read_lock()).map(String::as_str), Some("v3"));
    assert_eq!(p.name.as_ref().dereference(&read_lock()).map(String::as_str), Some("v3"));
    let old = p.name.copy_update(|cur| cur.map(|s| Box::new(s.to_uppercase()))).unwrap();
    old.defer_drop();
    drop(w);
    assert_eq!(name_of(&m), "V3");
}

#[test]
fn the_lock_does_not_poison_and_keeps_a_half_done_update() {
    let m = RcuMutex::new(state("before"));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut w = m.lock();
        let p = w.project();
        p.steps.push(1);
        if let Some(old) = p.name.replace(Box::new("during".to_owned())) {
            old.defer_drop();
        }
        panic!("updater fails half way");
    }));
    assert!(result.is_err());
    // Locking works again, and sees what the failed updater left.
    let w = m.lock();
    assert_eq!(w.steps, [1]);
    drop(w);
    assert!(m.try_lock().is_some());
    assert_eq!(name_of(&m), "during");
}

#[test]
fn into_inner_returns_the_value_pinned_where_it_always_was() {
    let m = RcuMutex::new(state("x"));
    let before: *const State = {
        let w = m.lock();
        &*w
    };
    let view_field: *const Rcu<Box<String>> = m.rcu().name();
    let inner: Pin<Box<State>> = m.into_inner();
    assert_eq!(&*inner as *const State, before, "the value moved");
    assert_eq!(&inner.name as *const Rcu<Box<String>>, view_field);
    assert_eq!(inner.as_ref().project_ref().name.dereference(&read_lock()).map(String::as_str), Some("x"));
}

#[test]
fn get_mut_needs_no_lock_and_may_even_replace_the_whole_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut m = RcuMutex::new(state("x"));
    m.get_mut().project().steps.push(7);
    *m.get_mut().project().owned = Some(Tracked(Arc::clone(&drops)));
    assert_eq!(m.lock().steps, [7]);
    // With `&mut` there are no readers, so overwriting in place is fine here.
    m.get_mut().set(state("y"));
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    assert_eq!(name_of(&m), "y");
    assert!(m.lock().steps.is_empty());
}

#[test]
fn dropping_the_mutex_drops_the_value_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let m = RcuMutex::new(state("x"));
    *m.lock().project().owned = Some(Tracked(Arc::clone(&drops)));
    drop(m);
    assert_eq!(drops.load(Ordering::Relaxed), 1);

    let m = RcuMutex::new(state("x"));
    *m.lock().project().owned = Some(Tracked(Arc::clone(&drops)));
    let inner = m.into_inner();
    assert_eq!(drops.load(Ordering::Relaxed), 1, "into_inner drops nothing");
    drop(inner);
    assert_eq!(drops.load(Ordering::Relaxed), 2);
}

#[test]
fn guard_gives_shared_and_pinned_shared_access() {
    let m = RcuMutex::new(state("x"));
    let mut w = m.lock();
    w.project().steps.extend([1, 2]);
    let p = w.project_ref();
    let _: &Vec<u32> = p.steps;
    let _: Pin<&Rcu<Box<String>>> = p.name;
    assert_eq!(w.steps.len(), 2);
    assert_eq!(w.as_ref().steps.len(), 2);
    // Locked (by this very thread): the data may be half updated, so it is not shown.
    assert_eq!(format!("{:?}", m), "RcuMutex { data: <locked>, .. }");
    drop(w);
    assert_eq!(
        format!("{:?}", m),
        r#"RcuMutex { data: State { name: Rcu(Some("x")), steps: [1, 2], owned: None } }"#
    );
}

#[test]
fn default_and_from() {
    #[derive(RcuProtected, Default)]
    struct Counts {
        #[rcu]
        total: Rcu<Box<u64>>,
        hits: u64,
    }
    let m: RcuMutex<Counts> = RcuMutex::default();
    assert!(m.rcu().total().dereference(&read_lock()).is_none());
    let m = RcuMutex::from(Counts { total: Rcu::new(Box::new(3)), hits: 1 });
    assert_eq!(m.rcu().total().dereference(&read_lock()).copied(), Some(3));
    assert_eq!(m.lock().hits, 1);
}

#[derive(RcuProtected)]
struct WriterCell {
    #[rcu]
    shared: Rcu<Box<u64>>,
    // Only the lock holder touches it, so it need not be `Sync`.
    scratch: Cell<u64>,
}

#[derive(RcuProtected)]
struct ReaderCell {
    // Readers on several threads would share the `Cell`: not `Sync`.
    #[rcu]
    shared: Rcu<Box<Cell<u64>>>,
}

#[derive(RcuProtected)]
struct NotSend {
    #[rcu]
    shared: Rcu<Box<u64>>,
    local: std::rc::Rc<u8>,
}

#[test]
fn send_and_sync_follow_what_readers_and_the_lock_holder_share() {
    // Writer-only fields need only `Send`; `#[rcu]` fields need `Sync` pointees, to share the
    // mutex and also to send it: a reader's borrow is tied to its guard, not to the mutex, and
    // outlives the move.
    assert_eq!(probe!(RcuMutex<WriterCell>), (true, true));
    assert_eq!(probe!(RcuMutex<ReaderCell>), (false, false));
    assert_eq!(probe!(RcuMutex<NotSend>), (false, false));
    // The view carries `&Rcu` for the `#[rcu]` fields: sendable exactly when they are `Sync`.
    assert_eq!(probe!(WriterCellView<'static>), (true, true));
    assert_eq!(probe!(ReaderCellView<'static>), (false, false));
    // A guard stays on its thread; sharing it shares `&T`, which needs `T: Sync`.
    assert_eq!(probe!(rcu_runtime::RcuMutexGuard<'static, WriterCell>), (false, false));
    assert!(!probe!(rcu_runtime::RcuMutexGuard<'static, WriterCell>).0);

    let m = RcuMutex::new(WriterCell { shared: Rcu::new(Box::new(1)), scratch: Cell::new(0) });
    std::thread::scope(|s| {
        s.spawn(|| m.lock().scratch.set(5));
    });
    assert_eq!(m.lock().scratch.get(), 5);
}
