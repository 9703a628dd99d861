//! A guard created as a temporary ends its critical section at the end of the statement, so a
//! borrow read under it cannot be kept in a variable.

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let name = config.dereference(&read_lock());
    println!("{name:?}");
}
