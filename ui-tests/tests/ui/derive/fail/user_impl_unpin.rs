//! A user `impl Unpin` would let safe code move a pinned `Rcu` out of `Pin<&mut Config>`; the
//! derive's own conditional `Unpin` impl makes it a conflict.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

impl Unpin for Config {}

fn main() {}
