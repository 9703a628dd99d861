//! Malformed `#[rcu_protected]` options: no options at all, a duplicate, a value for
//! `PinnedDrop`, a name that is not a type name. Each is reported once, where it was written.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
#[rcu_protected]
struct Bare {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

#[derive(RcuProtected)]
#[rcu_protected(view = FirstView, view = SecondView)]
struct Duplicate {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop = true)]
struct Valued {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

#[derive(RcuProtected)]
#[rcu_protected(project = "Projection")]
struct Quoted {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {}
