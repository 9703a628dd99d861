//! Twin of `guard_sent_to_another_thread`, `guard_shared_with_another_thread` and
//! `dereference_borrow_sent_to_spawned_thread`: each thread enters its own critical section, and
//! a borrow may go to a scoped thread that ends while the reading thread's guard still lives.

use rcu_runtime::{Rcu, read_lock};

static CONFIG: Rcu<Box<u64>> = Rcu::null();

fn main() {
    let config = Rcu::new(Box::new(7_u64));
    std::thread::scope(|s| {
        s.spawn(|| {
            let guard = read_lock();
            assert_eq!(config.dereference(&guard).copied(), Some(7));
        });
        s.spawn(|| {
            let guard = read_lock();
            assert!(CONFIG.dereference(&guard).is_none());
        });
    });

    let guard = read_lock();
    let value = config.dereference(&guard);
    std::thread::scope(|s| {
        s.spawn(move || assert_eq!(value.copied(), Some(7)));
    });
    drop(guard);
}
