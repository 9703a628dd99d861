//! `RcuBox::with_rcu` lends the value for the guard's critical section: the borrow may outlive
//! the box, but not the guard.

use rcu_runtime::{RcuBox, read_lock};

fn main() {
    let boxed = RcuBox::new(String::from("hello"));
    let text = {
        let guard = read_lock();
        boxed.with_rcu(&guard)
    };
    println!("{text}");
}
