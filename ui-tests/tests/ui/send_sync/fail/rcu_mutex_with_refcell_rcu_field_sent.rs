//! `RcuMutex<T>` is `Send` only when the pointees of its `#[rcu]` fields are `Sync`. A borrow
//! from the reader view (`mutex.rcu().field().dereference(&guard)`) lives as long as the guard,
//! not as long as the mutex: here this thread keeps `&RefCell<_>`, sends the mutex to another
//! thread, and both threads borrow the same `RefCell` mutably at once (a data race on its flag).

use std::cell::RefCell;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Registry {
    #[rcu]
    names: Rcu<Box<RefCell<Vec<String>>>>,
}

fn main() {
    let registry = RcuMutex::new(Registry { names: Rcu::new(Box::new(RefCell::new(Vec::new()))) });
    let guard = read_lock();
    let here = registry.rcu().names().dereference(&guard).expect("published");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        registry.rcu().names().dereference(&guard).expect("published").borrow_mut().push("there".into());
        drop(guard);
        // `registry` is dropped here, after a grace period: once the main thread drops its guard.
    });
    here.borrow_mut().push("here".into());
    drop(guard);
    there.join().unwrap();
}
