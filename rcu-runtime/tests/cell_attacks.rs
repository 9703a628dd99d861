//! Attacks on `RcuCell`, its snapshots and the awaited grace periods, from safe code, beyond
//! what `tests/rcu_cell.rs` and `tests/grace_period_state.rs` cover: wakers whose `Drop`, `wake`
//! or `clone` run user code that calls back into the engine or panics (with a payload whose own
//! drop panics); futures forgotten, dropped after registering, polled again after completing;
//! values whose `Drop` panics in every place the cell drops one; closures that re-enter the
//! cell, wait, or drop an `RcuOld`; the owner of a live borrow dropped on the borrowing thread;
//! and `fork` while another thread is inside `copy_update`'s loop or a future is pending.
//!
//! Each scenario that could deadlock the engine's own locks runs in a copy of this test binary
//! (`isolated`), under a time limit, so that a regression fails its test instead of hanging the
//! others.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use rcu_runtime::{RcuCell, is_reading, rcu_barrier, read_lock, start_poll, synchronize_rcu};
use test_support::{HANG, finishes_within};

/// Set in the environment of a copy of this test binary that runs one test on its own.
const IN_SUBPROCESS: &str = "RCU_CELL_ATTACKS_SUBPROCESS";

/// Runs the test `name` in a copy of this test binary, so that an abort or a deadlock of the
/// engine's locks cannot take the other tests down; returns whether this is that copy (then the
/// caller runs the test body).
fn isolated(name: &str) -> bool {
    if std::env::var_os(IN_SUBPROCESS).is_some() {
        return true;
    }
    let output = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_SUBPROCESS, "1")
        .output()
        .expect("cannot run the test binary again");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{name} failed in its own process ({}):\n{stderr}", output.status);
    false
}

/// A waker whose last drop starts a polled grace period: user code that runs wherever the
/// engine drops its copy of the waker, and that takes the engine's grace-period lock.
struct StartsPollOnDrop;

impl Wake for StartsPollOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for StartsPollOnDrop {
    fn drop(&mut self) {
        let _ = start_poll();
    }
}

fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_its_future_is_cancelled() {
    if !isolated("a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_its_future_is_cancelled") {
        return;
    }
    finishes_within(HANG, "cancelling the future", || {
        let guard = read_lock();
        // Started inside our own section: pending until the guard is dropped.
        let mut future = Box::pin(start_poll().wait_async());
        let waker = Waker::from(Arc::new(StartsPollOnDrop));
        assert!(poll_once(future.as_mut(), &waker).is_pending());
        drop(waker); // the engine's copy is the last one
        drop(future); // withdraws the registration, dropping that copy
        drop(guard);
        synchronize_rcu();
    });
}

#[test]
fn a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_replaced_by_another() {
    if !isolated("a_waker_whose_drop_starts_a_grace_period_may_be_the_last_one_when_replaced_by_another") {
        return;
    }
    finishes_within(HANG, "polling with another waker", || {
        let guard = read_lock();
        let mut future = Box::pin(start_poll().wait_async());
        let first = Waker::from(Arc::new(StartsPollOnDrop));
        assert!(poll_once(future.as_mut(), &first).is_pending());
        drop(first);
        // Polled by another task now: the engine replaces its copy of the first waker.
        let second = Waker::from(Arc::new(StartsPollOnDrop));
        assert!(poll_once(future.as_mut(), &second).is_pending());
        drop(guard);
        synchronize_rcu();
        drop(future);
    });
}
