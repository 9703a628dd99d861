//! `RcuCell`: one pointer that any thread updates through `&self`; its snapshots (`read`) and
//! `ArcBorrow`; and the attacks every closure-taking, borrow-lending API gets: the owner of a
//! live borrow moved to another thread, panics inside the closures (also with a payload whose
//! drop panics), and the closure re-entering the cell. (A forgotten `RcuRef` is a leaked guard:
//! its section never ends, which `tests/leaked_guard.rs` covers in a process of its own.)

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

use rcu_runtime::{ArcBorrow, RcuCell, RcuRef, Unchanged, is_reading, rcu_barrier, read_lock};
use test_support::{Tracked, counter, panic_message, probe};

#[test]
fn a_static_cell_starts_empty_and_is_updated_through_a_shared_reference() {
    static CELL: RcuCell<Box<u64>> = RcuCell::null();
    assert!(CELL.is_null());
    assert!(CELL.read().is_none());
    assert!(CELL.replace(Box::new(1)).is_none(), "nothing to retire");
    assert_eq!(*CELL.read().unwrap(), 1);
    assert_eq!(*CELL.replace(Box::new(2)).unwrap().wait(), 1);
    assert_eq!(*CELL.take().unwrap().wait(), 2);
    assert!(CELL.take().is_none());
}

#[test]
fn two_writers_copy_updating_lose_nothing_and_losing_rounds_are_dropped() {
    let drops = counter();
    let built = Arc::new(AtomicUsize::new(0));
    let cell = RcuCell::new(Box::new((0_u64, Tracked::new(0, &drops))));
    let start = Barrier::new(2);
    const PER_THREAD: u64 = 2_000;
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                start.wait();
                for _ in 0..PER_THREAD {
                    let old = cell.copy_update(|current| {
                        let (count, tracked) = current.unwrap();
                        tracked.check(); // never a reclaimed value
                        built.fetch_add(1, Ordering::SeqCst);
                        Some(Box::new((count + 1, Tracked::new(count + 1, &drops))))
                    });
                    old.unwrap().defer_drop();
                }
            });
        }
    });
    assert_eq!(cell.read().unwrap().0, 2 * PER_THREAD, "an update was lost");
    rcu_barrier();
    // Every value built was either published (and then retired, except the current one) or
    // dropped at the end of its losing round.
    assert_eq!(drops.load(Ordering::SeqCst), built.load(Ordering::SeqCst));
}

#[test]
fn fetch_update_leaves_the_value_when_the_closure_says_none() {
    let cell = RcuCell::new(Box::new(5_u32));
    let raise_to = |v: u32| cell.fetch_update(|cur| (cur.copied() < Some(v)).then(|| Box::new(v)));
    assert!(matches!(raise_to(3), Err(Unchanged)));
    assert_eq!(*cell.read().unwrap(), 5);
    assert_eq!(*raise_to(7).unwrap().unwrap().wait(), 5);
    assert_eq!(*cell.read().unwrap(), 7);
    // On an empty cell, success gives `Ok(None)`: nothing to retire.
    let empty = RcuCell::<Box<u32>>::null();
    assert!(matches!(empty.fetch_update(|cur| cur.is_none().then(|| Box::new(1))), Ok(None)));
    // `copy_update`'s `None` empties the cell.
    assert_eq!(*cell.copy_update(|_| None).unwrap().wait(), 7);
    assert!(cell.is_null());
}

#[test]
fn a_borrow_stays_valid_while_the_cells_owner_moves_to_another_thread_and_replaces() {
    let drops = counter();
    let cell = Arc::new(RcuCell::new(Box::new(Tracked::new(1, &drops))));
    let guard = read_lock();
    let borrowed: &Tracked = cell.dereference(&guard).unwrap();
    let (replaced_tx, replaced_rx) = mpsc::channel();
    let owner = Arc::clone(&cell);
    let updater = thread::spawn(move || {
        let old = owner.replace(Box::new(Tracked::new(2, &Arc::new(AtomicUsize::new(0))))).unwrap();
        replaced_tx.send(()).unwrap();
        drop(old); // waits for the reader's guard
        drop(owner); // the last other owner: the cell lives on here only through `cell`
    });
    replaced_rx.recv().unwrap();
    drop(cell); // our owner is gone too; the borrow is tied to the guard
    thread::sleep(Duration::from_millis(20));
    assert_eq!(borrowed.check(), 1, "the old value is still alive under the guard");
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(guard);
    updater.join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_borrow_stays_valid_while_the_cell_itself_moves_to_another_thread_and_is_dropped() {
    let drops = counter();
    let cell = RcuCell::new(Box::new(Tracked::new(1, &drops)));
    let guard = read_lock();
    // The borrow is tied to the guard, not to `cell`: the cell may move away while it lives.
    let borrowed: &Tracked = cell.dereference(&guard).unwrap();
    let dropper = thread::spawn(move || drop(cell)); // waits for our guard, then frees
    thread::sleep(Duration::from_millis(20));
    assert_eq!(borrowed.check(), 1);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(guard);
    dropper.join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panic_in_the_closure_publishes_nothing_and_ends_its_section() {
    let cell = RcuCell::new(Box::new(1));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = cell.copy_update(|_| panic!("the closure panics"));
    }));
    assert_eq!(panic_message(&*result.unwrap_err()), "the closure panics");
    assert!(!is_reading(), "the round's read-side section ended with the unwinding");
    assert_eq!(*cell.read().unwrap(), 1);

    // A payload whose own drop panics: caught, then leaked rather than dropped.
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the payload's drop panics");
        }
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = cell.fetch_update(|_| std::panic::panic_any(PanicsOnDrop));
    }));
    std::mem::forget(result.unwrap_err());
    assert!(!is_reading());
    assert_eq!(*cell.read().unwrap(), 1);
    cell.replace(Box::new(2)).unwrap().defer_drop(); // still usable
}

