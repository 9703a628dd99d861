//! Callback flood: threads queue callbacks flat out (`defer_rcu`, `RcuOld::drop_async`, raw
//! `call_rcu`). Backpressure keeps the number of pending callbacks under the configured cap, except
//! for the callers the documentation exempts (inside a read-side critical section, with an online
//! `QsbrReader`, or on the callback worker), and after `rcu_barrier` every callback has run exactly once.

use core::pin::pin;
use core::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{
    Field, HasField, HasRcuHead, QsbrReader, Rcu, RcuHead, call_rcu, config, defer_rcu, rcu_barrier,
    read_lock, stats, synchronize_rcu,
};

use test_support::liveness::{HANG, join_while_progressing};

/// The cap on pending callbacks for this binary: small, so that the flood hits it constantly.
const CAP: usize = 1_000;
/// How long the flooders queue.
const FLOOD: Duration = Duration::from_millis(1_500);
/// No callback finishing for this long while a test waits for callbacks means the callback worker
/// is stuck or dead (batches take milliseconds): the test fails instead of hanging.
const WORKER_STALL: Duration = Duration::from_secs(5);

/// The tests of this binary change and observe process-wide state (the cap, the pending count):
/// they run one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    let guard = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    // Start the engine first: it reads `RCU_MAX_PENDING` once at start, which must not undo us.
    synchronize_rcu();
    config::set_max_pending_callbacks(CAP);
    guard
}

/// Counts of one kind of callback: queued by the flooders, run by the worker.
#[derive(Default)]
struct Tally {
    queued: AtomicU64,
    ran: AtomicU64,
    /// Objects freed a second time (each one records its own first free).
    freed_twice: AtomicU64,
}

/// An object freed through its embedded head, by `drop_async` or by `call_rcu` directly.
struct Node {
    freed: AtomicBool,
    tally: Arc<Tally>,
    head: RcuHead,
}

impl Node {
    fn new(tally: &Arc<Tally>) -> Box<Self> {
        Box::new(Self { freed: AtomicBool::new(false), tally: Arc::clone(tally), head: RcuHead::new() })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Relaxed: counters read after `rcu_barrier`, which orders them.
        if self.freed.swap(true, Ordering::Relaxed) {
            self.tally.freed_twice.fetch_add(1, Ordering::Relaxed);
        }
        self.tally.ran.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: `Type` and `OFFSET` are those of `Node::head`, read from the field itself.
unsafe impl HasField<Field<2>> for Node {
    type Type = RcuHead;
    const OFFSET: usize = core::mem::offset_of!(Node, head);
}

// SAFETY: both methods go through the `HasField` impl of the `head` field, so they project to that
// field of `*this` with the same provenance and back.
unsafe impl HasRcuHead for Node {
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
        <Self as HasField<Field<2>>>::raw_get_field(this)
    }

    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
        // SAFETY: forwarded from the caller.
        unsafe { <Self as HasField<Field<2>>>::field_container_of(head) }
    }
}

/// Frees a `Box<Node>` queued by [`queue_raw`].
///
/// # Safety
///
/// `head` is the head of a `Node` leaked from a `Box` by `queue_raw`, passed here once.
unsafe fn free_node(head: NonNull<RcuHead>) {
    // SAFETY: by this function's contract we now own the leaked box around `head`.
    drop(unsafe { Box::from_raw(Node::rcu_head_container_of(head.as_ptr())) });
}

/// Queues the free of a fresh node with the kernel-shaped `call_rcu`.
fn queue_raw(tally: &Arc<Tally>) {
    let node = Box::into_raw(Node::new(tally));
    let head = NonNull::new(Node::raw_get_rcu_head(node)).expect("a box is never null");
    // SAFETY: the node was just leaked, so we own it and its head, which is not queued;
    // `free_node` reclaims exactly that box, once; a `Node` may be dropped on any thread.
    unsafe { call_rcu(head, free_node) };
}

/// The ways a flooder queues callbacks.
#[derive(Clone, Copy, Debug)]
enum Flavour {
    DeferRcu,
    DropAsync,
    CallRcu,
}

