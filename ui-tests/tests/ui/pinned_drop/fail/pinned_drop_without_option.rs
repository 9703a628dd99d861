//! An `impl PinnedDrop` without `#[rcu_protected(PinnedDrop)]` would never run: the derive makes
//! it a conflict instead of ignoring it silently.

use std::pin::Pin;

use rcu_runtime::{PinnedDrop, Rcu, RcuProtected};

#[derive(RcuProtected)]
struct Session {
    #[rcu]
    name: Rcu<Box<String>>,
}

impl PinnedDrop for Session {
    fn drop(self: Pin<&mut Self>) {
        println!("closing");
    }
}

fn main() {}
