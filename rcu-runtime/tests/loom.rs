//! Loom models of the grace-period handshake and the callback handoff.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p rcu-runtime --test loom --release`.
//! Every model poisons "freed" data through a `loom::cell::UnsafeCell`, so loom reports any
//! reader access that is not ordered before the reclamation as a data race: exactly a
//! use-after-free in the real program.
#![cfg(loom)]

use std::ptr::NonNull;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use loom::thread;
use rcu_runtime::__loom::{Domain, ReaderNode};
use rcu_runtime::RcuHead;

const LIVE: usize = 1;
const POISON: usize = 0xdead;

/// An RCU-protected object with an embedded callback head (at offset 0).
#[repr(C)]
struct Object {
    head: RcuHead,
    value: UnsafeCell<usize>,
    freed: AtomicBool,
}

impl Object {
    fn new() -> *mut Object {
        Box::into_raw(Box::new(Object {
            head: RcuHead::new(),
            value: UnsafeCell::new(LIVE),
            freed: AtomicBool::new(false),
        }))
    }

    /// "Frees" the object: poisons it with a write that loom checks against every reader access.
    fn poison(&self) {
        // SAFETY: loom checks this write against every read of the cell: a racing reader is
        // reported, which is the point of the model.
        self.value.with_mut(|v| unsafe { *v = POISON });
        self.freed.store(true, Ordering::Relaxed);
    }
}

/// The callback the models queue: poisons the object around the head.
unsafe fn poison_callback(head: NonNull<RcuHead>) {
    let object = head.as_ptr().cast::<Object>();
    // SAFETY: every head the models queue is the first field of a live, leaked `Object`
    // (`repr(C)`), freed only at the end of the model.
    unsafe { (*object).poison() };
}

fn registered_reader(domain: &Domain) -> Arc<ReaderNode> {
    let node = Arc::new(ReaderNode::new(None, 0));
    domain.register(Arc::clone(&node));
    node
}

/// Reads the object behind `object`, which must not have been reclaimed.
fn read_object(object: *mut Object) {
    // SAFETY: objects stay allocated until the end of the model; a read that races with the
    // poisoning write is what loom reports.
    let value = unsafe { (*object).value.with(|v| *v) };
    assert_eq!(value, LIVE, "reader saw a reclaimed object");
}

/// A reader that loads the published pointer inside a critical section and reads the object.
fn read_once(domain: &Domain, node: &ReaderNode, slot: &AtomicPtr<Object>, nested: bool) {
    node.lock(domain);
    if nested {
        node.lock(domain);
    }
    let object = slot.load(Ordering::Acquire);
    if nested {
        node.unlock(domain);
    }
    read_object(object);
    node.unlock(domain);
}

/// A QSBR reader: online, it reads, passes a quiescent state (which may end the grace period's
/// wait for it), reads again, and goes offline.
fn read_across_a_quiescent_state(domain: &Domain, node: &ReaderNode, slot: &AtomicPtr<Object>) {
    node.lock(domain);
    read_object(slot.load(Ordering::Acquire));
    node.quiescent_state(domain);
    read_object(slot.load(Ordering::Acquire));
    node.unlock(domain);
}

/// How the reader of a model reads.
#[derive(Clone, Copy)]
enum Reading {
    Once,
    Nested,
    AcrossAQuiescentState,
}

impl Reading {
    fn read(self, domain: &Domain, node: &ReaderNode, slot: &AtomicPtr<Object>) {
        match self {
            Self::Once => read_once(domain, node, slot, false),
            Self::Nested => read_once(domain, node, slot, true),
            Self::AcrossAQuiescentState => read_across_a_quiescent_state(domain, node, slot),
        }
    }
}

fn free_all(objects: &[*mut Object]) {
    for &object in objects {
        // SAFETY: leaked by `Object::new`, freed once, after every thread of the model joined.
        drop(unsafe { Box::from_raw(object) });
    }
}

fn synchronize_model(reading: Reading) {
    loom::model(move || {
        let domain = Arc::new(Domain::new());
        let old = Object::new();
        let new = Object::new();
        let slot = Arc::new(AtomicPtr::new(old));
        let node = registered_reader(&domain);

        let reader = {
            let (domain, slot) = (Arc::clone(&domain), Arc::clone(&slot));
            thread::spawn(move || reading.read(&domain, &node, &slot))
        };

        slot.store(new, Ordering::Release);
        domain.synchronize();
        // SAFETY: `old` stays allocated until `free_all`.
        unsafe { (*old).poison() };

        reader.join().unwrap();
        free_all(&[old, new]);
    });
}

#[test]
fn reader_never_sees_memory_reclaimed_after_synchronize() {
    synchronize_model(Reading::Once);
}

