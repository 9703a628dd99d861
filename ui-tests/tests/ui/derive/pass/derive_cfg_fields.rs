//! Fields under `#[cfg]`: a field that is configured out disappears from the projections and
//! the view along with the struct, and one that is configured in is projected as usual.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Config {
    #[cfg(any())]
    #[rcu]
    removed: Rcu<Box<u32>>,
    #[cfg(all())]
    #[rcu]
    routes: Rcu<Box<u32>>,
    #[cfg(any())]
    debug_only: u64,
    #[cfg_attr(all(), rcu)]
    names: Rcu<Box<String>>,
    reloads: u64,
}

fn main() {
    let config = RcuMutex::new(Config {
        routes: Rcu::new(Box::new(1)),
        names: Rcu::new(Box::new(String::from("a"))),
        reloads: 0,
    });
    let guard = read_lock();
    let view = config.rcu();
    assert_eq!(view.routes().dereference(&guard).copied(), Some(1));
    assert_eq!(view.names().dereference(&guard).map(String::as_str), Some("a"));
    drop(guard);

    let mut writer = config.lock();
    let projection = writer.project();
    *projection.reloads += 1;
    projection.routes.replace(Box::new(2)).expect("was published").defer_drop();
}
