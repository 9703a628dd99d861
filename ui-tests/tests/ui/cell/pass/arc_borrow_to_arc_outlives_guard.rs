//! The twin of `arc_borrow_outlives_guard`: `to_arc()` makes an owned `Arc` (one reference-count
//! increment) that outlives the guard.

use std::sync::Arc;

use rcu_runtime::{RcuCell, read_lock};

fn main() {
    let cell = RcuCell::new(Arc::new(String::from("v1")));
    let kept: Arc<String> = {
        let guard = read_lock();
        cell.dereference(&guard).unwrap().to_arc()
    };
    cell.replace(Arc::new(String::from("v2"))).unwrap().defer_drop();
    assert_eq!(*kept, "v1");
}
