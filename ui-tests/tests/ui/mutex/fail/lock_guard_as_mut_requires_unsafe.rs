//! `RcuMutexGuard::as_mut` gives `Pin<&mut Config>`, on which `Pin::set` would overwrite the
//! `Rcu` fields under readers; it is `unsafe`, and `project()` is the safe way.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null() });
    let mut writer = config.lock();
    writer.as_mut().set(Config { routes: Rcu::new(Box::new(1)) });
}
