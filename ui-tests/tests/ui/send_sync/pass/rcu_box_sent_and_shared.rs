//! Twin of `rcu_box_of_not_send_value`, `rcu_box_of_not_sync_value_sent` and
//! `rcu_box_of_not_sync_value_shared`: an `RcuBox` of a `Send + Sync` value (atomics for shared
//! mutation) may be sent to and shared with other threads.

use std::sync::atomic::{AtomicU32, Ordering};

use rcu_runtime::{RcuBox, rcu_barrier, read_lock};

fn main() {
    let boxed = RcuBox::new(AtomicU32::new(1));
    std::thread::scope(|s| {
        s.spawn(|| {
            let guard = read_lock();
            boxed.with_rcu(&guard).fetch_add(1, Ordering::Relaxed);
        });
    });
    let value = std::thread::spawn(move || boxed.load(Ordering::Relaxed)).join().unwrap();
    assert_eq!(value, 2);
    rcu_barrier();
}
