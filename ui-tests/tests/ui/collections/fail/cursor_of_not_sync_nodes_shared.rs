//! A `Cursor` is `Sync` only when the nodes are `Sync`: `&Cursor` lends the node under it
//! (`current`). Here two threads share the cursor and both take the box out of that node's
//! `Cell`.

use std::cell::Cell;

use rcu_runtime::{RcuLinks, RcuList, RcuProtected};

#[derive(RcuProtected)]
struct Slot {
    #[rcu_links]
    links: RcuLinks,
    token: Cell<Option<Box<u32>>>,
}

fn main() {
    let list = RcuList::new();
    list.push_back(Box::new(Slot { links: RcuLinks::new(), token: Cell::new(Some(Box::new(1))) }));
    let cursor = list.cursor();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| drop(cursor.current().expect("one node").token.take()));
        }
    });
}
