//! The twin of `cell_borrow_outlives_guard`: the borrow is used before the guard is dropped.

use rcu_runtime::{RcuCell, read_lock};

fn main() {
    let cell = RcuCell::new(Box::new(String::from("v1")));
    let guard = read_lock();
    let name: &String = cell.dereference(&guard).unwrap();
    cell.replace(Box::new(String::from("v2"))).unwrap().defer_drop(); // the reader keeps v1
    assert_eq!(name, "v1");
    drop(guard);
}
