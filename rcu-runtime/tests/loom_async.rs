//! Loom models of the grace-period cookie (`RcuOld`'s state), the awaited grace period's wake-up,
//! and the lock-free compare-and-exchange update of `RcuCell`.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p rcu-runtime --no-default-features --test loom_async --release`.
//! As in `tests/loom.rs`, "freed" data is poisoned through a `loom::cell::UnsafeCell`, so a read
//! that is not ordered before the reclamation is reported as a data race: a use-after-free in
//! the real program.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicPtr, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use rcu_runtime::__loom::{Domain, ReaderNode, publish_update};

const POISON: usize = usize::MAX;

/// An RCU-protected counter that can be "freed" (poisoned).
struct Object {
    value: UnsafeCell<usize>,
}

/// Allocates an object holding `value`, recorded in `all` to be freed at the end of the model.
fn new_object(value: usize, all: &Mutex<Vec<usize>>) -> *mut Object {
    let object = Box::into_raw(Box::new(Object { value: UnsafeCell::new(value) }));
    all.lock().unwrap().push(object as usize);
    object
}

/// Reads an object that must not have been reclaimed.
fn read(object: *mut Object) -> usize {
    // SAFETY: objects stay allocated until `free_all`; a read racing with `poison` is what loom
    // reports.
    let value = unsafe { (*object).value.with(|v| *v) };
    assert_ne!(value, POISON, "read a reclaimed object");
    value
}

/// "Frees" an object: a write that loom checks against every unordered read.
fn poison(object: *mut Object) {
    // SAFETY: as in `read`.
    unsafe { (*object).value.with_mut(|v| *v = POISON) };
}

fn free_all(all: &Mutex<Vec<usize>>) {
    for object in all.lock().unwrap().drain(..) {
        // SAFETY: leaked by `new_object`, freed once, after every thread of the model joined.
        drop(unsafe { Box::from_raw(object as *mut Object) });
    }
}

fn registered_reader(domain: &Domain) -> Arc<ReaderNode> {
    let node = Arc::new(ReaderNode::new(None, 0));
    domain.register(Arc::clone(&node));
    node
}

/// A read-side section of a model's reader; ends when dropped (what `read_lock` gives).
struct Section<'a> {
    domain: &'a Domain,
    node: &'a ReaderNode,
}

impl<'a> Section<'a> {
    fn enter(domain: &'a Domain, node: &'a ReaderNode) -> Self {
        node.lock(domain);
        Self { domain, node }
    }
}

impl Drop for Section<'_> {
    fn drop(&mut self) {
        self.node.unlock(self.domain);
    }
}

/// The future of `GpState::wait_async`, against a model's domain.
struct Wait<'a> {
    domain: &'a Domain,
    target: u64,
    registration: Option<u64>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (domain, target) = (self.domain, self.target);
        if domain.poll_async(target, &mut self.registration, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// A task that awaits a grace period is woken by whichever thread completes it, whatever the
/// interleaving of its registration with the completion: `block_on` would park forever (loom
/// reports a deadlock) on a lost wake-up.
#[test]
fn an_awaited_grace_period_is_never_missed() {
    loom::model(|| {
        let domain = Arc::new(Domain::new());
        let target = domain.get_state();
        let leader = {
            let domain = Arc::clone(&domain);
            thread::spawn(move || domain.synchronize())
        };
        loom::future::block_on(Wait { domain: &domain, target, registration: None });
        leader.join().unwrap();
        assert_eq!(domain.async_waiters(), 0, "the wake-up removed the registration");
    });
}

/// An updater that unpublishes, takes the cookie (a fence and a load, no lock) and reclaims once
/// the cookie's grace period has elapsed, while another thread leads that grace period and a
/// reader registers during it (possibly after the grace period's registry snapshot: then it is
/// not waited for, and must see the new pointer). Without the fence after the leader's odd
/// store, the reader could load the old pointer unwaited-for.
#[test]
fn a_cookie_protects_every_reader_even_one_that_registers_during_the_grace_period() {
    loom::model(|| {
        let all = Arc::new(Mutex::new(Vec::new()));
        let domain = Arc::new(Domain::new());
        let old = new_object(1, &all);
        let new = new_object(2, &all);
        let slot = Arc::new(AtomicPtr::new(old));

        let reader = {
            let (domain, slot) = (Arc::clone(&domain), Arc::clone(&slot));
            thread::spawn(move || {
                let node = registered_reader(&domain);
                let section = Section::enter(&domain, &node);
                read(slot.load(Ordering::Acquire));
                drop(section);
            })
        };
        let leader = {
            let domain = Arc::clone(&domain);
            thread::spawn(move || domain.synchronize())
        };

        slot.store(new, Ordering::Release);
        let state = domain.get_state();
        domain.wait_for_state(state);
        poison(old);

        reader.join().unwrap();
        leader.join().unwrap();
        free_all(&all);
    });
}

/// Two updaters increment the counter with the compare-and-exchange loop of
/// `RcuCell::copy_update`, each reclaiming what it unpublished after its own grace period: no
/// increment is lost, the closure never reads a reclaimed counter (a round's section keeps it
/// alive), and each value built in a losing round is discarded exactly once.
#[test]
fn copy_update_loses_no_update_and_never_reads_a_reclaimed_value() {
    loom::model(|| {
        let all = Arc::new(Mutex::new(Vec::new()));
        let domain = Arc::new(Domain::new());
        let slot = Arc::new(AtomicPtr::new(new_object(0, &all).cast()));

        let updater =
            |domain: Arc<Domain>, slot: Arc<AtomicPtr<core::ffi::c_void>>, all: Arc<Mutex<Vec<usize>>>| {
                let node = registered_reader(&domain);
                let mut discarded = 0;
                let mut built = 0;
                // SAFETY: every unpublished counter is poisoned only after a grace period of
                // `domain` (below), whose sections `Section::enter` opens; what the closure builds is
                // ours until published.
                let old = unsafe {
                    publish_update(
                        &slot,
                        || Section::enter(&domain, &node),
                        |current| {
                            built += 1;
                            Some(new_object(read(current.cast()) + 1, &all).cast())
                        },
                        |_lost| discarded += 1,
                    )
                };
                assert_eq!(discarded, built - 1, "one value per losing round is discarded");
                let old = old.expect("the closure always publishes");
                let state = domain.get_state();
                domain.wait_for_state(state);
                poison(old.cast());
            };
        let other = {
            let (domain, slot, all) = (Arc::clone(&domain), Arc::clone(&slot), Arc::clone(&all));
            thread::spawn(move || updater(domain, slot, all))
        };
        updater(Arc::clone(&domain), Arc::clone(&slot), Arc::clone(&all));
        other.join().unwrap();
        assert_eq!(read(slot.load(Ordering::Acquire).cast()), 2, "an increment was lost");
        free_all(&all);
    });
}
