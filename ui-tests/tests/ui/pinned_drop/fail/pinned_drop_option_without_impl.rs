//! `#[rcu_protected(PinnedDrop)]` makes the derive's `Drop` call `PinnedDrop::drop`, so the
//! struct must implement it.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Session {
    #[rcu]
    name: Rcu<Box<String>>,
}

fn main() {}
