//! Twin of `list_of_not_sync_nodes_sent`, `list_of_not_sync_nodes_shared`,
//! `list_of_not_send_nodes_sent` and `list_of_not_send_nodes_shared`: a list whose nodes are
//! `Send + Sync` (a `Mutex` where the fail cases have a `Cell` or a `MutexGuard`) moves to
//! another thread while this thread still uses a node from `iter`, and is shared with reader
//! threads and with a thread that removes a node and owns it after a grace period. Exactly one
//! thread gets each box.

use std::sync::Mutex;

use rcu_runtime::{RcuLinks, RcuList, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Slot {
    #[rcu_links]
    links: RcuLinks,
    token: Mutex<Option<Box<u32>>>,
}

fn slot(token: u32) -> Box<Slot> {
    Box::new(Slot { links: RcuLinks::new(), token: Mutex::new(Some(Box::new(token))) })
}

fn main() {
    // Sent while borrowed.
    let list = RcuList::new();
    list.push_back(slot(1));
    let guard = read_lock();
    let here = list.iter(&guard).next().expect("one node");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let taken = list.iter(&guard).next().expect("one node").token.lock().unwrap().take();
        drop(guard);
        (taken.is_some(), list)
    });
    let taken_here = here.token.lock().unwrap().take().is_some();
    let (taken_there, list) = there.join().unwrap();
    assert!(taken_here ^ taken_there);
    drop(guard);

    // Shared: two readers, and an updater that owns the node it removes.
    list.push_back(slot(2));
    let taken = std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let guard = read_lock();
                    list.iter(&guard).filter_map(|n| n.token.lock().unwrap().take()).count()
                })
            })
            .collect();
        let remover = s.spawn(|| list.remove(|_| true).map(|old| old.wait()));
        let removed = remover.join().unwrap().expect("a node to remove");
        let taken: usize = readers.into_iter().map(|r| r.join().unwrap()).sum();
        taken + usize::from(removed.token.lock().unwrap().is_some())
    });
    // The second node's box went to exactly one place (a reader, or it stayed in the removed
    // node, or in the list).
    assert!(taken <= 1);
    drop(list);
}
