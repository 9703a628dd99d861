//! `RcuHashMap<K, _>` is `Send` only when `K` is `Send`: the thread that receives the map may
//! drop it, and its keys with it. (A map whose keys are not `Send` cannot even get an entry: its
//! updaters need `K: Send`, since they hand removed entries to the callback worker. The bound on
//! `Send` does not lean on that: it says what moving the map would do.)

use std::sync::MutexGuard;

use rcu_runtime::RcuHashMap;

fn main() {
    let map: RcuHashMap<MutexGuard<'static, ()>, u32> = RcuHashMap::new();
    std::thread::spawn(move || drop(map)).join().unwrap();
}
