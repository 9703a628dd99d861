//! The twin of `lock_guard_assigns_writer_field`: the projection gives `&mut` to writer-only
//! fields, and publishes `#[rcu]` fields.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    reloads: u64,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null(), reloads: 0 });
    let mut writer = config.lock();
    let p = writer.project();
    *p.reloads += 1;
    assert!(p.routes.replace(Box::new(1)).is_none());
    assert_eq!(writer.reloads, 1);
}
