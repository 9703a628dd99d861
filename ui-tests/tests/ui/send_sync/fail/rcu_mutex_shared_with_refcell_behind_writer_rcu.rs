//! `RcuMutex<T>` is `Sync` only when `T` is `Send`, and a `T` with an `Rcu<Box<U>>` field, even
//! a writer-only one, is `Send` only when `U` is `Sync`. The lock holder reads that field through
//! the lock guard, and the borrow lives as long as its read guard, not as long as the lock: here
//! each thread keeps `&RefCell<_>` after unlocking, and both borrow it mutably at once.

use std::cell::RefCell;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Registry {
    #[rcu]
    version: Rcu<Box<u64>>,
    scratch: Rcu<Box<RefCell<Vec<String>>>>,
}

fn main() {
    let registry = RcuMutex::new(Registry {
        version: Rcu::new(Box::new(1)),
        scratch: Rcu::new(Box::new(RefCell::new(Vec::new()))),
    });
    std::thread::scope(|s| {
        for name in ["one", "two"] {
            let registry = &registry;
            s.spawn(move || {
                let guard = read_lock();
                let scratch = registry.lock().scratch.dereference(&guard).expect("published");
                // The lock is released here; the borrow is not.
                scratch.borrow_mut().push(name.into());
            });
        }
    });
}
