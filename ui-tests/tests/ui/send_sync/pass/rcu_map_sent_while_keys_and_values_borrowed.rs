//! Twin of `rcu_map_keys_not_sync_sent` and `rcu_map_of_not_sync_values_sent`: a map whose keys
//! and values are `Send + Sync` may move to another thread while this thread still uses keys
//! from `keys` and values from `load_rcu` (both tied to its guard), and a map of `Box<Mutex<_>>`
//! values moves too.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use rcu_runtime::{RcuBox, RcuMap, read_lock};

fn main() {
    let map = RcuMap::new();
    map.insert(String::from("hits"), RcuBox::new(AtomicU32::new(0)));
    let guard = read_lock();
    let key = map.keys(&guard).next().expect("one key");
    let hits = map.load_rcu(&String::from("hits"), &guard).expect("present");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let key = map.keys(&guard).next().expect("one key").clone();
        map.load_rcu(&key, &guard).expect("present").fetch_add(1, Ordering::Relaxed);
        // `map` is dropped here; its keys and `RcuBox` values are freed after a grace period.
    });
    hits.fetch_add(1, Ordering::Relaxed);
    there.join().unwrap();
    assert_eq!(key, "hits");
    assert_eq!(hits.load(Ordering::Relaxed), 2);
    drop(guard);

    let locked = RcuMap::new();
    locked.insert(1_u32, Box::new(Mutex::new(1_u32)));
    let there = std::thread::spawn(move || locked.with_locked(&1, |value| value.map(|v| *v.lock().unwrap())));
    assert_eq!(there.join().unwrap(), Some(1));
}
