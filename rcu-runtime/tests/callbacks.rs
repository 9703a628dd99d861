//! `call_rcu`, `defer_rcu` and `rcu_barrier`: every callback runs exactly once, after a grace
//! period, and a panicking one does not stop the others.

use test_support::{ReaderInside, Tracked, counter};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use rcu_runtime::{Rcu, RcuBox, defer_rcu, rcu_barrier, read_lock, stats};

#[test]
fn rcu_barrier_waits_for_every_callback_queued_before_it() {
    let ran = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let ran = Arc::clone(&ran);
            thread::spawn(move || {
                for _ in 0..2_500 {
                    let ran = Arc::clone(&ran);
                    defer_rcu(move || {
                        ran.fetch_add(1, Ordering::Relaxed);
                    });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    rcu_barrier();
    assert_eq!(ran.load(Ordering::Relaxed), 10_000, "every callback ran exactly once");
}

#[test]
fn a_callback_waits_for_readers_that_were_inside_when_it_was_queued() {
    let reader_done = Arc::new(AtomicBool::new(false));
    let reader = {
        let reader_done = Arc::clone(&reader_done);
        ReaderInside::enter(move || reader_done.store(true, Ordering::SeqCst))
    };
    let ran_after_reader = Arc::new(AtomicUsize::new(0));
    {
        let (ran, done) = (Arc::clone(&ran_after_reader), Arc::clone(&reader_done));
        defer_rcu(move || {
            ran.store(if done.load(Ordering::SeqCst) { 1 } else { 2 }, Ordering::SeqCst);
        });
    }
    thread::sleep(Duration::from_millis(30));
    assert_eq!(ran_after_reader.load(Ordering::SeqCst), 0, "the callback ran under a live reader");
    reader.leave();
    rcu_barrier();
    assert_eq!(ran_after_reader.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panicking_callback_is_reported_and_the_others_still_run() {
    let before = stats().callback_panics;
    let ran = Arc::new(AtomicUsize::new(0));
    let first = Arc::clone(&ran);
    defer_rcu(move || {
        first.fetch_add(1, Ordering::SeqCst);
    });
    defer_rcu(|| panic!("this callback panics on purpose"));
    let last = Arc::clone(&ran);
    defer_rcu(move || {
        last.fetch_add(1, Ordering::SeqCst);
    });
    rcu_barrier();
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    assert!(stats().callback_panics > before);
}

#[test]
fn callbacks_may_be_queued_inside_a_read_side_critical_section() {
    let ran = Arc::new(AtomicBool::new(false));
    let guard = read_lock();
    let flag = Arc::clone(&ran);
    defer_rcu(move || flag.store(true, Ordering::SeqCst));
    drop(guard);
    rcu_barrier();
    assert!(ran.load(Ordering::SeqCst));
}

#[test]
fn one_rcu_barrier_waits_for_callbacks_that_callbacks_queue_transitively() {
    /// Queues a callback that counts itself and queues the next one, `depth` deep.
    fn chain(ran: Arc<AtomicUsize>, depth: usize) {
        defer_rcu(move || {
            ran.fetch_add(1, Ordering::SeqCst);
            if depth > 1 {
                chain(ran, depth - 1);
            }
        });
    }
    let ran = Arc::new(AtomicUsize::new(0));
    chain(Arc::clone(&ran), 5);
    rcu_barrier(); // the first runs after the barrier began and queues the second behind its marker
    assert_eq!(ran.load(Ordering::SeqCst), 5, "one barrier covers the whole chain");
}

#[test]
fn one_rcu_barrier_waits_for_nested_values_that_callbacks_drop() {
    // A callback drops a value that owns a non-null `Rcu`, whose value owns another, whose value
    // is an `RcuBox`: each level is reclaimed a grace period after the one above (on the worker,
    // as deferred drops and a callback), and one barrier waits for them all.
    struct Level {
        _inner: Rcu<Box<Level>>,
        _leaf: Option<RcuBox<Tracked>>,
    }
    let drops = counter();
    let leaf = Level { _inner: Rcu::null(), _leaf: Some(RcuBox::new(Tracked::new(1, &drops))) };
    let middle = Level { _inner: Rcu::new(Box::new(leaf)), _leaf: None };
    let top = Level { _inner: Rcu::new(Box::new(middle)), _leaf: None };
    defer_rcu(move || drop(top));
    rcu_barrier();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the innermost value was dropped before the barrier returned"
    );
}

#[test]
fn rcu_barrier_returns_while_other_threads_keep_queueing_callbacks_that_queue_callbacks() {
    // A steady stream of callbacks whose runs queue more callbacks: the barrier waits for the
    // lineages of what was queued before it, not for a moment when no callback queues another
    // (which may never come).
    let stop = Arc::new(AtomicBool::new(false));
    let ran = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (stop, ran) = (Arc::clone(&stop), Arc::clone(&ran));
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let ran = Arc::clone(&ran);
                defer_rcu(move || {
                    let child = Arc::clone(&ran);
                    defer_rcu(move || {
                        child.fetch_add(1, Ordering::Relaxed);
                    });
                });
                thread::sleep(Duration::from_micros(50));
            }
        })
    };
    while ran.load(Ordering::Relaxed) < 10 {
        thread::yield_now();
    }
    let before = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&before);
    defer_rcu(move || {
        defer_rcu(move || flag.store(true, Ordering::SeqCst));
    });
    for _ in 0..5 {
        rcu_barrier(); // each returns although the stream goes on (a hang fails the test run)
    }
    assert!(before.load(Ordering::SeqCst), "the child of a callback queued before the barrier ran");
    stop.store(true, Ordering::Relaxed);
    producer.join().expect("the producer failed");
}