/// Queues callbacks of one flavour until `deadline`; returns the most callbacks it saw pending
/// right after one of its own enqueues (when the count is at its highest).
fn flood(flavour: Flavour, tally: &Arc<Tally>, deadline: Instant) -> usize {
    let mut slot = pin!(Rcu::new(Node::new(tally)));
    tally.queued.fetch_add(1, Ordering::Relaxed); // the node published above, freed at the end
    let mut most_pending = 0;
    while Instant::now() < deadline {
        for _ in 0..64 {
            match flavour {
                Flavour::DeferRcu => {
                    let tally = Arc::clone(tally);
                    defer_rcu(move || {
                        tally.ran.fetch_add(1, Ordering::Relaxed);
                    });
                }
                Flavour::DropAsync => {
                    let old = slot.as_mut().replace(Node::new(tally)).expect("the slot is never empty");
                    old.drop_async();
                }
                Flavour::CallRcu => queue_raw(tally),
            }
            tally.queued.fetch_add(1, Ordering::Relaxed);
            most_pending = most_pending.max(stats().callbacks_pending);
        }
    }
    if let Some(last) = slot.as_mut().take() {
        last.drop_async();
    }
    most_pending
}

/// Runs a test body on its own thread and fails the test, instead of hanging it, if callbacks
/// stop running while some are pending: the callback worker is then stuck or dead, and anything
/// that waits for callbacks (a barrier, a throttled enqueue) would wait forever.
fn watched(body: impl FnOnce() + Send + 'static) {
    let mut idle_ticks = 0;
    let progress = move || {
        let now = stats();
        if now.callbacks_pending == 0 {
            idle_ticks += 1;
        }
        now.callbacks_run + idle_ticks
    };
    let what = "the test (callbacks stopped running while some were pending: the callback worker \
                'rcu-callbacks' is stuck or dead, look for its panic above)";
    join_while_progressing(thread::spawn(body), WORKER_STALL, what, progress);
}

