//! A crate path that re-exports the runtime but replaces `__private::Unpin` would make the
//! derive's conditional `Unpin` impl an impl of the fake trait, and a user `impl Unpin` would no
//! longer conflict with anything: `Pin<&mut Config>` could then be unpinned while readers use the
//! `Rcu`. The `RcuProtected` impl checks its paths against the runtime's own items
//! (`RawView::check_paths`, reached through the `RawView` that the trait's signature passes in),
//! so this does not compile. Twin: `pass/crate_path_reexporting_the_runtime`.

use rcu_runtime::{Rcu, RcuProtected};

mod fake {
    pub use rcu_runtime::*;

    pub mod __private {
        pub use rcu_runtime::__private::*;

        /// Not `core::marker::Unpin`.
        pub trait Unpin {}
    }
}

#[derive(RcuProtected)]
#[rcu_protected(crate = fake)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

impl Unpin for Config {}

fn main() {}
