//! Twin of `rcu_updated_while_reader_thread_borrows`: readers on other threads share `&Rcu`,
//! and the updater publishes once their borrows have ended (concurrent readers and writers take
//! an `RcuMutex`, see `rcu_mutex_readers_while_updating`).

use std::pin::pin;

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let mut config = pin!(Rcu::new(Box::new(1_u32)));
    std::thread::scope(|s| {
        let shared = &*config;
        for _ in 0..2 {
            s.spawn(move || {
                let guard = read_lock();
                assert_eq!(shared.dereference(&guard).copied(), Some(1));
            });
        }
    });
    config.as_mut().replace(Box::new(2)).expect("was published").defer_drop();
    assert_eq!(config.dereference(&read_lock()).copied(), Some(2));
}
