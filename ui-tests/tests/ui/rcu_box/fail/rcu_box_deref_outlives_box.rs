//! `Deref` on an `RcuBox` is an ordinary borrow of the box: it ends when the box is dropped.
//! Only `with_rcu`, under a guard, lends the value past the box's drop.

use rcu_runtime::RcuBox;

fn main() {
    let boxed = RcuBox::new(String::from("hello"));
    let text: &str = &boxed;
    drop(boxed);
    println!("{text}");
}
