//! A guard leaked by a thread that then exits keeps its critical section open for good.
//!
//! `Box::leak(Box::new(read_lock()))` is safe and gives a `&'static Guard`, so a borrow taken
//! under it is `&'static` and may reach other threads. No grace period may complete while it
//! exists, even after the leaking thread has exited: its reader stays registered and active, and
//! grace periods wait for it (reporting stalls that name the thread), as crossbeam-epoch keeps a
//! leaked guard's epoch pinned. Found by the compile-fail suite's author; this test failed before
//! `Registration::drop` learned to keep an open section registered.
//!
//! This process's grace periods stall for good once the test has run, so it has a binary of its
//! own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rcu_runtime::config::{StallReport, set_stall_handler, set_stall_timeout};
use rcu_runtime::{RcuBox, RcuMap, read_lock, start_poll};

/// Set when the value the leaked borrow points to has been dropped.
static FREED: AtomicBool = AtomicBool::new(false);
/// Set when a grace period reports that it is waiting on the thread that leaked its guard.
static STALLED_ON_LEAKER: AtomicBool = AtomicBool::new(false);

const LEAKER: &str = "leaks-its-guard";

/// A value that records its drop.
struct Tracked(u64);

impl Drop for Tracked {
    fn drop(&mut self) {
        FREED.store(true, Ordering::SeqCst);
    }
}

fn record_stall(report: &StallReport) {
    if report.thread_name.as_deref() == Some(LEAKER) {
        STALLED_ON_LEAKER.store(true, Ordering::SeqCst);
    }
}

#[test]
fn grace_period_waits_for_a_guard_leaked_by_an_exited_thread() {
    set_stall_handler(record_stall);
    set_stall_timeout(Duration::from_millis(20));

    let map: &'static RcuMap<u32, RcuBox<Tracked>> = Box::leak(Box::new(RcuMap::new()));
    map.insert(1, RcuBox::new(Tracked(7)));

    let borrowed: &'static Tracked = std::thread::Builder::new()
        .name(LEAKER.to_owned())
        .spawn(move || {
            let guard: &'static _ = Box::leak(Box::new(read_lock()));
            map.load_rcu(&1, guard).expect("inserted above")
        })
        .expect("spawn the reader")
        .join()
        .expect("the reader does not panic");

    // Unpublish and drop the value: it may be freed only after a grace period, and no grace
    // period can end while the leaked guard's section is open.
    drop(map.remove(&1));
    let grace_period = start_poll();
    while !STALLED_ON_LEAKER.load(Ordering::SeqCst) {
        assert!(
            !grace_period.poll() && !FREED.load(Ordering::SeqCst),
            "a grace period completed while a leaked Guard's critical section was still open; \
             `borrowed` now dangles"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    // Still inside the leaked section: the value must be intact.
    assert!(!FREED.load(Ordering::SeqCst));
    assert_eq!(borrowed.0, 7);
}
