//! The lock guard has no `DerefMut`: `&mut` to the data would let safe code move its pinned
//! `Rcu` fields under readers. Mutable access goes through `project()`.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::new(Box::new(1)) });
    let writer = config.lock();
    let routes: &mut Rcu<Box<u32>> = &mut writer.routes;
    drop(routes);
}
