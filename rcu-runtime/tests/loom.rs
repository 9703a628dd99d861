//! Loom models of the grace-period handshake and the callback handoff.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p rcu-runtime --test loom --release`.
//! Every model poisons "freed" data through a `loom::cell::UnsafeCell`, so loom reports any
//! reader access that is not ordered before the reclamation as a data race: exactly a
//! use-after-free in the real program.
//!
//! The models drive a fresh engine `Domain` per execution through the methods the process-wide
//! engine runs: `synchronize` (what `synchronize_rcu` calls), `start_poll`/`poll` (`GpState`),
//! the callback queue's push (`call_rcu`'s enqueue), the worker's batch step
//! (`process_callbacks`, with its in-flight slot) and the backpressure wait. What they cannot
//! reach is the glue around them: thread-locals, the worker thread's parking, `fork()`.
//!
//! Covered: a reader against one grace period (plain, nested, QSBR across a quiescent state,
//! QSBR offline and online around the first look); two concurrent grace periods; a reader that
//! registers and unregisters while grace periods scan (and while one finds the registry empty);
//! a reader preempted between loading the phase and storing it for a whole grace period; a
//! poller reclaiming while two leaders run grace periods; the callback handoff, FIFO order, and
//! the backpressure handshake (a lost wake-up is a deadlock loom reports). Each of the last two
//! was checked to fail with the bug it guards against put back (a Relaxed store of the odd
//! sequence value; the handshake without its fences).
//!
//! # The membarrier flavour under loom
//!
//! Under loom both halves of the asymmetric fence pair are `fence(SeqCst)` (loom knows no
//! membarrier). That still models the membarrier flavour, whose reader half is only a compiler
//! fence: `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` makes every thread of the process that
//! is running execute a full barrier before the call returns (a thread that is not running gets
//! one from the context switch). For a reader, that barrier falls somewhere in its instruction
//! stream; the compiler fences keep the program order of its counter store and its section's
//! accesses in that stream, so wherever the barrier falls relative to them, it orders them as a
//! full fence of the reader's would have at the matching program point, and it is ordered with
//! the grace period's own accesses as the grace period's `SeqCst` fence is. That is the
//! Linux-kernel memory model's reading of `sys_membarrier` (an `smp_mb()` on every CPU) and the
//! argument of liburcu's memb flavour; a reader `SeqCst` fence exactly where the compiler fence
//! is gives the same orderings, and so loom checks the same protocol.
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

/// A QSBR reader that goes offline and online again (around the grace period's first look at
/// its quiescent-state count, in some interleavings), then passes a quiescent state: each of its
/// three reads must be protected.
fn read_offline_and_online_again(domain: &Domain, node: &ReaderNode, slot: &AtomicPtr<Object>) {
    node.lock(domain); // online
    read_object(slot.load(Ordering::Acquire));
    node.unlock(domain); // offline
    node.lock(domain); // online again
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
    OfflineAndOnlineAgain,
    /// Registers on its own thread (while a grace period may be scanning the registry, or may
    /// have found it empty), reads once, and unregisters (while another may be scanning).
    RegisteringAndUnregistering,
}

impl Reading {
    /// Reads through `node`, the reader registered before the model started (none for
    /// [`Reading::RegisteringAndUnregistering`], which registers its own).
    fn read(self, domain: &Domain, node: Option<&ReaderNode>, slot: &AtomicPtr<Object>) {
        let registered = || node.expect("registered before the model started");
        match self {
            Self::Once => read_once(domain, registered(), slot, false),
            Self::Nested => read_once(domain, registered(), slot, true),
            Self::AcrossAQuiescentState => read_across_a_quiescent_state(domain, registered(), slot),
            Self::OfflineAndOnlineAgain => read_offline_and_online_again(domain, registered(), slot),
            Self::RegisteringAndUnregistering => {
                let node = registered_reader(domain);
                read_once(domain, &node, slot, false);
                domain.unregister(&node);
            }
        }
    }
}

/// How the updater of a model unpublishes the old object and waits before reclaiming it.
#[derive(Clone, Copy)]
enum Updating {
    /// Publish the new object, then one grace period.
    Synchronize,
    /// A whole grace period first (which a reader may sleep through between loading the phase
    /// and storing it into its counter), then as `Synchronize`.
    AfterAWholeGracePeriod,
}

fn free_all(objects: &[*mut Object]) {
    for &object in objects {
        // SAFETY: leaked by `Object::new`, freed once, after every thread of the model joined.
        drop(unsafe { Box::from_raw(object) });
    }
}

