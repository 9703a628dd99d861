//! `RcuMutex::into_inner` gives the data back still pinned (`Pin<Box<_>>`): it cannot be moved
//! out of its box.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null() });
    let moved: Config = *config.into_inner();
    drop(moved);
}
