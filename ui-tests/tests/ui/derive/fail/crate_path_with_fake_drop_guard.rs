//! A crate path that replaces `__private::UseRcuProtectedPinnedDropInsteadOfDrop` (the trait a
//! user `impl Drop` conflicts through) would let a `Drop` impl move a pinned field out of
//! `&mut self`. The `RcuProtected` impl checks its paths against the runtime's own items
//! (`RawView::check_paths`), so this does not compile. Twin:
//! `pass/crate_path_reexporting_the_runtime`.

use rcu_runtime::{Rcu, RcuProtected};

mod fake {
    pub use rcu_runtime::*;

    pub mod __private {
        pub use rcu_runtime::__private::*;

        /// Not the runtime's: nothing implements it for `Drop` types.
        pub trait UseRcuProtectedPinnedDropInsteadOfDrop {}
    }
}

#[derive(RcuProtected)]
#[rcu_protected(crate = fake)]
struct Config {
    #[pin]
    generation: std::marker::PhantomPinned,
    #[rcu]
    routes: Rcu<Box<u32>>,
}

impl Drop for Config {
    fn drop(&mut self) {}
}

fn main() {}
