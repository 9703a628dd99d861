//! The updater's projection gives an `#[rcu]` field as `RcuMut`, which offers no `&mut Rcu`:
//! readers hold `&Rcu` to it right now, and `mem::replace` would be a plain write under them.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::new(Box::new(1)) });
    let mut writer = config.lock();
    let projection = writer.project();
    let old = std::mem::replace(&mut *projection.routes, Rcu::new(Box::new(2)));
    drop(old);
}
