//! Twin of `fail/impl_drop_with_pin_field` (and of `fail/user_impl_drop`): a struct with no
//! structurally pinned field (only plain fields and an `#[rcu_head]`) may have its own
//! `impl Drop`. Nothing of it is ever pinned: the projection gives `&mut` to every field and the
//! struct is `Unpin`, so `drop(&mut self)` can do nothing safe code could not do already.

use std::sync::atomic::{AtomicUsize, Ordering};

use rcu_runtime::{Rcu, RcuHead, RcuMutex, RcuProtected, rcu_barrier};

static DROPPED: AtomicUsize = AtomicUsize::new(0);

#[derive(RcuProtected)]
struct Counter {
    hits: u64,
    #[rcu_head]
    head: RcuHead,
}

impl Drop for Counter {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

fn assert_unpin<T: Unpin>() {}

fn main() {
    assert_unpin::<Counter>();
    let counter = RcuMutex::new(Counter { hits: 0, head: RcuHead::new() });
    *counter.lock().project().hits += 1;
    assert_eq!(counter.lock().hits, 1);
    drop(counter);
    assert_eq!(DROPPED.load(Ordering::Relaxed), 1);

    // Freed through the head after a grace period, `Drop` included.
    let mut published = Box::pin(Rcu::new(Box::new(Counter { hits: 5, head: RcuHead::new() })));
    published.as_mut().take().unwrap().drop_async();
    rcu_barrier();
    assert_eq!(DROPPED.load(Ordering::Relaxed), 2);
}
