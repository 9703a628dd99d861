//! A crate path whose `RcuMut` is a fake that gives out the `Pin<&mut Rcu<P>>` it wraps would let
//! the updater `Pin::set` an `Rcu` in place while lock-free readers load it. The `RcuProtected`
//! impl checks its paths against the runtime's own items (`RawView::check_paths`), so this does
//! not compile. Twin: `pass/crate_path_reexporting_the_runtime`.

use rcu_runtime::{Rcu, RcuProtected};

mod fake {
    pub use rcu_runtime::*;

    /// Not `rcu_runtime::RcuMut`: it hands the pinned reference out.
    pub struct RcuMut<'a, R: ?Sized>(pub core::pin::Pin<&'a mut R>);

    impl<'a, R: ?Sized> RcuMut<'a, R> {
        pub fn new(pin: core::pin::Pin<&'a mut R>) -> Self {
            RcuMut(pin)
        }
    }
}

#[derive(RcuProtected)]
#[rcu_protected(crate = fake)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {}
