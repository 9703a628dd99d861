//! The updater's projection is `Send` only when its `RcuMut<Rcu<Box<U>>>` fields are, which
//! needs `U: Sync`: the updater reads the current value through `RcuMut` (`Deref` to the `Rcu`),
//! and that borrow lives as long as its guard. Here the lock holder keeps `&Cell<_>` and hands
//! the projection to a scoped thread that reads the same `Cell` meanwhile.

use std::cell::Cell;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Slot {
    #[rcu]
    value: Rcu<Box<Cell<Option<Box<u32>>>>>,
}

fn main() {
    let slot = RcuMutex::new(Slot { value: Rcu::new(Box::new(Cell::new(Some(Box::new(1))))) });
    let mut writer = slot.lock();
    let projection = writer.project();
    let guard = read_lock();
    let here = projection.value.dereference(&guard).expect("published");
    std::thread::scope(|s| {
        s.spawn(move || {
            let guard = read_lock();
            drop(projection.value.dereference(&guard).expect("published").take());
        });
        drop(here.take());
    });
}
