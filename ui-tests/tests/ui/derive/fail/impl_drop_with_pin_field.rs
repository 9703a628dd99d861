//! A user `impl Drop` is refused as soon as one field is structurally pinned, here a `#[pin]`
//! one (a `#[rcu]` field: `fail/user_impl_drop`): its `&mut self` could move the field after it
//! was pinned. The conflict names the way out, `#[rcu_protected(PinnedDrop)]`, also for a generic
//! struct. Twin: `pass/impl_drop_without_pinned_fields`.

use std::marker::PhantomPinned;

use rcu_runtime::RcuProtected;

#[derive(RcuProtected)]
struct Task<F> {
    #[pin]
    future: F,
    _pinned: PhantomPinned,
}

impl<F> Drop for Task<F> {
    fn drop(&mut self) {}
}

fn main() {}
