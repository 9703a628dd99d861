//! A `ListIter` is `Send` only when the nodes are `Sync`: it hands out `&T` on whatever thread
//! walks it. Here a scoped thread finishes the walk while this thread uses the same node: with a
//! `Cell<Option<Box<_>>>` in it, both take the box.

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
    let here = list.iter(&guard).next().expect("one node");
    let mut iter = list.iter(&guard);
    std::thread::scope(|s| {
        s.spawn(move || drop(iter.next().expect("one node").token.take()));
        drop(here.token.take());
    });
}
