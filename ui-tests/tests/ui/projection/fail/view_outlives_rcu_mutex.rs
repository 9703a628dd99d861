//! The reader view borrows the `RcuMutex`: a `&Rcu` from it cannot outlive the mutex, whose drop
//! frees the fields.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::new(Box::new(1)) });
    let routes = config.rcu().routes();
    drop(config);
    let guard = read_lock();
    println!("{:?}", routes.dereference(&guard));
}
