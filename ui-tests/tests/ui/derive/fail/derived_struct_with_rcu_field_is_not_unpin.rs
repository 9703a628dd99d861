//! A struct with an `#[rcu]` field is `!Unpin` (its `Rcu` is), so `Pin::get_mut` cannot unpin it:
//! the derived `Unpin` holds only when every pinned field is `Unpin`.

use std::pin::Pin;

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    reloads: u64,
}

fn main() {
    let mut config = Box::pin(Config { routes: Rcu::null(), reloads: 0 });
    let unpinned: &mut Config = Pin::get_mut(config.as_mut());
    unpinned.reloads += 1;
}
