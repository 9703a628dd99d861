//! A struct has at most one `#[rcu_links]`: `HasRcuLinks` names the one set of links an
//! `RcuList` uses. (A node in two lists at once would need two `HasRcuLinks` impls; that is not
//! supported.)

use rcu_runtime::{RcuLinks, RcuProtected};

#[derive(RcuProtected)]
struct Route {
    prefix: u32,
    #[rcu_links]
    by_prefix: RcuLinks,
    #[rcu_links]
    by_age: RcuLinks,
}

fn main() {}
