//! Dropping the lock guard releases the lock, so it cannot be dropped while a projection of it
//! is still in use.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null() });
    let mut writer = config.lock();
    let projection = writer.project();
    drop(writer);
    drop(projection.routes.replace(Box::new(1)));
}
