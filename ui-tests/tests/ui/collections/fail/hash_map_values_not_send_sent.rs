//! `RcuHashMap<_, V>` is `Send` only when `V` is `Send`: the thread that receives the map may
//! drop it, and its values with it. (As for keys, a map of values that are not `Send` cannot get
//! an entry, its updaters need `V: Send`; the bound on `Send` does not lean on that.)

use std::sync::MutexGuard;

use rcu_runtime::RcuHashMap;

fn main() {
    let map: RcuHashMap<u32, MutexGuard<'static, ()>> = RcuHashMap::new();
    std::thread::spawn(move || drop(map)).join().unwrap();
}
