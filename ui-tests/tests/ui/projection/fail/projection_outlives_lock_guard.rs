//! The projection borrows the lock guard: it cannot be used after the lock is released, when
//! another updater may hold it.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    reloads: u64,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null(), reloads: 0 });
    let reloads = {
        let mut writer = config.lock();
        writer.project().reloads
    };
    *reloads += 1;
}
