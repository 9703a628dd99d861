//! Every documented panic happens, with its message: blocking for a grace period inside a
//! read-side critical section on the same thread (it would wait for the caller's own guard), and
//! `rcu_barrier` from a callback (it would wait for the worker running it). Each has a passing twin
//! that shows the same call is fine where it is allowed, so a panic cannot pass for an unrelated
//! reason.

use core::pin::pin;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use rcu_runtime::{Rcu, defer_rcu, rcu_barrier, read_lock, start_poll, stats, synchronize_rcu};
use test_support::{isolated, panic_message};

/// The part of the message every "would deadlock" panic shares.
const INSIDE_A_SECTION: &str = "called inside an RCU read-side critical section on the same thread";

/// Runs `f` inside a read-side critical section and returns its panic message.
fn panic_inside_a_section(f: impl FnOnce()) -> String {
    let guard = read_lock();
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the call did not panic");
    drop(guard);
    panic_message(&*payload)
}

#[test]
fn synchronize_rcu_inside_a_section_panics() {
    let msg = panic_inside_a_section(synchronize_rcu);
    assert!(msg.starts_with("synchronize_rcu() ") && msg.contains(INSIDE_A_SECTION), "{msg}");
    assert!(msg.contains("would deadlock"), "the message says why: {msg}");
    synchronize_rcu(); // the twin: outside a section it returns
}

#[test]
fn rcu_barrier_inside_a_section_panics() {
    let msg = panic_inside_a_section(rcu_barrier);
    assert!(msg.starts_with("rcu_barrier() ") && msg.contains(INSIDE_A_SECTION), "{msg}");
    rcu_barrier();
}

/// Regression test: `RcuOld::wait` panics before it takes the value out of `self`, so unwinding
/// drops the `RcuOld`, whose `Drop` (src/old.rs) makes the same check and panics again: a panic
/// during a panic aborts the process instead of the documented panic. Runs in its own process.
#[test]
fn rcu_old_wait_inside_a_section_panics() {
    if !isolated("rcu_old_wait_inside_a_section_panics") {
        return;
    }
    let mut rcu = pin!(Rcu::new(Box::new(1)));
    let old = rcu.as_mut().replace(Box::new(2)).expect("published above");
    let msg = panic_inside_a_section(|| drop(old.wait()));
    assert!(msg.starts_with("RcuOld::wait() ") && msg.contains(INSIDE_A_SECTION), "{msg}");
    let old = rcu.as_mut().replace(Box::new(3)).expect("published above");
    assert_eq!(*old.wait(), 2);
}

/// The same double panic without misuse: user code that panics inside a section, where an
/// `RcuOld` declared after the guard is dropped first by the unwinding, aborts the process
/// instead of unwinding (src/old.rs: `Drop` checks for a section even while the thread is already
/// panicking). Runs in its own process.
#[test]
fn a_panic_that_unwinds_past_an_rcu_old_inside_a_section_does_not_abort() {
    if !isolated("a_panic_that_unwinds_past_an_rcu_old_inside_a_section_does_not_abort") {
        return;
    }
    let mut rcu = pin!(Rcu::new(Box::new(1)));
    let payload = catch_unwind(AssertUnwindSafe(|| {
        let _guard = read_lock();
        let _old = rcu.as_mut().replace(Box::new(2));
        panic!("user code failed");
    }))
    .expect_err("the closure panics");
    assert_eq!(panic_message(&*payload), "user code failed");
    synchronize_rcu();
}

#[test]
fn gp_state_wait_inside_a_section_panics_while_the_grace_period_is_pending() {
    let guard = read_lock();
    // Started inside our own section: it cannot complete until the guard is dropped.
    let state = start_poll();
    assert!(!state.poll());
    let payload = catch_unwind(|| state.wait()).expect_err("the call did not panic");
    drop(guard);
    let msg = panic_message(&*payload);
    assert!(msg.starts_with("GpState::wait() ") && msg.contains(INSIDE_A_SECTION), "{msg}");
    state.wait();
    // An already completed grace period needs no waiting, so `wait` returns even inside a section.
    let _guard = read_lock();
    state.wait();
}

#[test]
fn dropping_an_rcu_old_inside_a_section_panics() {
    let mut rcu = pin!(Rcu::new(Box::new(1)));
    let old = rcu.as_mut().replace(Box::new(2)).expect("published above");
    let msg = panic_inside_a_section(|| drop(old));
    assert!(
        msg.starts_with("dropping an RcuOld (or a non-null Rcu)") && msg.contains(INSIDE_A_SECTION),
        "{msg}"
    );
    drop(rcu.as_mut().replace(Box::new(3)));
}

#[test]
fn dropping_a_non_null_rcu_inside_a_section_panics() {
    let rcu = Rcu::new(Box::new(1));
    let msg = panic_inside_a_section(|| drop(rcu));
    assert!(
        msg.starts_with("dropping an RcuOld (or a non-null Rcu)") && msg.contains(INSIDE_A_SECTION),
        "{msg}"
    );
    // The twins: a null `Rcu` has nothing to wait for, and a non-null one outside a section waits.
    let _guard = read_lock();
    drop(Rcu::<Box<u32>>::null());
    drop(_guard);
    drop(Rcu::new(Box::new(2)));
}

#[test]
fn rcu_barrier_from_a_callback_panics_and_the_worker_carries_on() {
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    defer_rcu(move || {
        let payload = catch_unwind(rcu_barrier).expect_err("rcu_barrier did not panic in a callback");
        *record.lock().unwrap() = Some(panic_message(&*payload));
    });
    rcu_barrier();
    let msg = seen.lock().unwrap().take().expect("the callback ran");
    assert!(msg.starts_with("rcu_barrier() called from an RCU callback"), "{msg}");
    assert!(msg.contains("would wait for the callback worker"), "the message says why: {msg}");

    // Uncaught, the panic is the callback's: the worker counts it and runs the next callbacks.
    let panics_before = stats().callback_panics;
    defer_rcu(rcu_barrier);
    let ran_after = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&ran_after);
    defer_rcu(move || *flag.lock().unwrap() = true);
    rcu_barrier();
    // The worker updates the counters after the whole batch that ran the barrier's marker; a
    // second barrier's marker runs in a later batch, so the counts are final when it returns.
    rcu_barrier();
    assert!(*ran_after.lock().unwrap(), "the callback after the panicking one ran");
    assert!(stats().callback_panics > panics_before, "the panic was counted");
}
