//! `RcuOld` remembers the grace-period state of its unpublication: after one `synchronize_rcu`,
//! dropping or waiting for any number of olds costs no further grace period; an old whose grace
//! period has not elapsed still waits for the readers; and `wait_async` awaits it without
//! blocking a thread, woken by the engine.
//!
//! The grace-period counts are exact only if nothing else runs grace periods meanwhile: this
//! binary's tests take one lock each, and nothing in it queues callbacks before they count.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{RcuCell, rcu_barrier, read_lock, start_poll, stats, synchronize_rcu};
use test_support::{Tracked, counter};

/// One test at a time: the counts below would see the other tests' grace periods.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn n_olds_dropped_after_one_synchronize_rcu_cost_that_one_grace_period() {
    let _serial = serial();
    const N: usize = 64;
    let cells: Vec<RcuCell<Box<usize>>> = (0..N).map(|i| RcuCell::new(Box::new(i))).collect();
    drop(read_lock()); // registered: grace periods do their whole protocol
    let before = stats().grace_periods;
    let olds: Vec<_> = cells.iter().map(|c| c.replace(Box::new(0)).unwrap()).collect();
    synchronize_rcu();
    let after_sync = stats().grace_periods;
    let mut values: Vec<usize> = olds.into_iter().take(N / 2).map(|old| *old.wait()).collect();
    values.sort_unstable();
    assert_eq!(values, (0..N / 2).collect::<Vec<_>>());
    let rest: Vec<_> = cells.iter().map(|c| c.take().unwrap()).collect();
    let before_rest = stats().grace_periods;
    synchronize_rcu();
    drop(rest);
    let after = stats().grace_periods;
    assert_eq!(after_sync - before, 1, "synchronize_rcu is one grace period");
    assert_eq!(before_rest, after_sync, "waiting for N/2 olds after it cost nothing more");
    assert_eq!(after - before_rest, 1, "and dropping N/2 more after another one, nothing more");
}

#[test]
fn an_old_whose_grace_period_has_not_elapsed_still_waits_for_the_reader() {
    let _serial = serial();
    let drops = counter();
    let cell = Arc::new(RcuCell::new(Box::new(Tracked::new(1, &drops))));
    let (inside_tx, inside_rx) = mpsc::channel();
    let (leave_tx, leave_rx) = mpsc::channel::<()>();
    let reader = {
        let cell = Arc::clone(&cell);
        thread::spawn(move || {
            let guard = read_lock();
            let value = cell.dereference(&guard).unwrap();
            inside_tx.send(()).unwrap();
            leave_rx.recv().unwrap();
            value.check()
        })
    };
    inside_rx.recv().unwrap();
    let old = cell.replace(Box::new(Tracked::new(2, &drops))).unwrap();
    let dropped = Arc::new(AtomicBool::new(false));
    let dropper = {
        let dropped = Arc::clone(&dropped);
        thread::spawn(move || {
            drop(old);
            dropped.store(true, Ordering::SeqCst);
        })
    };
    thread::sleep(Duration::from_millis(30));
    assert!(!dropped.load(Ordering::SeqCst), "the drop did not wait for the reader");
    leave_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), 1);
    dropper.join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn dropping_an_old_inside_a_section_panics_even_when_its_grace_period_has_elapsed() {
    let _serial = serial();
    let cell = RcuCell::new(Box::new(1));
    let old = cell.replace(Box::new(2)).unwrap();
    synchronize_rcu();
    assert!(old.grace_period().poll());
    let guard = read_lock();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(old)));
    drop(guard);
    assert!(result.is_err(), "the misuse shows whatever the timing");
}

/// A waker that unparks the test thread and counts its wake-ups.
struct Unpark {
    thread: thread::Thread,
    wakes: AtomicUsize,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Polls `future` until ready, parking between polls; fails if no wake-up comes for `limit`
/// (a polling loop in the engine would not be needed, and a lost wake-up would hang). Returns
/// the output and the number of wake-ups.
fn block_on<F: Future>(future: F, limit: Duration) -> (F::Output, usize) {
    let unpark = Arc::new(Unpark { thread: thread::current(), wakes: AtomicUsize::new(0) });
    let waker = Waker::from(Arc::clone(&unpark));
    let mut future = pin!(future);
    let deadline = Instant::now() + limit;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return (output, unpark.wakes.load(Ordering::SeqCst));
        }
        let seen = unpark.wakes.load(Ordering::SeqCst);
        while unpark.wakes.load(Ordering::SeqCst) == seen {
            assert!(Instant::now() < deadline, "no wake-up came: the future would hang");
            thread::park_timeout(Duration::from_millis(10));
        }
    }
}

#[test]
fn wait_async_is_woken_by_the_engine_when_the_grace_period_ends() {
    let _serial = serial();
    let drops = counter();
    let cell = RcuCell::new(Box::new(Tracked::new(1, &drops)));
    // A reader holds the grace period up for a while: the first poll must return Pending.
    let (inside_tx, inside_rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        let _guard = read_lock();
        inside_tx.send(()).unwrap();
        thread::sleep(Duration::from_millis(50));
    });
    inside_rx.recv().unwrap();
    let old = cell.replace(Box::new(Tracked::new(2, &drops))).unwrap();
    let (value, wakes) = block_on(old.wait_async(), Duration::from_secs(20));
    assert_eq!(value.check(), 1);
    assert!(wakes >= 1, "completed through a wake-up, not at the first poll");
    reader.join().unwrap();
    drop(value);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // A state that has elapsed is ready at the first poll.
    let state = start_poll();
    state.wait();
    let ((), wakes) = block_on(state.wait_async(), Duration::from_secs(1));
    assert_eq!(wakes, 0);
}

#[test]
fn a_cancelled_wait_async_hands_the_value_to_the_worker_without_blocking() {
    let _serial = serial();
    let drops = counter();
    let cell = RcuCell::new(Box::new(Tracked::new(1, &drops)));
    let old = cell.replace(Box::new(Tracked::new(2, &drops))).unwrap();
    let mut future = Box::pin(old.wait_async());
    let waker = Waker::from(Arc::new(Unpark { thread: thread::current(), wakes: AtomicUsize::new(0) }));
    // Polled inside a section (it cannot be ready: the grace period waits for this thread), then
    // dropped there: neither blocks nor panics.
    let guard = read_lock();
    assert!(future.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    drop(future);
    drop(guard);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the worker dropped the value");
}
