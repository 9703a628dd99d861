//! Twin of `rcu_of_box_not_sync_shared`, `rcu_of_box_not_send_sent` and
//! `rcu_of_arc_not_sync_sent`: `Rcu`s of `Send + Sync` pointees may be shared with reader threads
//! and sent to the thread that drops them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let counter = Rcu::new(Box::new(AtomicU32::new(0)));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let guard = read_lock();
                if let Some(n) = counter.dereference(&guard) {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(counter.dereference(&read_lock()).map(|n| n.load(Ordering::Relaxed)), Some(2));

    let name = Rcu::new(Box::new(String::from("sent")));
    std::thread::spawn(move || drop(name)).join().unwrap();

    let value = Arc::new(AtomicU32::new(1));
    let shared = Rcu::new(Arc::clone(&value));
    std::thread::spawn(move || drop(shared)).join().unwrap();
    value.store(2, Ordering::Relaxed);
    assert_eq!(Arc::strong_count(&value), 1);
}
