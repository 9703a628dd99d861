//! `RcuList<T>` is `Sync` only when `T` is `Send`: through `&RcuList` any thread removes a node
//! and, after a grace period, gets its box back (`RcuOld::wait`), that is, owns the node on its
//! own thread. Here that thread would drop a `MutexGuard` that another thread locked.

use std::sync::{Mutex, MutexGuard};

use rcu_runtime::{RcuLinks, RcuList, RcuProtected};

static LOCK: Mutex<()> = Mutex::new(());

#[derive(RcuProtected)]
struct Held {
    #[rcu_links]
    links: RcuLinks,
    _held: MutexGuard<'static, ()>,
}

fn main() {
    let list = RcuList::new();
    list.push_back(Box::new(Held { links: RcuLinks::new(), _held: LOCK.lock().unwrap() }));
    std::thread::scope(|s| {
        s.spawn(|| drop(list.remove(|_| true).expect("one node").wait()));
    });
}
