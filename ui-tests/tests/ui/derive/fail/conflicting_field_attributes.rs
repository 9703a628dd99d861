//! One field, one role: `#[rcu]` with `#[pin]` or `#[rcu_head]`, `#[pin]` with `#[rcu_head]`, or
//! an attribute twice, are each an error at the attribute to remove.

use rcu_runtime::{Rcu, RcuHead, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    #[pin]
    routes: Rcu<Box<u32>>,
    #[rcu]
    #[rcu_head]
    backup: Rcu<Box<u32>>,
    #[pin]
    #[rcu_head]
    head: RcuHead,
    #[rcu]
    #[rcu]
    names: Rcu<Box<String>>,
}

fn main() {}
