//! The twin of the two `cell_of_non_*` cases: a `Send + Sync` pointer in an `RcuCell` is shared
//! by reader and updater threads.

use std::sync::atomic::{AtomicU32, Ordering};

use rcu_runtime::RcuCell;

fn main() {
    let cell = RcuCell::new(Box::new(AtomicU32::new(1)));
    std::thread::scope(|s| {
        s.spawn(|| cell.read().map(|c| c.fetch_add(1, Ordering::Relaxed)));
        s.spawn(|| cell.replace(Box::new(AtomicU32::new(7))).map(|old| old.defer_drop()));
    });
    assert!(cell.read().is_some());
}
