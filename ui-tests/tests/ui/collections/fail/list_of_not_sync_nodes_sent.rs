//! `RcuList<T>` is `Send` only when `T` is also `Sync`. The nodes `iter` yields live as long as
//! the guard, not as long as the list: here this thread keeps `&T`, sends the list to another
//! thread, and both threads use the same node at once. With a `Cell<Option<Box<_>>>` in the node
//! both `take` the box: a data race and a double free.

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
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let taken = list.iter(&guard).next().expect("one node").token.take();
        drop(guard);
        (taken, list)
    });
    let taken_here = here.token.take();
    let (taken_there, list) = there.join().unwrap();
    drop((taken_here, taken_there, guard, list));
}
