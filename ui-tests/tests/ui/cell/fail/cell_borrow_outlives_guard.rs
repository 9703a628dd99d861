//! A borrow from `RcuCell::dereference` lives as long as the guard: once the guard is dropped, an
//! updater may free the value.

use rcu_runtime::{RcuCell, read_lock};

fn main() {
    let cell = RcuCell::new(Box::new(String::from("v1")));
    let guard = read_lock();
    let name: &String = cell.dereference(&guard).unwrap();
    drop(guard);
    cell.replace(Box::new(String::from("v2"))).unwrap().defer_drop();
    println!("{name}");
}
