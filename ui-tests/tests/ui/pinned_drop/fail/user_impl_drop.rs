//! A user `impl Drop` could move a structurally pinned field out of `&mut self`, so the derive
//! rejects it; `#[rcu_protected(PinnedDrop)]` with `impl PinnedDrop` is the pinned alternative.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

impl Drop for Config {
    fn drop(&mut self) {
        let moved = std::mem::replace(&mut self.routes, Rcu::null());
        drop(moved);
    }
}

fn main() {}
