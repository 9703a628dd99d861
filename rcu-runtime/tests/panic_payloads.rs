//! Panics whose payload panics again when dropped, in every place the engine catches a user
//! panic: callbacks, values a callback drops late, and the stall handler. None of them may abort
//! the process or leave the engine inconsistent (a grace period half done, a callback worker
//! dead); later grace periods and callbacks go on.
//!
//! The stall-handler scenarios change process-wide settings, so each runs in a child process.
//! The tests run one at a time: a fork while another test's panic is being printed would copy
//! the standard library's locked stderr (or backtrace lock) into the child, whose own panic would
//! then wait for it forever.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use rcu_runtime::config::{StallReport, set_stall_handler, set_stall_timeout};
use rcu_runtime::{Rcu, defer_rcu, rcu_barrier, read_lock, stats, synchronize_rcu};
use test_support::child::{Outcome, in_child};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A panic payload whose destructor panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the panic payload's destructor panics too");
    }
}

/// A value whose destructor panics with a payload that panics when dropped.
struct DropPanicsWithABadPayload;

impl Drop for DropPanicsWithABadPayload {
    fn drop(&mut self) {
        std::panic::panic_any(PanicsOnDrop);
    }
}

#[test]
fn a_callback_panicking_with_a_payload_that_panics_on_drop_does_not_stop_the_others() {
    let _alone = alone();
    let ran = Arc::new(AtomicUsize::new(0));
    let panics_before = stats().callback_panics;
    for i in 0..3 {
        let ran = Arc::clone(&ran);
        defer_rcu(move || {
            if i == 1 {
                std::panic::panic_any(PanicsOnDrop);
            }
            ran.fetch_add(1, Ordering::SeqCst);
        });
    }
    rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), 2, "the callbacks around the panicking one ran");
    assert!(stats().callback_panics > panics_before, "the panic was counted");
    // The worker is alive: more callbacks run.
    let again = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&again);
    defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier();
    assert!(again.load(Ordering::SeqCst));
}

#[test]
fn a_value_dropped_late_by_a_callback_may_panic_with_a_bad_payload() {
    let _alone = alone();
    // Dropped on the worker, a non-null `Rcu` is reclaimed after the worker's next grace period
    // (a deferred drop): its value's destructor panics there.
    let value = Rcu::new(Box::new(DropPanicsWithABadPayload));
    defer_rcu(move || drop(value));
    rcu_barrier();
    synchronize_rcu();
    let again = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&again);
    defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier();
    assert!(again.load(Ordering::SeqCst), "the worker survived");
}

/// Runs `handler` as the stall handler against a reader that holds a grace period up for a while,
/// in a child process; the grace period must still complete once the reader leaves, and later
/// ones too.
fn stall_handler_scenario(handler: fn(&StallReport)) -> Outcome {
    // SAFETY: the child only uses the engine, whose fork handlers keep it consistent; no other
    // test of this binary runs meanwhile (see the module documentation).
    unsafe {
        in_child(Duration::from_secs(30), |_| {
            set_stall_timeout(Duration::from_millis(20));
            set_stall_handler(handler);
            let reader = thread::spawn(|| {
                let _guard = read_lock();
                thread::sleep(Duration::from_millis(200));
            });
            thread::sleep(Duration::from_millis(20)); // the reader is inside its section
            synchronize_rcu(); // stalls; the handler runs (and panics) several times
            reader.join().map_err(|_| "the reader panicked".to_owned())?;
            synchronize_rcu();
            rcu_barrier();
            Ok(())
        })
    }
}

fn handler_panicking_with_a_bad_payload(_: &StallReport) {
    std::panic::panic_any(PanicsOnDrop);
}

fn handler_waiting_for_a_grace_period(_: &StallReport) {
    synchronize_rcu(); // must panic (it would wait for the grace period that calls it)
}

#[test]
fn a_stall_handler_panicking_with_a_payload_that_panics_on_drop_leaves_grace_periods_working() {
    let _alone = alone();
    assert_eq!(stall_handler_scenario(handler_panicking_with_a_bad_payload), Outcome::Passed);
}

#[test]
fn a_stall_handler_that_waits_for_a_grace_period_panics_instead_of_deadlocking() {
    let _alone = alone();
    assert_eq!(stall_handler_scenario(handler_waiting_for_a_grace_period), Outcome::Passed);
}
