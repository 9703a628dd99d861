//! Readers on every thread borrow an `RcuCell`'s pointee at once: `RcuCell<Box<Cell<u32>>>` is
//! not `Sync`, since `Cell` is not.

use std::cell::Cell;

use rcu_runtime::RcuCell;

fn main() {
    let cell = RcuCell::new(Box::new(Cell::new(1_u32)));
    std::thread::scope(|s| {
        s.spawn(|| cell.read().map(|c| c.set(2)));
    });
}