fn synchronize_model(reading: Reading, updating: Updating) {
    loom::model(move || {
        let domain = Arc::new(Domain::new());
        let old = Object::new();
        let new = Object::new();
        let slot = Arc::new(AtomicPtr::new(old));
        let node =
            (!matches!(reading, Reading::RegisteringAndUnregistering)).then(|| registered_reader(&domain));

        let reader = {
            let (domain, slot) = (Arc::clone(&domain), Arc::clone(&slot));
            thread::spawn(move || reading.read(&domain, node.as_deref(), &slot))
        };

        if let Updating::AfterAWholeGracePeriod = updating {
            domain.synchronize();
        }
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
    synchronize_model(Reading::Once, Updating::Synchronize);
}

#[test]
fn nested_guards_keep_the_outer_section_alive() {
    synchronize_model(Reading::Nested, Updating::Synchronize);
}

/// A QSBR reader's quiescent state splits its section in two: an object read on either side of
/// it is never reclaimed under the reader.
#[test]
fn a_quiescent_state_ends_one_section_and_the_next_one_is_protected_too() {
    synchronize_model(Reading::AcrossAQuiescentState, Updating::Synchronize);
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
            thread::spawn(move || reading.read(&domain, Some(&node), &slot))
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

/// A polled grace period: a poller that sees `poll` return true reclaims at once, while two
/// leaders run grace periods concurrently. The sequence value the poller reads may have been
/// stored by the second leader as it starts its own grace period; it must still carry the
/// completion of the one the poller waited for (its Release store, paired with `poll`'s Acquire).
#[test]
fn a_poller_that_sees_its_grace_period_done_may_reclaim() {
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
        let leaders: Vec<_> = (0..2)
            .map(|_| {
                let domain = Arc::clone(&domain);
                thread::spawn(move || domain.synchronize())
            })
            .collect();

        slot.store(new, Ordering::Release);
        let target = domain.start_poll();
        for _ in 0..3 {
            if domain.poll(target) {
                // SAFETY: `old` stays allocated until `free_all`.
                unsafe { (*old).poison() };
                break;
            }
            thread::yield_now();
        }
        reader.join().unwrap();
        for leader in leaders {
            leader.join().unwrap();
        }
        free_all(&[old, new]);
    });
}

/// A reader that registers while a grace period runs (possibly after the grace period took its
/// look at the registry, or found it empty and returned at once), reads, and unregisters while
/// another grace period may be scanning: nothing it read is reclaimed under it.
#[test]
fn a_reader_that_registers_and_unregisters_during_grace_periods_is_covered() {
    synchronize_model(Reading::RegisteringAndUnregistering, Updating::Synchronize);
}

/// A QSBR reader goes offline and online again around the grace period's first look at its
/// quiescent-state count, then passes a quiescent state: each of its three reads is protected.
#[test]
fn a_qsbr_reader_going_offline_and_online_around_the_first_look_is_covered() {
    synchronize_model(Reading::OfflineAndOnlineAgain, Updating::Synchronize);
}

/// A reader preempted between loading the phase and storing it into its counter, for the whole
/// of a grace period (two phase flips): it enters its section with a stale phase, after which the
/// next grace period must still wait for it.
#[test]
fn a_reader_that_stores_a_stale_phase_after_a_whole_grace_period_is_waited_for() {
    synchronize_model(Reading::Once, Updating::AfterAWholeGracePeriod);
}

/// Backpressure: a caller that queued past the bound waits for room, and the worker's step wakes
/// it once the backlog shrinks. A lost wake-up leaves the caller blocked, which loom reports.
#[test]
fn a_caller_waiting_for_room_is_woken_when_the_worker_catches_up() {
    loom::model(|| {
        let domain = Arc::new(Domain::new());
        let a = Object::new();
        let b = Object::new();
        let queued = Arc::new(AtomicBool::new(false));

        let worker = {
            let (domain, queued) = (Arc::clone(&domain), Arc::clone(&queued));
            thread::spawn(move || {
                loop {
                    // Acquire, before taking a batch: once the caller has queued both callbacks,
                    // the batch taken next contains them (the real worker never stops at all).
                    let all_queued = queued.load(Ordering::Acquire);
                    if domain.run_callbacks() == 0 && all_queued {
                        break;
                    }
                    thread::yield_now();
                }
            })
        };
        // SAFETY: each head is queued once, and its object outlives the model's callbacks.
        unsafe {
            domain.call_rcu(NonNull::new(&raw mut (*a).head).unwrap(), poison_callback);
            domain.call_rcu(NonNull::new(&raw mut (*b).head).unwrap(), poison_callback);
        }
        queued.store(true, Ordering::Release);
        domain.wait_for_room(1);
        worker.join().unwrap();
        free_all(&[a, b]);
    });
}
