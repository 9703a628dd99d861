//! Twin of `user_impl_drop`, `pinned_drop_without_option`, `pinned_drop_option_without_impl`,
//! `pinned_drop_with_user_drop` and `pinned_drop_takes_mut_self`: with
//! `#[rcu_protected(PinnedDrop)]`, the destructor gets `Pin<&mut Self>`, may project and publish
//! through it, and runs once.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcu_runtime::{PinnedDrop, Rcu, RcuMutex, RcuProtected, rcu_barrier};

static CLOSED: AtomicUsize = AtomicUsize::new(0);

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Session {
    #[rcu]
    name: Rcu<Box<String>>,
    closes: u64,
}

impl PinnedDrop for Session {
    fn drop(self: Pin<&mut Self>) {
        let projection = self.project();
        *projection.closes += 1;
        if let Some(old) = projection.name.take() {
            old.defer_drop();
        }
        CLOSED.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() {
    drop(Session { name: Rcu::new(Box::new(String::from("plain"))), closes: 0 });
    assert_eq!(CLOSED.load(Ordering::Relaxed), 1);

    let session = RcuMutex::new(Session { name: Rcu::new(Box::new(String::from("locked"))), closes: 0 });
    drop(session);
    assert_eq!(CLOSED.load(Ordering::Relaxed), 2);
    rcu_barrier();
}
