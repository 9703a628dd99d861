//! Twin of `drop_async_value_not_send`, `two_rcu_heads` and `rcu_head_on_non_rcu_head_field`:
//! one `#[rcu_head]` field of type `RcuHead` in a `Send` struct lets `drop_async` free it
//! through `call_rcu`, without allocating.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcu_runtime::{Rcu, RcuHead, RcuProtected, rcu_barrier};

static DROPPED: AtomicUsize = AtomicUsize::new(0);

#[derive(RcuProtected)]
struct Route {
    owner: Arc<str>,
    #[rcu_head]
    head: RcuHead,
}

impl Route {
    fn new(owner: &Arc<str>) -> Self {
        Route { owner: Arc::clone(owner), head: RcuHead::new() }
    }
}

#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Counted {
    #[rcu_head]
    head: RcuHead,
}

impl rcu_runtime::PinnedDrop for Counted {
    fn drop(self: std::pin::Pin<&mut Self>) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() {
    let owner: Arc<str> = Arc::from("main");
    let mut table = pin!(Rcu::new(Box::new(Route::new(&owner))));
    table.as_mut().replace(Box::new(Route::new(&owner))).expect("was published").drop_async();

    let mut counted = pin!(Rcu::new(Box::new(Counted { head: RcuHead::new() })));
    counted.as_mut().take().expect("was published").drop_async();
    rcu_barrier();
    assert_eq!(DROPPED.load(Ordering::Relaxed), 1);
    assert_eq!(Arc::strong_count(&owner), 2);
    assert!(table.dereference(&rcu_runtime::read_lock()).is_some_and(|route| &*route.owner == "main"));
}
