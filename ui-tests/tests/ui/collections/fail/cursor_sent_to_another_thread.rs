//! A `Cursor` is never `Send`: it holds the list's writer lock, which must be released on the
//! thread that took it (a `MutexGuard` is not `Send` either), and the lock's check against
//! re-entrant use (a panic instead of a deadlock) knows its holder by thread. Here the cursor
//! would be dropped, and the lock released, on another thread.

use rcu_runtime::{RcuLinks, RcuList, RcuProtected};

#[derive(RcuProtected)]
struct Route {
    #[rcu_links]
    links: RcuLinks,
    prefix: u32,
}

fn main() {
    let list = RcuList::new();
    list.push_back(Box::new(Route { links: RcuLinks::new(), prefix: 10 }));
    let cursor = list.cursor();
    std::thread::scope(|s| {
        s.spawn(move || drop(cursor));
    });
}
