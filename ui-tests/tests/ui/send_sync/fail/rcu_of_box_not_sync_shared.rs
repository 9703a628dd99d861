//! `Rcu<Box<T>>` is `Sync` only when `T` is: readers on every thread get `&T` from the same
//! pointer at once.

use std::cell::Cell;

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let counter = Rcu::new(Box::new(Cell::new(0_u32)));
    std::thread::scope(|s| {
        s.spawn(|| {
            let guard = read_lock();
            if let Some(cell) = counter.dereference(&guard) {
                cell.set(cell.get() + 1);
            }
        });
    });
}
