//! Twin of `rcu_of_non_pointer_type` and `rcu_pointee_borrows_local`: an `Rcu` publishes any
//! owning pointer (`Box`, `Arc`, `Pin<Box>`, `RcuBox`) to a `'static` value.

use std::pin::Pin;
use std::sync::Arc;

use rcu_runtime::{Rcu, RcuBox, read_lock};

fn main() {
    let boxed = Rcu::new(Box::new(1_u64));
    let shared = Rcu::new(Arc::new(2_u64));
    let pinned = Rcu::new(Box::pin(3_u64));
    let rcu_boxed = Rcu::new(RcuBox::new(4_u64));
    let literal = Rcu::new(Box::new("a 'static borrow is fine"));

    let guard = read_lock();
    assert_eq!(boxed.dereference(&guard).copied(), Some(1));
    assert_eq!(shared.dereference(&guard).map(|v| *v), Some(2)); // an ArcBorrow<u64>
    assert_eq!(pinned.dereference(&guard).map(|p: Pin<&u64>| *p), Some(3));
    assert_eq!(rcu_boxed.dereference(&guard).copied(), Some(4));
    assert_eq!(literal.dereference(&guard).map(|s| s.len()), Some(24));
}
