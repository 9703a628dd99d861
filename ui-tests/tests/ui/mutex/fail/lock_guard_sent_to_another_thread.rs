//! The lock guard releases the lock on the thread that took it (as `std::sync::MutexGuard`), so
//! it is `!Send`.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null() });
    let writer = config.lock();
    std::thread::scope(|s| {
        s.spawn(move || drop(writer));
    });
}
