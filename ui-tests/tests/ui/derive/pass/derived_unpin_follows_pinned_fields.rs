//! Twin of `user_impl_unpin` and `derived_struct_with_rcu_field_is_not_unpin`: the derived
//! `Unpin` holds exactly when every pinned field is `Unpin`, so a struct without `Rcu` (or other
//! `!Unpin`) pinned fields can still be unpinned, and writer-only fields never matter.

use std::marker::PhantomPinned;
use std::pin::Pin;

use rcu_runtime::RcuProtected;

#[derive(RcuProtected)]
struct Stats {
    #[pin]
    pinned: u64,
    plain: PhantomPinned,
}

fn main() {
    let mut stats = Box::pin(Stats { pinned: 1, plain: PhantomPinned });
    let unpinned: &mut Stats = Pin::get_mut(stats.as_mut());
    unpinned.pinned += 1;
    let _ = &unpinned.plain;
    assert_eq!(stats.pinned, 2);
}
