//! `RcuCell<Box<T>>` is `Send` only when `T` is also `Sync`. The borrow `dereference` returns lives
//! as long as the guard, not as long as the cell: here this thread keeps `&T`, sends the cell to
//! another thread, and both threads use the same `T` at once. With `T = Cell<Option<Box<_>>>`
//! both `take` the inner box: a data race and a double free.

use std::cell::Cell;

use rcu_runtime::{RcuCell, read_lock};

fn main() {
    let slot = RcuCell::new(Box::new(Cell::new(Some(Box::new(1_u32)))));
    let guard = read_lock();
    let here: &Cell<Option<Box<u32>>> = slot.dereference(&guard).expect("published");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        drop(slot.dereference(&guard).expect("published").take());
        drop(guard);
    });
    drop(here.take());
    drop(guard);
    there.join().unwrap();
}
