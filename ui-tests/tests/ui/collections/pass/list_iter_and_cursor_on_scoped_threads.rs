//! Twin of `list_iter_of_not_sync_nodes_sent`, `list_iter_of_not_sync_nodes_shared`,
//! `cursor_of_not_sync_nodes_shared` and `cursor_sent_to_another_thread`: with nodes that are
//! `Sync`, a `ListIter` finishes its walk on a scoped thread, clones of one iterator walk on two
//! threads, and a `Cursor` is shared with scoped threads (which read the node under it); the
//! cursor itself stays on the thread that took the list's lock, and a cursor is taken on another
//! thread afterwards.

use std::sync::atomic::{AtomicU32, Ordering};

use rcu_runtime::{RcuLinks, RcuList, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Hits {
    #[rcu_links]
    links: RcuLinks,
    count: AtomicU32,
}

fn main() {
    let list = RcuList::new();
    for _ in 0..3 {
        list.push_back(Box::new(Hits { links: RcuLinks::new(), count: AtomicU32::new(0) }));
    }
    let guard = read_lock();
    let first = list.iter(&guard).next().expect("a node");
    let mut iter = list.iter(&guard);
    let shared = list.iter(&guard);
    std::thread::scope(|s| {
        s.spawn(move || iter.for_each(|n| drop(n.count.fetch_add(1, Ordering::Relaxed))));
        for _ in 0..2 {
            s.spawn(|| shared.clone().for_each(|n| drop(n.count.fetch_add(1, Ordering::Relaxed))));
        }
        first.count.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(first.count.load(Ordering::Relaxed), 4);
    drop(guard);

    let mut cursor = list.cursor();
    cursor.move_next();
    let cursor_ref = &cursor;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || cursor_ref.current().expect("a node").count.fetch_add(1, Ordering::Relaxed));
        }
    });
    let old = cursor.remove_current().expect("a node");
    drop(cursor);
    assert_eq!(old.wait().count.load(Ordering::Relaxed), 5);

    std::thread::scope(|s| {
        s.spawn(|| {
            let mut cursor = list.cursor();
            drop(cursor.remove_current());
        });
    });
    assert_eq!(list.len(), 1);
}
