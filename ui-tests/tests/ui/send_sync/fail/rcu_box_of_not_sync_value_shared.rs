//! An `RcuBox<T>` is `Sync` only when `T` is: `&RcuBox<T>` lends `&T` on every thread.

use std::cell::Cell;

use rcu_runtime::{RcuBox, read_lock};

fn main() {
    let boxed = RcuBox::new(Cell::new(1_u32));
    std::thread::scope(|s| {
        s.spawn(|| {
            let guard = read_lock();
            boxed.with_rcu(&guard).set(2);
        });
    });
}
