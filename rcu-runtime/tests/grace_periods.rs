//! Grace periods: readers on several threads against `synchronize_rcu`, sharing between
//! concurrent callers, polled grace periods.

use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use rcu_runtime::{read_lock, start_poll, stats, synchronize_rcu};
use test_support::{ReaderInside, Tracked, counter};

/// Held by the tests that run many grace periods and by the one that counts them, so that the
/// count is not swamped (under AddressSanitizer the first overlapped the second: 363 counted).
static MANY_GRACE_PERIODS: Mutex<()> = Mutex::new(());

#[test]
fn readers_never_observe_an_object_freed_after_synchronize_rcu() {
    let _exclusive = MANY_GRACE_PERIODS.lock().unwrap_or_else(PoisonError::into_inner);
    let drops = counter();
    let slot = Arc::new(AtomicPtr::new(Box::into_raw(Box::new(Tracked::new(0, &drops)))));
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (slot, stop, reads) = (Arc::clone(&slot), Arc::clone(&stop), Arc::clone(&reads));
            thread::spawn(move || {
                let mut last = 0;
                while !stop.load(Ordering::Relaxed) {
                    let guard = read_lock();
                    let nested = read_lock(); // nesting must not end the section early
                    let object = slot.load(Ordering::Acquire);
                    drop(nested);
                    // SAFETY: the object was published and is freed only after a grace period
                    // that starts after it was unpublished, which waits for `guard`.
                    let id = unsafe { (*object).check() };
                    assert!(id >= last, "ids only grow");
                    last = id;
                    drop(guard);
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Every reader is reading before the updates start: on a loaded machine, 2000 grace periods
    // with no reader registered yet can be over before a reader thread first runs.
    while reads.load(Ordering::Relaxed) < 3 {
        thread::yield_now();
    }

    let updates = 2_000;
    for id in 1..=updates {
        let old = slot.swap(Box::into_raw(Box::new(Tracked::new(id, &drops))), Ordering::AcqRel);
        synchronize_rcu();
        // SAFETY: unpublished above, and a grace period has elapsed: no reader can hold it.
        drop(unsafe { Box::from_raw(old) });
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().expect("a reader saw a reclaimed object");
    }
    // SAFETY: the readers are gone; the last object is ours.
    drop(unsafe { Box::from_raw(slot.load(Ordering::Acquire)) });
    assert_eq!(drops.load(Ordering::SeqCst), updates as usize + 1);
    assert!(reads.load(Ordering::Relaxed) > 0);
}

#[test]
fn synchronize_rcu_waits_for_a_reader_that_started_before_it() {
    let released = Arc::new(AtomicBool::new(false));
    let reader = {
        let released = Arc::clone(&released);
        ReaderInside::enter(move || released.store(true, Ordering::SeqCst))
    };
    let waiter = {
        let released = Arc::clone(&released);
        thread::spawn(move || {
            synchronize_rcu();
            released.load(Ordering::SeqCst)
        })
    };
    thread::sleep(Duration::from_millis(30));
    reader.leave();
    assert!(waiter.join().unwrap(), "synchronize_rcu returned while the reader was still inside");
}

#[test]
fn concurrent_callers_share_grace_periods() {
    const CALLERS: usize = 6;
    let _exclusive = MANY_GRACE_PERIODS.lock().unwrap_or_else(PoisonError::into_inner);
    // A reader holds the grace period up while every caller arrives, so that they queue up.
    let reader = ReaderInside::enter(|| ());
    let before = stats().grace_periods;
    let start = Arc::new(Barrier::new(CALLERS + 1));
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                synchronize_rcu();
            })
        })
        .collect();
    start.wait();
    thread::sleep(Duration::from_millis(100));
    reader.leave();
    for caller in callers {
        caller.join().unwrap();
    }
    let used = stats().grace_periods - before;
    // One grace period was running when the others arrived; one more serves all of them. Other
    // tests of this binary may add a few of their own, but never one per caller.
    assert!(used < CALLERS as u64, "{CALLERS} callers used {used} grace periods");
}

#[test]
fn a_polled_grace_period_completes_only_after_pre_existing_readers() {
    let reader = ReaderInside::enter(|| ());
    let state = start_poll();
    thread::sleep(Duration::from_millis(30));
    assert!(!state.poll(), "a grace period completed under a live reader");
    reader.leave();
    state.wait();
    assert!(state.poll());
    // The worker drives polled grace periods by itself: a fresh one completes without `wait`.
    let next = start_poll();
    while !next.poll() {
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn start_poll_inside_a_reader_does_not_block() {
    let guard = read_lock();
    let state = start_poll();
    assert!(!state.poll(), "our own guard holds the grace period up");
    drop(guard);
    state.wait();
}

#[test]
fn synchronize_rcu_without_registered_readers_returns() {
    thread::spawn(synchronize_rcu).join().unwrap();
    synchronize_rcu();
}
