//! A `HashMapIter` is `Send` only when the values are `Sync` (and the keys, see
//! `hash_map_iter_of_not_sync_keys_shared`): it hands out `&V` on whatever thread walks it. Here
//! a scoped thread walks the iterator while this thread uses the same value, a
//! `Cell<Option<Box<_>>>`: both take the box.

use std::cell::Cell;

use rcu_runtime::{RcuHashMap, read_lock};

fn main() {
    let map = RcuHashMap::new();
    map.insert(1_u64, Cell::new(Some(Box::new(1_u32))));
    let guard = read_lock();
    let here = map.get(&1, &guard).expect("present");
    let iter = map.iter(&guard);
    std::thread::scope(|s| {
        s.spawn(move || iter.for_each(|(_, value)| drop(value.take())));
        drop(here.take());
    });
}
