//! A borrow from `Rcu::dereference` lives as long as the `Guard` it was read under, and no
//! longer: once the critical section ends, a grace period may free the value.

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));
    let name = {
        let guard = read_lock();
        config.dereference(&guard)
    };
    println!("{name:?}");
}
