//! The twin of `cell/fail/cell_sent_while_borrowed`: with a `Sync` pointee (`Mutex` instead of
//! `Cell`), this thread may keep its borrow while the cell moves to another thread, which reads
//! the same value and drops the cell (after a grace period: once this thread drops its guard).

use std::sync::Mutex;

use rcu_runtime::{RcuCell, read_lock};

fn main() {
    let slot = RcuCell::new(Box::new(Mutex::new(Some(Box::new(1_u32)))));
    let guard = read_lock();
    let here: &Mutex<Option<Box<u32>>> = slot.dereference(&guard).expect("published");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        drop(slot.dereference(&guard).expect("published").lock().unwrap().take());
        drop(guard);
    });
    drop(here.lock().unwrap().take());
    drop(guard);
    there.join().unwrap();
}
