//! Twin of the `hash_map_iter_of_not_sync_*` cases: with keys and values that are `Sync`, a
//! `HashMapIter` walks on a scoped thread while this thread uses a value it yields, and clones of
//! one iterator walk on two threads.

use std::sync::atomic::{AtomicU32, Ordering};

use rcu_runtime::{RcuHashMap, read_lock};

fn main() {
    let map: RcuHashMap<String, AtomicU32> = (0..3).map(|i| (i.to_string(), AtomicU32::new(0))).collect();
    let guard = read_lock();
    let here = map.get("0", &guard).expect("present");
    let iter = map.iter(&guard);
    let shared = map.iter(&guard);
    std::thread::scope(|s| {
        s.spawn(move || iter.for_each(|(_, hits)| drop(hits.fetch_add(1, Ordering::Relaxed))));
        for _ in 0..2 {
            s.spawn(|| shared.clone().for_each(|(_, hits)| drop(hits.fetch_add(1, Ordering::Relaxed))));
        }
        here.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(here.load(Ordering::Relaxed), 4);
    assert_eq!(map.iter(&guard).map(|(_, hits)| hits.load(Ordering::Relaxed)).sum::<u32>(), 10);
}
