//! `RcuMut` has no `Pin::set`: overwriting the `Rcu` in place would be a non-atomic write racing
//! with lock-free readers. Publish with `replace` instead.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::new(Box::new(1)) });
    let mut writer = config.lock();
    writer.project().routes.set(Rcu::new(Box::new(2)));
}
