//! `RcuList<T>` is `Sync` only when `T` is `Sync`: readers on several threads borrow the same
//! nodes through `&RcuList`. With a `Cell<Option<Box<_>>>` in the node, two reader threads both
//! `take` the box: a data race and a double free.

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
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let guard = read_lock();
                drop(list.iter(&guard).next().expect("one node").token.take());
            });
        }
    });
}