#[test]
fn a_losing_value_whose_drop_panics_unwinds_outside_the_section() {
    struct Loser(bool);
    impl Drop for Loser {
        fn drop(&mut self) {
            if self.0 {
                panic!("a losing value's drop panics");
            }
        }
    }
    let cell = RcuCell::new(Box::new(Loser(false)));
    let mut round = 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = cell.copy_update(|_| {
            round += 1;
            if round == 1 {
                // Another updater wins in between: this round loses.
                cell.replace(Box::new(Loser(false))).unwrap().defer_drop();
            }
            Some(Box::new(Loser(round == 1)))
        });
    }));
    assert_eq!(panic_message(&*result.unwrap_err()), "a losing value's drop panics");
    assert!(!is_reading());
    cell.take().unwrap().defer_drop();
}

#[test]
fn a_closure_that_updates_the_same_cell_makes_its_own_round_lose_and_run_again() {
    let cell = RcuCell::new(Box::new(vec![0]));
    let mut rounds = 0;
    let old = cell.copy_update(|current| {
        rounds += 1;
        let mut next = current.unwrap().clone();
        if rounds == 1 {
            // Re-entering: an inner update wins, so this round must lose and see its result.
            cell.copy_update(|inner| {
                let mut v = inner.unwrap().clone();
                v.push(1);
                Some(Box::new(v))
            })
            .unwrap()
            .defer_drop(); // inside a section: dropping would panic, deferring does not
        }
        next.push(2);
        Some(Box::new(next))
    });
    old.unwrap().defer_drop();
    assert_eq!(rounds, 2);
    assert_eq!(*cell.read().unwrap(), vec![0, 1, 2], "the inner update is not lost");
}

#[test]
fn waiting_inside_the_closure_panics_instead_of_deadlocking() {
    let cell = RcuCell::new(Box::new(1));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = cell.copy_update(|_| {
            rcu_runtime::synchronize_rcu();
            Some(Box::new(2))
        });
    }));
    assert!(panic_message(&*result.unwrap_err()).contains("inside an RCU read-side critical section"));
    assert_eq!(*cell.read().unwrap(), 1);
}

#[test]
fn snapshots_hold_a_section_and_map_keeps_it() {
    let cell = RcuCell::new(Box::new((1, String::from("one"))));
    assert!(!is_reading());
    let name: RcuRef<'_, String> = RcuRef::map(cell.read().unwrap(), |pair| &pair.1);
    assert!(is_reading());
    assert_eq!(*name, "one");
    let other = RcuCell::new(Box::new(2));
    assert_eq!(other.dereference(RcuRef::guard(&name)).copied(), Some(2));
    drop(name);
    assert!(!is_reading());
    // A panic inside `map`'s closure ends the section too.
    let result = catch_unwind(AssertUnwindSafe(|| {
        let _ = RcuRef::map(cell.read().unwrap(), |_| -> &str { panic!("map panics") });
    }));
    assert!(result.is_err());
    assert!(!is_reading());
}

#[test]
fn arc_borrows_copy_deref_and_become_owned_arcs() {
    let cell = RcuCell::new(Arc::new(String::from("v1")));
    let snapshot = {
        let guard = read_lock();
        let borrow: ArcBorrow<'_, String> = cell.dereference(&guard).unwrap();
        let copy = borrow; // Copy
        assert_eq!(borrow.len(), copy.len());
        assert!(ArcBorrow::ptr_eq(borrow, copy));
        Arc::from(copy)
    };
    let old = cell.replace(Arc::new(String::from("v2"))).unwrap().wait();
    assert!(Arc::ptr_eq(&old, &snapshot));
    assert_eq!(Arc::strong_count(&snapshot), 2, "the snapshot outlives the grace period");
    assert_eq!(*cell.read().unwrap(), "v2");
}

#[test]
fn a_cell_inside_an_arc_shared_by_reader_and_writer_threads() {
    let cell = Arc::new(RcuCell::new(Box::new(0_u64)));
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (cell, stop) = (Arc::clone(&cell), Arc::clone(&stop));
            thread::spawn(move || {
                let mut last = 0;
                while !stop.load(Ordering::Relaxed) {
                    let now = *cell.read().unwrap();
                    assert!(now >= last, "values only grow");
                    last = now;
                }
            })
        })
        .collect();
    for i in 1..=500 {
        cell.replace(Box::new(i)).unwrap().defer_drop();
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
}

#[test]
fn send_and_sync_follow_the_rule() {
    use std::cell::Cell;
    const BOTH: (bool, bool) = (true, true);
    const NEITHER: (bool, bool) = (false, false);
    assert_eq!(probe!(RcuCell<Box<u32>>), BOTH);
    assert_eq!(probe!(RcuCell<Arc<u32>>), BOTH);
    assert_eq!(probe!(RcuCell<Box<Cell<u32>>>), NEITHER, "readers would share a Cell");
    assert_eq!(probe!(RcuCell<Box<std::sync::MutexGuard<'static, u32>>>), NEITHER, "P: !Send");
    assert_eq!(probe!(RcuRef<'static, u32>), NEITHER);
    assert_eq!(probe!(ArcBorrow<'static, u32>), BOTH);
    assert_eq!(probe!(ArcBorrow<'static, Cell<u32>>), NEITHER);
    assert_eq!(probe!(Unchanged), BOTH);
}
