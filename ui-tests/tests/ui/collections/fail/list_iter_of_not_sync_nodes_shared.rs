//! A `ListIter` is `Sync` only when the nodes are `Sync`: through `&ListIter` another thread
//! clones it and walks the clone. Here two threads walk clones of one iterator and both take the
//! box out of the same node's `Cell`.

use std::cell::Cell;

use rcu_runtime::{RcuLinks, RcuList, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Slot {
    #[rcu_links]
    links: RcuLinks,
    token: Cell<Option<Box<u32>>>,
}

fn main() {
    let list = RcuList::new();
    list.push_back(Box::new(Slot { links: RcuLinks::new(), token: Cell::new(Some(Box::new(1))) }));
    let guard = read_lock();
    let iter = list.iter(&guard);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| iter.clone().for_each(|slot| drop(slot.token.take())));
        }
    });
}
