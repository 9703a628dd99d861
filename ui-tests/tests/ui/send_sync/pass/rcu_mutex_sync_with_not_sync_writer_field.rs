//! Twin of `rcu_mutex_shared_with_not_sync_rcu_field`, `view_sent_with_not_sync_rcu_field` and
//! `rcu_mutex_of_not_send_data_shared` and `lock_guard_sent_to_another_thread`: only the `#[rcu]`
//! fields need to be `Sync`; a writer-only field that is `Send` but not `Sync` (a `Cell`) is
//! reached by one lock holder at a time (each thread takes the lock itself), and the view may be
//! sent to reader threads.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Counter {
    #[rcu]
    hits: Rcu<Box<AtomicU64>>,
    last_writer: Cell<u64>,
}

fn assert_sync<T: Sync>(_: &T) {}

fn main() {
    let counter =
        RcuMutex::new(Counter { hits: Rcu::new(Box::new(AtomicU64::new(0))), last_writer: Cell::new(0) });
    assert_sync(&counter);
    let view = counter.rcu();
    std::thread::scope(|s| {
        for id in 1..=2 {
            let counter = &counter;
            s.spawn(move || {
                let guard = read_lock();
                view.hits().dereference(&guard).expect("published").fetch_add(1, Ordering::Relaxed);
                drop(guard);
                counter.lock().last_writer.set(id);
            });
        }
    });
    let guard = read_lock();
    assert_eq!(counter.rcu().hits().dereference(&guard).map(|n| n.load(Ordering::Relaxed)), Some(2));
    drop(guard);
    assert!(matches!(counter.lock().last_writer.get(), 1 | 2));
}
