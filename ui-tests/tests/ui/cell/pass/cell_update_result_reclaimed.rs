//! The twin of `cell_update_result_ignored`: each old value is reclaimed on purpose.

#![deny(unused_must_use)]

use rcu_runtime::RcuCell;

static CONFIG: RcuCell<Box<u32>> = RcuCell::null();

fn main() {
    assert!(CONFIG.replace(Box::new(1)).is_none());
    CONFIG.copy_update(|v| Some(Box::new(v.copied().unwrap_or(0) + 1))).unwrap().defer_drop();
    let _unchanged = CONFIG.fetch_update(|_| None).unwrap_err();
    drop(CONFIG.take()); // waits for a grace period, and says so
}
