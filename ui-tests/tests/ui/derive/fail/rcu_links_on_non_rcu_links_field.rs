//! `#[rcu_links]` must be on an `RcuLinks`: an `RcuList` writes its two link pointers there, so
//! a field of another type (here a hand-rolled `next` pointer) is an error at the field's type.

use rcu_runtime::RcuProtected;

#[derive(RcuProtected)]
struct Route {
    prefix: u32,
    #[rcu_links]
    next: Option<Box<Route>>,
}

fn main() {}
