//! Even writer-only fields are written through the projection, not through the guard: the guard
//! gives `&Config`, never `&mut Config`.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    reloads: u64,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null(), reloads: 0 });
    let writer = config.lock();
    writer.reloads += 1;
}
