//! One field, one role: `#[rcu_links]` with `#[rcu]`, `#[pin]` or `#[rcu_head]` is an error at
//! the attribute to remove (the field keeps the stronger role: `#[rcu]`, then `#[rcu_head]`,
//! then `#[rcu_links]`).

use rcu_runtime::{Rcu, RcuHead, RcuLinks, RcuProtected};

#[derive(RcuProtected)]
struct Route {
    #[rcu]
    #[rcu_links]
    table: Rcu<Box<u32>>,
    #[pin]
    #[rcu_links]
    links: RcuLinks,
    #[rcu_links]
    #[rcu_head]
    head: RcuHead,
}

fn main() {}
