//! An `#[rcu]` field cannot be moved out of the projection: `RcuMut` only lends it.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::new(Box::new(1)) });
    let mut writer = config.lock();
    let moved: Rcu<Box<u32>> = *writer.project().routes;
    drop(moved);
}
