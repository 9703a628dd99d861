//! The field attributes take no arguments: `#[rcu(..)]` and `#[pin = ..]` are errors, each
//! reported at the argument, and the rest of the derive still expands (so uses of the struct add
//! no errors of their own).

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Config {
    #[rcu(fast)]
    routes: Rcu<Box<u32>>,
    #[pin = true]
    pinned: u64,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null(), pinned: 0 });
    let guard = read_lock();
    let _ = config.rcu().routes().dereference(&guard);
}
