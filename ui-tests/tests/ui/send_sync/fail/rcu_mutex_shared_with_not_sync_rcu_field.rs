//! Readers on every thread share the `#[rcu]` fields, so an `RcuMutex` is `Sync` only when
//! those fields' pointees are `Sync`.

use std::cell::Cell;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Counter {
    #[rcu]
    hits: Rcu<Box<Cell<u64>>>,
}

fn main() {
    let counter = RcuMutex::new(Counter { hits: Rcu::new(Box::new(Cell::new(0))) });
    std::thread::scope(|s| {
        s.spawn(|| {
            let guard = read_lock();
            if let Some(hits) = counter.rcu().hits().dereference(&guard) {
                hits.set(hits.get() + 1);
            }
        });
    });
}
