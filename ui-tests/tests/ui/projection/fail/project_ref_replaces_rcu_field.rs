//! The shared projection (`project_ref`) gives `#[rcu]` fields as `Pin<&Rcu>`: reading only,
//! no `replace`.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null() });
    let writer = config.lock();
    let old = writer.project_ref().routes.replace(Box::new(1));
    drop(old);
}
