//! `RcuHashMap<_, V>` is `Sync` only when `V` is `Send`: through `&RcuHashMap` any thread
//! inserts values from its own thread, and removed ones are dropped on the callback worker.
//! (With values that are not `Send` those updaters do not compile, so the map stays empty; the
//! bound on `Sync` does not lean on that.)

use std::sync::MutexGuard;

use rcu_runtime::RcuHashMap;

fn main() {
    let map: RcuHashMap<u32, MutexGuard<'static, ()>> = RcuHashMap::new();
    std::thread::scope(|s| {
        s.spawn(|| map.len());
    });
}