/// Waits until every callback has finished, including ones queued by other threads after the
/// last `rcu_barrier` (its marker only covers what was queued before it).
fn wait_until_nothing_is_pending() {
    let patience = Instant::now() + HANG;
    while stats().callbacks_pending != 0 {
        assert!(Instant::now() < patience, "pending callbacks never drained: {:?}", stats());
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_flood_stays_under_the_cap_and_every_callback_runs_once() {
    let _serial = serial();
    watched(|| {
        let panics_before = stats().callback_panics;
        let flavours = [Flavour::DeferRcu, Flavour::DropAsync, Flavour::CallRcu];
        let tallies: Vec<_> = flavours.iter().map(|_| Arc::new(Tally::default())).collect();
        let deadline = Instant::now() + FLOOD;
        let flooders: Vec<_> = flavours
            .iter()
            .zip(&tallies)
            .map(|(&flavour, tally)| {
                let tally = Arc::clone(tally);
                thread::spawn(move || flood(flavour, &tally, deadline))
            })
            .collect();
        let most_pending = flooders.into_iter().map(|f| f.join().expect("a flooder panicked")).max();
        let most_pending = most_pending.unwrap_or(0);
        rcu_barrier();

        let total: u64 = tallies.iter().map(|t| t.queued.load(Ordering::Relaxed)).sum();
        println!("flood: {total} callbacks queued, at most {most_pending} pending (cap {CAP})");
        // Each flooder may enqueue one callback past the cap before it waits for room.
        assert!(
            most_pending <= CAP + flavours.len(),
            "{most_pending} callbacks pending with a cap of {CAP} and {} flooders",
            flavours.len()
        );
        for (flavour, tally) in flavours.iter().zip(&tallies) {
            let (queued, ran) = (tally.queued.load(Ordering::Relaxed), tally.ran.load(Ordering::Relaxed));
            assert_eq!(ran, queued, "{flavour:?}: every queued callback runs once by rcu_barrier");
            assert_eq!(
                tally.freed_twice.load(Ordering::Relaxed),
                0,
                "{flavour:?}: an object was freed twice"
            );
        }
        assert!(total > 3 * CAP as u64, "the flood must go well past the cap to test it ({total} queued)");
        wait_until_nothing_is_pending(); // the worker's counters are final once nothing is pending
        assert_eq!(stats().callback_panics, panics_before);
    });
}

/// Queues three times the cap while `enter_section` keeps the thread inside a read-side section,
/// then leaves it: no grace period can end meanwhile, so nothing queued can run, and a throttled
/// caller would wait forever. The documented exemption lets it pass the cap.
fn callers_reading_are_not_throttled<S>(enter_section: impl FnOnce() -> S + Send + 'static) {
    let _serial = serial();
    watched(|| {
        let tally = Arc::new(Tally::default());
        let section = enter_section();
        for _ in 0..3 * CAP {
            queue_raw(&tally);
        }
        let pending = stats().callbacks_pending;
        assert!(pending >= 3 * CAP, "only {pending} pending: they cannot have run under our section");
        assert_eq!(tally.ran.load(Ordering::Relaxed), 0, "a callback ran under a live reader");
        drop(section);
        rcu_barrier();
        assert_eq!(tally.ran.load(Ordering::Relaxed), 3 * CAP as u64);
        wait_until_nothing_is_pending();
    });
}

#[test]
fn callers_inside_a_read_side_critical_section_are_not_throttled() {
    callers_reading_are_not_throttled(read_lock);
}

#[test]
fn callers_whose_qsbr_reader_is_online_are_not_throttled() {
    callers_reading_are_not_throttled(QsbrReader::register);
}

#[test]
fn callbacks_queued_by_a_callback_are_not_throttled() {
    let _serial = serial();
    watched(|| {
        let tally = Arc::new(Tally::default());
        let from_worker = Arc::clone(&tally);
        // The worker cannot wait for itself: a callback that queues past the cap must not block.
        defer_rcu(move || {
            for _ in 0..3 * CAP {
                queue_raw(&from_worker);
            }
        });
        rcu_barrier(); // runs the outer callback, which queues the others behind the barrier's marker
        rcu_barrier();
        assert_eq!(tally.ran.load(Ordering::Relaxed), 3 * CAP as u64);
        assert_eq!(tally.freed_twice.load(Ordering::Relaxed), 0);
        wait_until_nothing_is_pending();
    });
}

/// Regression test for a race in `CallbackQueue::push` (src/callbacks.rs): the head is published
/// by the compare-and-swap before `pending` is incremented, so the worker can take the head, run
/// it and subtract it in `finished` before the enqueuer adds it. `pending` then goes below zero:
/// in debug builds `fetch_sub(ran) - ran` panics on the worker thread ("attempt to subtract with
/// overflow") and no callback ever runs again (barriers hang, throttled callers block for good);
/// in release builds `stats().callbacks_pending` reads about 2^64 for a moment.
///
/// The window is a preemption between the two steps of the enqueue. More enqueuers than cores
/// make preemption likely, and backpressure makes it matter: while the enqueuers wait for room,
/// no later callback is counted in `pending` to hide the missing increment.
#[test]
fn the_pending_count_never_goes_below_zero_when_the_worker_overtakes_an_enqueue() {
    let _serial = serial();
    watched(|| {
        const ENQUEUERS: usize = 8;
        const EACH: usize = 100_000;
        let ran = Arc::new(AtomicUsize::new(0));
        let enqueuers: Vec<_> = (0..ENQUEUERS)
            .map(|_| {
                let ran = Arc::clone(&ran);
                thread::spawn(move || {
                    let mut most_pending = 0;
                    for _ in 0..EACH {
                        let ran = Arc::clone(&ran);
                        defer_rcu(move || {
                            ran.fetch_add(1, Ordering::Relaxed);
                        });
                        most_pending = most_pending.max(stats().callbacks_pending);
                    }
                    most_pending
                })
            })
            .collect();
        let most_pending = enqueuers.into_iter().map(|e| e.join().expect("an enqueuer panicked")).max();
        let most_pending = most_pending.unwrap_or(0);
        assert!(
            most_pending <= ENQUEUERS * EACH,
            "{most_pending} callbacks pending, more than were ever queued: the count went below zero"
        );
        rcu_barrier();
        assert_eq!(ran.load(Ordering::Relaxed), ENQUEUERS * EACH);
        wait_until_nothing_is_pending();
    });
}
