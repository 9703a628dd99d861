//! Twin of the `fail/crate_path_with_fake_*` cases: `#[rcu_protected(crate = rt)]` with a module
//! that re-exports the runtime unchanged derives and works, with `Unpin`, `Drop`, a head freed
//! through `call_rcu` and the reader view all going through `rt`.

use std::pin::Pin;

use rcu_runtime::{PinnedDrop, Rcu, RcuHead, RcuMutex, RcuProtected, read_lock, rcu_barrier};

mod rt {
    pub use rcu_runtime::*;
}

#[derive(RcuProtected)]
#[rcu_protected(crate = rt)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    reloads: u64,
}

#[derive(RcuProtected)]
#[rcu_protected(crate = rt, PinnedDrop)]
struct Node {
    value: u64,
    #[rcu_head]
    head: RcuHead,
}

impl PinnedDrop for Node {
    fn drop(self: Pin<&mut Self>) {}
}

fn main() {
    let cfg = RcuMutex::new(Config { routes: Rcu::new(Box::new(80)), reloads: 0 });
    assert_eq!(*cfg.rcu().routes().dereference(&read_lock()).unwrap(), 80);
    *cfg.lock().project().reloads += 1;
    assert_eq!(cfg.lock().reloads, 1);

    let node = Rcu::new(Box::new(Node { value: 7, head: RcuHead::new() }));
    let mut node = Box::pin(node);
    assert_eq!(node.dereference(&read_lock()).unwrap().value, 7);
    node.as_mut().take().unwrap().drop_async();
    rcu_barrier();
}
