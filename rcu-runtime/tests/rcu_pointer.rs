//! `Rcu<P>` and `RcuOld<P>`: publication, replacement, reclamation, drop counting.

use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

use rcu_runtime::{Rcu, RcuHead, rcu_barrier, read_lock};
use test_support::{Tracked, counter};

#[test]
fn a_reader_keeps_the_old_object_after_replace_until_its_guard_drops() {
    let drops = counter();
    let rcu = Arc::new(Rcu::new(Box::new(Tracked::new(1, &drops))));
    let (seen_tx, seen_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let reader = {
        let rcu = Arc::clone(&rcu);
        thread::spawn(move || {
            let guard = read_lock();
            let old = rcu.dereference(&guard).unwrap();
            seen_tx.send(old.id).unwrap();
            release_rx.recv().unwrap();
            // Still ours: the updater replaced it, but its grace period waits for this guard.
            assert_eq!(old.check(), 1);
        })
    };
    assert_eq!(seen_rx.recv().unwrap(), 1);

    // The updater needs `Pin<&mut Rcu>`: with the reader holding an `Arc`, use a raw pinned
    // projection through `Arc::as_ptr` — sound here because this thread is the only updater and
    // `Rcu`'s pointer is atomic.
    // SAFETY: no other `Pin<&mut>` to this `Rcu` exists, and the `Arc` keeps it alive and in place.
    let pinned = unsafe { std::pin::Pin::new_unchecked(&mut *Arc::as_ptr(&rcu).cast_mut()) };
    let old = pinned.replace(Box::new(Tracked::new(2, &drops))).unwrap();
    let dropper = thread::spawn(move || drop(old));
    thread::sleep(Duration::from_millis(50));
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the old object was dropped under a live reader");
    release_tx.send(()).unwrap();
    reader.join().unwrap();
    dropper.join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(rcu.dereference(&read_lock()).unwrap().check(), 2);
    drop(rcu);
    assert_eq!(drops.load(Ordering::SeqCst), 2, "every object is dropped exactly once");
}

#[test]
fn wait_returns_the_old_value() {
    let mut rcu = pin!(Rcu::new(Box::new(String::from("first"))));
    let old = rcu.as_mut().replace(Box::new(String::from("second"))).unwrap();
    assert_eq!(*old.wait(), "first");
    assert_eq!(rcu.dereference(&read_lock()).map(String::as_str), Some("second"));
}

#[test]
fn copy_update_sees_the_current_value_and_none_unpublishes() {
    let mut rcu = pin!(Rcu::new(Box::new(vec![1, 2, 3])));
    let old = rcu.as_mut().copy_update(|current| {
        let mut next = current.unwrap().clone();
        next.push(4);
        Some(Box::new(next))
    });
    assert_eq!(*old.unwrap().wait(), vec![1, 2, 3]);
    assert_eq!(rcu.dereference(&read_lock()).unwrap(), &vec![1, 2, 3, 4]);

    let removed = rcu.as_mut().copy_update(|_| None).unwrap();
    assert!(rcu.dereference(&read_lock()).is_none());
    assert!(rcu.is_null());
    assert_eq!(*removed.wait(), vec![1, 2, 3, 4]);
    assert!(rcu.as_mut().take().is_none(), "nothing left to take");

    let republished = rcu.as_mut().copy_update(|current| {
        assert!(current.is_none());
        Some(Box::new(vec![9]))
    });
    assert!(republished.is_none());
    assert_eq!(rcu.dereference(&read_lock()).unwrap(), &vec![9]);
}

#[test]
fn take_unpublishes_and_readers_see_null() {
    let drops = counter();
    let mut rcu = pin!(Rcu::new(Box::new(Tracked::new(7, &drops))));
    let old = rcu.as_mut().take().unwrap();
    assert!(rcu.dereference(&read_lock()).is_none());
    drop(old);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn defer_drop_frees_after_rcu_barrier() {
    let drops = counter();
    let mut rcu = pin!(Rcu::new(Box::new(Tracked::new(1, &drops))));
    for id in 2..=100 {
        rcu.as_mut().replace(Box::new(Tracked::new(id, &drops))).unwrap().defer_drop();
    }
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 99);
    assert_eq!(rcu.dereference(&read_lock()).unwrap().check(), 100);
}

/// A node freed through its embedded head, implemented by hand (the derive does this for users).
struct Node {
    value: Tracked,
    head: RcuHead,
}

// SAFETY: `Type` and `OFFSET` are those of `Node::head`.
unsafe impl rcu_runtime::HasField<rcu_runtime::Field<1>> for Node {
    type Type = RcuHead;
    const OFFSET: usize = core::mem::offset_of!(Node, head);
}

// SAFETY: both methods go through the `HasField` impl of the `head` field.
unsafe impl rcu_runtime::HasRcuHead for Node {
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
        <Self as rcu_runtime::HasField<rcu_runtime::Field<1>>>::raw_get_field(this)
    }

    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
        // SAFETY: forwarded from the caller.
        unsafe { <Self as rcu_runtime::HasField<rcu_runtime::Field<1>>>::field_container_of(head) }
    }
}

