//! Closure-taking and locking APIs used again from inside themselves: each re-entrant use either
//! works or panics with a message that says what to do; none hangs.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rcu_runtime::{QsbrReader, Rcu, RcuMap, RcuMutex, RcuProtected, defer_rcu};
use test_support::panic_message;

/// Runs `f`, which must panic; returns the panic's message.
fn panics(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("re-entering must panic, not succeed or hang");
    panic_message(&*payload)
}

#[test]
fn rcu_map_with_locked_whose_closure_updates_the_same_map_panics() {
    let map = RcuMap::new();
    map.insert(1, Box::new(10));
    let message = panics(|| {
        map.with_locked(&1, |_| {
            map.insert(2, Box::new(20));
        });
    });
    assert!(message.contains("updaters' lock"), "message: {message}");
    // The lock was released by the unwind: the map is usable.
    map.insert(2, Box::new(20));
    assert_eq!(map.len(), 2);
}

#[derive(RcuProtected)]
struct Shared {
    #[rcu]
    value: Rcu<Box<u64>>,
    updates: u64,
}

#[test]
fn rcu_mutex_locked_twice_on_one_thread_panics() {
    let shared = RcuMutex::new(Shared { value: Rcu::new(Box::new(1)), updates: 0 });
    let held = shared.lock();
    let message = panics(|| drop(shared.lock()));
    assert!(message.contains("RcuMutex::lock()"), "message: {message}");
    drop(held);
    *shared.lock().project().updates += 1;
}

#[test]
fn copy_update_whose_closure_locks_the_same_rcu_mutex_panics() {
    let shared = RcuMutex::new(Shared { value: Rcu::new(Box::new(1)), updates: 0 });
    let message = panics(|| {
        let mut w = shared.lock();
        let old = w.project().value.copy_update(|current| {
            let _again = shared.lock(); // re-entrant
            current.map(|v| Box::new(v + 1))
        });
        drop(old);
    });
    assert!(message.contains("RcuMutex::lock()"), "message: {message}");
    assert_eq!(shared.rcu().value().dereference(&rcu_runtime::read_lock()).copied(), Some(1), "unchanged");
}

#[test]
fn a_qsbr_reader_waits_for_callbacks_with_its_own_rcu_barrier() {
    let mut reader = QsbrReader::register();
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&ran);
    defer_rcu(move || flag.store(true, std::sync::atomic::Ordering::SeqCst));
    reader.rcu_barrier();
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    assert!(reader.is_online());
    let message = panics(rcu_runtime::rcu_barrier);
    assert!(message.contains("QsbrReader::rcu_barrier"), "the plain one names the way out: {message}");
}

#[test]
fn registering_a_second_qsbr_reader_inside_while_offline_panics() {
    let mut reader = QsbrReader::register();
    let message = panics(|| reader.while_offline(|| drop(QsbrReader::register())));
    assert!(message.contains("already has a QsbrReader"), "message: {message}");
    assert!(reader.is_online(), "back online after the closure unwound");
}
