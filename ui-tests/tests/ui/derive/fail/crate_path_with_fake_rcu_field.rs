//! A crate path whose `__private::RcuField` is a fake trait would accept `#[rcu]` on a field
//! that is not an `Rcu` (the real trait's supertrait `HasField<F, Type: IsRcu>` rejects it). The
//! reader view reaches a field only through the runtime's `RawView::rcu_field`, which needs the
//! real `RcuField`, so the view does not compile. Twin: `pass/crate_path_reexporting_the_runtime`.

use rcu_runtime::{Rcu, RcuProtected};

mod fake {
    pub use rcu_runtime::*;

    pub mod __private {
        pub use rcu_runtime::__private::*;

        /// Not `rcu_runtime::__private::RcuField`: no bound on the field's type.
        pub unsafe trait RcuField<F> {}
    }
}

#[derive(RcuProtected)]
#[rcu_protected(crate = fake)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    #[rcu]
    reloads: u64,
}

fn main() {}
