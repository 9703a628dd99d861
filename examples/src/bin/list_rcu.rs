//! liburcu's list examples, ported: `cds_list_del_rcu` and `cds_list_replace_rcu` on an
//! intrusive RCU list, while a reader thread keeps traversing it.
//!
//! As in liburcu's `doc/examples/list/`: build a list of numbers, remove the negative ones
//! (`list_del_rcu`, freed with `call_rcu` through the node's embedded head), then replace every
//! node by one holding its value doubled (`list_replace_rcu`). A reader walks the list the
//! whole time without a lock and checks that it never sees a freed node.
//!
//! ```text
//! cargo run -p examples --bin list_rcu
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use rcu_runtime::{PinnedDrop, RcuHead, RcuLinks, RcuList, RcuProtected, rcu_barrier, read_lock};

/// Nodes freed so far by the callback worker.
static FREED: AtomicU64 = AtomicU64::new(0);

/// A list node: the value, the links, and the head that frees it after a grace period. The
/// derive implements `HasRcuLinks` through the `#[rcu_links]` field (what `RcuList` needs) and
/// `HasRcuHead` through the `#[rcu_head]` field (what `drop_async` needs), checking both types.
#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Mynode {
    value: i64,
    #[rcu_links]
    links: RcuLinks,
    #[rcu_head]
    head: RcuHead,
}

// The derive proves structural pinning, so the drop hook is `PinnedDrop`, not `Drop`.
impl PinnedDrop for Mynode {
    fn drop(self: core::pin::Pin<&mut Self>) {
        FREED.fetch_add(1, Ordering::Relaxed);
    }
}

fn node(value: i64) -> Box<Mynode> {
    Box::new(Mynode { value, links: RcuLinks::new(), head: RcuHead::new() })
}

fn print(what: &str, list: &RcuList<Mynode>) {
    let guard = read_lock();
    let values: Vec<String> = list.iter(&guard).map(|n| n.value.to_string()).collect();
    println!("{what:<28} {}", values.join(" "));
}

fn main() {
    let list = RcuList::new();
    for value in [-5, 42, 36, 24, -3, 7, -12] {
        list.push_back(node(value));
    }
    print("mylist content:", &list);

    let stop = AtomicBool::new(false);
    let traversals = AtomicU64::new(0);
    thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let guard = read_lock();
                for n in list.iter(&guard) {
                    // A freed node would have been dropped: values here are always ours.
                    assert!(n.value.abs() <= 84, "reader saw garbage: {}", n.value);
                }
                traversals.fetch_add(1, Ordering::Relaxed);
            }
        });

        // cds_list_del_rcu: unlink each negative node; free it after a grace period through
        // its embedded head, without waiting.
        let mut cursor = list.cursor();
        while let Some(n) = cursor.current() {
            if n.value < 0 {
                cursor.remove_current().expect("at a node").drop_async();
            } else {
                cursor.move_next();
            }
        }
        drop(cursor);
        print("after removing negatives:", &list);

        // cds_list_replace_rcu: readers see either the old node or the new one, never neither.
        let mut cursor = list.cursor();
        while let Some(n) = cursor.current() {
            let doubled = node(n.value * 2);
            cursor.replace_current(doubled).ok().expect("at a node").drop_async();
            cursor.move_next();
        }
        drop(cursor);
        print("after doubling each value:", &list);

        stop.store(true, Ordering::Relaxed);
    });
    rcu_barrier();
    println!(
        "a reader traversed the list {} times meanwhile; {} old nodes were freed after their grace periods",
        traversals.load(Ordering::Relaxed),
        FREED.load(Ordering::Relaxed)
    );
}
