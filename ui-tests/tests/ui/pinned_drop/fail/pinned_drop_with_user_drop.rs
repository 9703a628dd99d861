//! With `#[rcu_protected(PinnedDrop)]` the derive writes the `Drop` impl, so a user `impl Drop`
//! as well is a conflict: the destructor goes in `PinnedDrop::drop`, which gets `Pin<&mut Self>`.

use std::pin::Pin;

use rcu_runtime::{PinnedDrop, Rcu, RcuProtected};

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Session {
    #[rcu]
    name: Rcu<Box<String>>,
}

impl PinnedDrop for Session {
    fn drop(self: Pin<&mut Self>) {}
}

impl Drop for Session {
    fn drop(&mut self) {}
}

fn main() {}