#[test]
fn drop_async_frees_through_the_embedded_head_after_rcu_barrier() {
    let drops = counter();
    let node = |id| Box::new(Node { value: Tracked::new(id, &drops), head: RcuHead::new() });
    let mut rcu = pin!(Rcu::new(node(0)));
    let guard = read_lock();
    let first = rcu.dereference(&guard).unwrap();
    for id in 1..=1000 {
        // May be called inside a read-side critical section: it does not wait.
        rcu.as_mut().replace(node(id)).unwrap().drop_async();
    }
    assert_eq!(first.value.check(), 0, "still readable under the guard");
    drop(guard);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1000);
}

#[test]
fn dropping_an_rcu_waits_for_a_reader_elsewhere() {
    let drops = counter();
    let rcu = Rcu::new(Box::new(Tracked::new(1, &drops)));
    let rcu_ref: &'static Rcu<Box<Tracked>> = Box::leak(Box::new(rcu));
    let raw = std::ptr::from_ref(rcu_ref) as usize;
    let entered = Arc::new(Barrier::new(2));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let reader = {
        let entered = Arc::clone(&entered);
        thread::spawn(move || {
            let guard = read_lock();
            let value = rcu_ref.dereference(&guard).unwrap();
            entered.wait();
            release_rx.recv().unwrap();
            value.check()
        })
    };
    entered.wait();
    let dropper = thread::spawn(move || {
        // SAFETY: the `Rcu` was leaked above and is dropped once, here; the reader only holds a
        // borrow of the pointee, which the drop waits for.
        unsafe { std::ptr::drop_in_place(raw as *mut Rcu<Box<Tracked>>) };
    });
    thread::sleep(Duration::from_millis(50));
    assert_eq!(drops.load(Ordering::SeqCst), 0, "Rcu::drop did not wait for the reader");
    release_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), 1);
    dropper.join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn an_rcu_dropped_by_a_callback_neither_waits_on_the_worker_nor_leaks() {
    let drops = counter();
    let inner = Rcu::new(Box::new(Tracked::new(1, &drops)));
    rcu_runtime::defer_rcu(move || drop(inner));
    // The first barrier runs the callback, which hands the value to the worker's next grace
    // period; the second barrier's callback comes after that.
    rcu_barrier();
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn debug_shows_the_current_value_without_a_guard_from_the_caller() {
    let rcu = Rcu::new(Box::new(5));
    assert_eq!(format!("{rcu:?}"), "Rcu(Some(5))");
    assert_eq!(format!("{:?}", Rcu::<Box<i32>>::null()), "Rcu(None)");
}

#[test]
fn arc_and_pinned_box_pointers_work_too() {
    let shared = Arc::new(String::from("arc"));
    let mut rcu = pin!(Rcu::new(Arc::clone(&shared)));
    let guard = read_lock();
    let borrow = rcu.dereference(&guard).unwrap();
    assert_eq!(*borrow, "arc");
    assert_eq!(Arc::strong_count(&shared), 2, "an ArcBorrow takes no reference count");
    let owned: Arc<String> = borrow.to_arc();
    assert!(Arc::ptr_eq(&owned, &shared));
    assert_eq!(Arc::strong_count(&shared), 3, "to_arc is one increment");
    drop((owned, guard));
    drop(rcu.as_mut().take().unwrap().wait());
    assert_eq!(Arc::strong_count(&shared), 1);

    let pinned = pin!(Rcu::new(Box::pin(41_u8)));
    let guard = read_lock();
    let value: std::pin::Pin<&u8> = pinned.dereference(&guard).unwrap();
    assert_eq!(*value + 1, 42);
}
