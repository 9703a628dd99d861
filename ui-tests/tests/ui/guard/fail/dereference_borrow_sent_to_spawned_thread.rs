//! A borrow read under a guard cannot be handed to a `'static` thread, which could keep using
//! it after the reading thread's critical section has ended.

use rcu_runtime::{Rcu, read_lock};

fn main() {
    static CONFIG: Rcu<Box<u64>> = Rcu::null();
    let guard = read_lock();
    let value = CONFIG.dereference(&guard);
    std::thread::spawn(move || println!("{value:?}")).join().unwrap();
}
