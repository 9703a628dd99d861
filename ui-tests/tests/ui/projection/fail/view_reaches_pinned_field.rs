//! A `#[pin]` field is structurally pinned but not published: it has no atomic pointer, so the
//! reader view does not reach it either.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    #[pin]
    pinned: u64,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null(), pinned: 0 });
    let pinned = config.rcu().pinned();
    println!("{pinned}");
}
