//! Twin of `rcu_box_with_rcu_outlives_guard` and `rcu_box_deref_outlives_box`: what `with_rcu`
//! lends under a guard stays valid after the box is dropped, until the guard ends.

use rcu_runtime::{RcuBox, rcu_barrier, read_lock};

fn main() {
    let boxed = RcuBox::new(String::from("hello"));
    let guard = read_lock();
    let text: &str = boxed.with_rcu(&guard);
    drop(boxed); // freed only after a grace period, which waits for `guard`
    assert_eq!(text, "hello");
    drop(guard);
    rcu_barrier(); // the box's callback has run by now

    let boxed = RcuBox::new(String::from("deref"));
    let text: &str = &boxed; // an ordinary borrow, used while the box lives
    assert_eq!(text, "deref");
}
