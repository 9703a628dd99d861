//! A crate path whose `HasField` is a fake trait (with its own `raw_get_field`) next to the real
//! `HasRcuHead`: the derived `HasRcuHead` would hand `call_rcu` whatever the fake computes. It
//! goes through `RcuHead::__field` instead, an inherent item of the `RcuHead` that `HasRcuHead`'s
//! signature fixes, which needs the runtime's own `HasField` impl, so this does not compile.
//! Twin: `pass/crate_path_reexporting_the_runtime`.

use rcu_runtime::{RcuHead, RcuProtected};

mod fake {
    pub use rcu_runtime::*;

    /// Not `rcu_runtime::HasField`.
    pub unsafe trait HasField<F> {
        type Type;
        const OFFSET: usize;

        fn raw_get_field(_: *mut Self) -> *mut Self::Type {
            core::ptr::null_mut()
        }
    }
}

#[derive(RcuProtected)]
#[rcu_protected(crate = fake)]
struct Node {
    value: u64,
    #[rcu_head]
    head: RcuHead,
}

fn main() {}
