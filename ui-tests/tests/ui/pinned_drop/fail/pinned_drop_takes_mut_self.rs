//! `PinnedDrop::drop` receives `Pin<&mut Self>`, not `&mut Self`: the value is pinned even while
//! it is being dropped, so an `Rcu` field cannot be moved out of it there.

use rcu_runtime::{PinnedDrop, Rcu, RcuProtected};

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Session {
    #[rcu]
    name: Rcu<Box<String>>,
}

impl PinnedDrop for Session {
    fn drop(&mut self) {
        let moved = std::mem::replace(&mut self.name, Rcu::null());
        drop(moved);
    }
}

fn main() {}
