//! `RcuHashMap<K, _>` is `Sync` only when `K` is `Send`: through `&RcuHashMap` any thread
//! inserts and removes entries, moving keys in from its own thread and handing removed ones to
//! the callback worker. (With keys that are not `Send` those updaters do not compile at all, so
//! the map stays empty; the bound on `Sync` does not lean on that.)

use std::sync::MutexGuard;

use rcu_runtime::RcuHashMap;

fn main() {
    let map: RcuHashMap<MutexGuard<'static, ()>, u32> = RcuHashMap::new();
    std::thread::scope(|s| {
        s.spawn(|| map.len());
    });
}
