//! A view made inside a scope cannot leave it when the `RcuMutex` it borrows is dropped there.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let view = {
        let config = RcuMutex::new(Config { routes: Rcu::new(Box::new(1)) });
        config.rcu()
    };
    let _ = view;
}
