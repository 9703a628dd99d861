//! Twin of `rcu_of_box_cell_sent_while_borrowed`: the same program with a `Sync` pointee (a
//! `Mutex` instead of a `Cell`) compiles and runs. This thread keeps the borrow from
//! `dereference` (tied to its guard) while another thread owns the `Rcu` and reads through it; the
//! box inside is taken exactly once.

use std::sync::Mutex;

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let slot = Rcu::new(Box::new(Mutex::new(Some(Box::new(1_u32)))));
    let guard = read_lock();
    let here: &Mutex<Option<Box<u32>>> = slot.dereference(&guard).expect("published");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let taken = slot.dereference(&guard).expect("published").lock().unwrap().take();
        drop(guard);
        taken.is_some()
        // `slot` is dropped here, after a grace period: once the main thread drops its guard.
    });
    let taken_here = here.lock().unwrap().take().is_some();
    drop(guard);
    let taken_there = there.join().unwrap();
    assert!(taken_here ^ taken_there, "the box is taken exactly once");
}
