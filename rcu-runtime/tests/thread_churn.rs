//! Thread churn: threads that register, read and exit while grace periods run. No grace period may
//! wait for a thread that has gone, and exited threads must not stay registered. (A thread that
//! exits *inside* a section, with a leaked guard, is the exception: it must hold grace periods up
//! for good; `tests/leaked_guard.rs` covers it.)
//!
//! The registry is not observable from outside the crate, so its size is observed through memory:
//! each registered thread owns one reader node, aligned to 128 bytes (`#[repr(align(128))]` in
//! src/reader.rs), and this binary's allocator counts the live allocations with that alignment.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

use rcu_runtime::{RcuBox, RcuMap, defer_rcu, rcu_barrier, read_lock, synchronize_rcu};
use test_support::liveness::{HANG, join_within};

/// Alignment of the runtime's per-thread reader node (a cache-line pair).
const READER_NODE_ALIGN: usize = 128;

/// The system allocator, counting live allocations aligned like reader nodes.
struct AlignedCensus;

static LIVE_ALIGNED: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counter has no effect on memory.
unsafe impl GlobalAlloc for AlignedCensus {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded from our caller.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() && layout.align() >= READER_NODE_ALIGN {
            // Relaxed: read after the threads that allocate have been joined.
            LIVE_ALIGNED.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.align() >= READER_NODE_ALIGN {
            LIVE_ALIGNED.fetch_sub(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded from our caller.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: AlignedCensus = AlignedCensus;

/// The tests observe process-wide state (registrations, allocation counts): one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What readers read: one value that the updater keeps replacing.
type Shared = RcuMap<u32, RcuBox<u64>>;

/// Replaces the value and waits for grace periods until `stop`, and at least `min_rounds` times;
/// returns the number of rounds.
fn update_until(shared: &Shared, stop: &AtomicBool, min_rounds: u64) -> u64 {
    let mut rounds = 0;
    while rounds < min_rounds || !stop.load(Ordering::Relaxed) {
        rounds += 1;
        drop(shared.insert(0, RcuBox::new(rounds))); // the old box is freed after a grace period
        synchronize_rcu();
        if rounds % 32 == 0 {
            defer_rcu(|| {});
            rcu_barrier();
        }
    }
    rounds
}

/// A short-lived reader: registers on its first `read_lock`, reads a few times, exits.
fn short_lived_reader(shared: &Shared, index: u64) {
    for round in 0..4 {
        let outer = read_lock();
        let first = shared.load_rcu(&0, &outer).expect("the value is always there");
        let seen = *first;
        let inner = read_lock();
        if (index + round).is_multiple_of(8) {
            thread::yield_now(); // stay inside a while, so grace periods have to wait for us
        }
        drop(inner);
        let later = *shared.load_rcu(&0, &outer).expect("the value is always there");
        assert!(later >= seen, "versions go forward");
        assert_eq!(*first, seen, "a version read in this section is still intact");
    }
}

#[test]
fn exited_reader_threads_neither_hold_grace_periods_up_nor_stay_registered() {
    const WAVES: u64 = 250;
    const PER_WAVE: u64 = 16;
    let _serial = serial();
    let shared = Arc::new(Shared::new());
    shared.insert(0, RcuBox::new(0));
    // Settle what exists for good before counting: this thread's registration, the worker.
    drop(read_lock());
    synchronize_rcu();
    rcu_barrier();
    let baseline = LIVE_ALIGNED.load(Ordering::Relaxed);

    let stop = Arc::new(AtomicBool::new(false));
    let updater = {
        let (shared, stop) = (Arc::clone(&shared), Arc::clone(&stop));
        thread::spawn(move || update_until(&shared, &stop, 100))
    };
    let churn = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            for wave in 0..WAVES {
                let readers: Vec<_> = (0..PER_WAVE)
                    .map(|i| {
                        let shared = Arc::clone(&shared);
                        thread::spawn(move || short_lived_reader(&shared, wave * PER_WAVE + i))
                    })
                    .collect();
                for reader in readers {
                    reader.join().expect("a short-lived reader failed");
                }
            }
        })
    };
    join_within(churn, HANG, "the churn of short-lived readers");
    stop.store(true, Ordering::Relaxed);
    let rounds = join_within(updater, HANG, "the updater's grace periods");
    println!("{} short-lived readers, {rounds} updates with a grace period each", WAVES * PER_WAVE);

    // Grace periods keep the nodes they are looking at until they end: one more ends here.
    synchronize_rcu();
    rcu_barrier();
    let leaked = LIVE_ALIGNED.load(Ordering::Relaxed) - baseline;
    assert_eq!(leaked, 0, "{leaked} reader registrations outlived their threads");
}

/// Reads through RCU from a thread-local destructor, when the runtime's own thread-locals may
/// already be gone.
struct ReadsAtThreadExit;

static READ_AT_EXIT: AtomicU64 = AtomicU64::new(0);

impl Drop for ReadsAtThreadExit {
    fn drop(&mut self) {
        let boxed = RcuBox::new(7_u64);
        let guard = read_lock();
        let value = *boxed.with_rcu(&guard);
        drop(guard);
        READ_AT_EXIT.fetch_add(value, Ordering::SeqCst);
    }
}

thread_local! {
    static READS_AT_EXIT: ReadsAtThreadExit = const { ReadsAtThreadExit };
}

#[test]
fn read_lock_in_a_thread_local_destructor_works_and_does_not_hold_grace_periods_up() {
    let _serial = serial();
    READ_AT_EXIT.store(0, Ordering::SeqCst);
    let orders: [fn(); 3] = [
        // Never registered before: registers during thread-local destruction.
        || READS_AT_EXIT.with(|_| {}),
        // Registered after our thread-local: its registration may be destroyed before ours runs.
        || {
            READS_AT_EXIT.with(|_| {});
            drop(read_lock());
        },
        // Registered before our thread-local.
        || {
            drop(read_lock());
            READS_AT_EXIT.with(|_| {});
        },
    ];
    for order in orders {
        thread::spawn(order).join().expect("a thread that reads at exit failed");
        join_within(thread::spawn(synchronize_rcu), HANG, "synchronize_rcu after a read at thread exit");
    }
    assert_eq!(READ_AT_EXIT.load(Ordering::SeqCst), 3 * 7, "every destructor read its value");
    join_within(thread::spawn(rcu_barrier), HANG, "rcu_barrier after reads at thread exit");
}
