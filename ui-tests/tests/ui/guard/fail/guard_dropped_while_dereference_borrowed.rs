//! Dropping a `Guard` ends the critical section, so it cannot be dropped while a borrow read
//! under it is still in use.

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let guard = read_lock();
    let name = config.dereference(&guard);
    drop(guard);
    println!("{name:?}");
}