#[test]
fn nested_guards_keep_the_outer_section_alive() {
    synchronize_model(Reading::Nested);
}

/// A QSBR reader's quiescent state splits its section in two: an object read on either side of
/// it is never reclaimed under the reader.
#[test]
fn a_quiescent_state_ends_one_section_and_the_next_one_is_protected_too() {
    synchronize_model(Reading::AcrossAQuiescentState);
}

#[test]
fn call_rcu_hands_the_object_to_the_worker_after_a_grace_period() {
    loom::model(|| {
        let domain = Arc::new(Domain::new());
        let old = Object::new();
        let new = Object::new();
        let slot = Arc::new(AtomicPtr::new(old));
        let node = registered_reader(&domain);

        let reader = {
            let (domain, slot) = (Arc::clone(&domain), Arc::clone(&slot));
            thread::spawn(move || read_once(&domain, &node, &slot, false))
        };
        let worker = {
            let domain = Arc::clone(&domain);
            thread::spawn(move || {
                let mut remaining = usize::MAX;
                while remaining != 0 {
                    remaining = domain.run_callbacks();
                    thread::yield_now();
                }
            })
        };

        slot.store(new, Ordering::Release);
        // SAFETY: `old` is live; the projection creates no reference.
        let head = NonNull::new(unsafe { &raw mut (*old).head }).unwrap();
        // SAFETY: the head is queued once, its object outlives the model's callbacks, and
        // `poison_callback` only poisons it.
        unsafe { domain.call_rcu(head, poison_callback) };

        reader.join().unwrap();
        worker.join().unwrap();
        // The worker may have exited before the push became visible to it: drain what is left.
        while domain.run_callbacks() != 0 {}
        // SAFETY: `old` stays allocated until `free_all`.
        assert!(unsafe { (*old).freed.load(Ordering::Relaxed) }, "the callback never ran");
        free_all(&[old, new]);
    });
}

#[test]
fn callbacks_run_in_queueing_order_so_a_barrier_callback_waits_for_earlier_ones() {
    loom::model(|| {
        let domain = Arc::new(Domain::new());
        let first = Object::new();
        let barrier = Object::new();

        let worker = {
            let domain = Arc::clone(&domain);
            thread::spawn(move || {
                // SAFETY: both objects stay allocated until `free_all`.
                while !unsafe { (*barrier).freed.load(Ordering::Relaxed) } {
                    domain.run_callbacks();
                    thread::yield_now();
                }
                // The barrier callback ran: the callback queued before it must have run already.
                // SAFETY: as above.
                assert!(unsafe { (*first).freed.load(Ordering::Relaxed) });
            })
        };
        // SAFETY: each head is queued once, and its object outlives the model's callbacks.
        unsafe {
            domain.call_rcu(NonNull::new(&raw mut (*first).head).unwrap(), poison_callback);
            domain.call_rcu(NonNull::new(&raw mut (*barrier).head).unwrap(), poison_callback);
        }
        worker.join().unwrap();
        free_all(&[first, barrier]);
    });
}

#[test]
fn concurrent_synchronize_callers_both_wait_for_the_reader() {
    concurrent_synchronize_model(Reading::Once);
}

/// Two grace periods, one possibly queued behind the other, each with its own first look at the
/// QSBR reader's quiescent-state count.
#[test]
fn concurrent_synchronize_callers_both_wait_for_a_qsbr_reader() {
    concurrent_synchronize_model(Reading::AcrossAQuiescentState);
}

fn concurrent_synchronize_model(reading: Reading) {
    loom::model(move || {
        let domain = Arc::new(Domain::new());
        let a = Object::new();
        let b = Object::new();
        let c = Object::new();
        let slot = Arc::new(AtomicPtr::new(a));
        let node = registered_reader(&domain);

        let reader = {
            let (domain, slot) = (Arc::clone(&domain), Arc::clone(&slot));
            thread::spawn(move || reading.read(&domain, &node, &slot))
        };
        let other_updater = {
            let (domain, slot) = (Arc::clone(&domain), Arc::clone(&slot));
            thread::spawn(move || {
                let previous = slot.swap(b, Ordering::AcqRel);
                domain.synchronize();
                previous as usize
            })
        };
        let previous = slot.swap(c, Ordering::AcqRel);
        domain.synchronize();
        let other_previous = other_updater.join().unwrap() as *mut Object;
        // Each updater reclaims what it unpublished after its own grace period; the reader may
        // have seen either object, and neither may be reclaimed under it.
        // SAFETY: all three objects stay allocated until `free_all`.
        unsafe { (*previous).poison() };
        // SAFETY: as above.
        unsafe { (*other_previous).poison() };
        reader.join().unwrap();
        free_all(&[a, b, c]);
    });
}
