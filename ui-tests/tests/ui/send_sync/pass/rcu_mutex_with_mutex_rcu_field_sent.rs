//! Twin of `rcu_mutex_with_refcell_rcu_field_sent` and
//! `rcu_mutex_shared_with_refcell_behind_writer_rcu`: the same programs with `Sync` pointees (a
//! `Mutex` instead of a `RefCell`) compile and run. A reader's borrow from the view outlives the
//! mutex's move to another thread, and lock holders keep borrows of a writer-only `Rcu`'s pointee
//! after unlocking.

use std::sync::Mutex;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Registry {
    #[rcu]
    names: Rcu<Box<Mutex<Vec<String>>>>,
    scratch: Rcu<Box<Mutex<Vec<String>>>>,
}

fn new_registry() -> RcuMutex<Registry> {
    RcuMutex::new(Registry {
        names: Rcu::new(Box::new(Mutex::new(Vec::new()))),
        scratch: Rcu::new(Box::new(Mutex::new(Vec::new()))),
    })
}

fn main() {
    let registry = new_registry();
    let guard = read_lock();
    let here = registry.rcu().names().dereference(&guard).expect("published");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        registry.rcu().names().dereference(&guard).expect("published").lock().unwrap().push("there".into());
        drop(guard);
        // `registry` is dropped here, after a grace period: once the main thread drops its guard.
    });
    here.lock().unwrap().push("here".into());
    drop(guard);
    there.join().unwrap();

    let registry = new_registry();
    std::thread::scope(|s| {
        for name in ["one", "two"] {
            let registry = &registry;
            s.spawn(move || {
                let guard = read_lock();
                let scratch = registry.lock().scratch.dereference(&guard).expect("published");
                // The lock is released here; the borrow is not.
                scratch.lock().unwrap().push(name.into());
            });
        }
    });
    let guard = read_lock();
    assert_eq!(registry.lock().scratch.dereference(&guard).expect("published").lock().unwrap().len(), 2);
}
