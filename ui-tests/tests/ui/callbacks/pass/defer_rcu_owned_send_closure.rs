//! Twin of `defer_rcu_closure_not_send` and `defer_rcu_closure_borrows_local`: a `'static`,
//! `Send` closure (here one owning an `Arc`) runs on the worker after a grace period.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

fn main() {
    let counter = Arc::new(AtomicU32::new(0));
    let shared = Arc::clone(&counter);
    rcu_runtime::defer_rcu(move || {
        shared.fetch_add(1, Ordering::Relaxed);
    });
    rcu_runtime::rcu_barrier();
    assert_eq!(counter.load(Ordering::Relaxed), 1);
}
