//! `RcuList<T>` is `Send` only when `T` is `Send`: the thread that receives the list may drop
//! it, and the nodes with it. Here a node holds a `MutexGuard`, which must be released on the
//! thread that locked the mutex; dropping the list on another thread would release it there.

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
    std::thread::spawn(move || drop(list)).join().unwrap();
}
