//! An `ArcBorrow` holds no reference count: it lives as long as the guard it was borrowed under,
//! so it cannot be kept across the guard's end (use `to_arc()` for that).

use std::sync::Arc;

use rcu_runtime::{ArcBorrow, RcuCell, read_lock};

fn main() {
    let cell = RcuCell::new(Arc::new(String::from("v1")));
    let kept: ArcBorrow<'_, String> = {
        let guard = read_lock();
        cell.dereference(&guard).unwrap()
    };
    println!("{}", *kept);
}
