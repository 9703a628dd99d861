//! The twin of `rcu_mut_used_twice`: `as_mut()` reborrows the `RcuMut` for each update.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null() });
    let mut writer = config.lock();
    let mut p = writer.project();
    if let Some(old) = p.routes.as_mut().replace(Box::new(1)) {
        old.defer_drop();
    }
    if let Some(old) = p.routes.replace(Box::new(2)) {
        old.defer_drop();
    }
    drop(writer);
    assert_eq!(config.rcu().routes().dereference(&read_lock()).copied(), Some(2));
}
