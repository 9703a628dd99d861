//! `RcuBox<T>`: memory that outlives the box by a grace period, freed through `call_rcu`.

use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use rcu_runtime::{Rcu, RcuBox, rcu_barrier, read_lock};
use test_support::{Tracked, counter};

#[test]
fn a_borrow_from_with_rcu_outlives_the_box_while_the_guard_lives() {
    let drops = counter();
    let boxed = RcuBox::new(Tracked::new(3, &drops));
    let guard = read_lock();
    let value = boxed.with_rcu(&guard);
    drop(boxed);
    assert_eq!(value.check(), 3);
    drop(guard);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn the_value_is_dropped_on_the_worker_after_readers_elsewhere_finish() {
    let drops = counter();
    let boxed = Arc::new(RcuBox::new(Tracked::new(9, &drops)));
    let (seen_tx, seen_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let reader = {
        let boxed = Arc::clone(&boxed);
        thread::spawn(move || {
            let guard = read_lock();
            let value = boxed.with_rcu(&guard);
            drop(boxed); // this thread's owner is gone; the borrow is the guard's
            seen_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            value.check()
        })
    };
    seen_rx.recv().unwrap();
    drop(boxed); // the last owner: queues the free
    thread::sleep(Duration::from_millis(30));
    assert_eq!(drops.load(Ordering::SeqCst), 0, "freed under a live reader");
    release_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), 9);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn values_without_drop_glue_are_only_deallocated() {
    // The kfree_rcu case: nothing to run but the free; the memory still waits for readers.
    let boxed = RcuBox::new([7_u64; 64]);
    let guard = read_lock();
    let array = boxed.with_rcu(&guard);
    drop(boxed);
    assert!(array.iter().all(|&x| x == 7));
    drop(guard);
    rcu_barrier();
}

#[test]
fn an_rcu_of_rcu_boxes_reclaims_without_waiting() {
    let drops = counter();
    let mut rcu = pin!(Rcu::new(RcuBox::new(Tracked::new(0, &drops))));
    for id in 1..=500 {
        let old = rcu.as_mut().replace(RcuBox::new(Tracked::new(id, &drops))).unwrap();
        // `wait` is a grace period; dropping the returned RcuBox is one more call_rcu.
        if id % 100 == 0 {
            drop(old.wait());
        } else {
            old.defer_drop();
        }
    }
    assert_eq!(rcu.dereference(&read_lock()).unwrap().check(), 500);
    rcu_barrier();
    rcu_barrier(); // boxes dropped inside callbacks queue their own free behind the first barrier
    assert_eq!(drops.load(Ordering::SeqCst), 500);
}

#[test]
fn deref_and_debug_show_the_value() {
    let boxed = RcuBox::new(String::from("shown"));
    assert_eq!(boxed.len(), 5);
    assert_eq!(format!("{boxed:?}"), r#"RcuBox("shown")"#);
}
