//! The lock-free reader view has one method per `#[rcu]` field and nothing else: a writer-only
//! field (`reloads`) is not reachable without the lock.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    reloads: u64,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null(), reloads: 0 });
    let reloads = config.rcu().reloads();
    println!("{reloads}");
}
