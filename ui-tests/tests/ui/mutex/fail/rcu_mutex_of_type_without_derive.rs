//! `RcuMutex` needs the projections that `#[derive(RcuProtected)]` writes: a plain struct is
//! rejected with a note saying so.

use rcu_runtime::{Rcu, RcuMutex};

struct Config {
    routes: Rcu<Box<u32>>,
}

fn main() {
    let _ = RcuMutex::new(Config { routes: Rcu::null() });
}
