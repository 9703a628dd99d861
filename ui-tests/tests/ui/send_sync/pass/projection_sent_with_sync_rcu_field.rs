//! Twin of `projection_sent_while_rcu_field_borrowed`: the same program with a `Sync` pointee (a
//! `Mutex` instead of a `Cell`) compiles and runs. The lock holder keeps a borrow of the current
//! value and hands the projection to a scoped thread that reads it too; the box inside is taken
//! exactly once.

use std::sync::Mutex;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Slot {
    #[rcu]
    value: Rcu<Box<Mutex<Option<Box<u32>>>>>,
}

fn main() {
    let slot = RcuMutex::new(Slot { value: Rcu::new(Box::new(Mutex::new(Some(Box::new(1))))) });
    let mut writer = slot.lock();
    let projection = writer.project();
    let guard = read_lock();
    let here = projection.value.dereference(&guard).expect("published");
    let taken = std::thread::scope(|s| {
        let there = s.spawn(move || {
            let guard = read_lock();
            projection.value.dereference(&guard).expect("published").lock().unwrap().take().is_some()
        });
        let taken_here = here.lock().unwrap().take().is_some();
        taken_here ^ there.join().unwrap()
    });
    assert!(taken, "the box is taken exactly once");
}
