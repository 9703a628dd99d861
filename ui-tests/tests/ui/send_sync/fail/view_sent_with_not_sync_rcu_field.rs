//! The reader view is a shared borrow of the `#[rcu]` fields: it may go to another thread only
//! when they are `Sync`.

use std::cell::Cell;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Counter {
    #[rcu]
    hits: Rcu<Box<Cell<u64>>>,
}

fn main() {
    let counter = RcuMutex::new(Counter { hits: Rcu::new(Box::new(Cell::new(0))) });
    let view = counter.rcu();
    std::thread::scope(|s| {
        s.spawn(move || {
            let guard = read_lock();
            println!("{:?}", view.hits().dereference(&guard).map(Cell::get));
        });
    });
}
