//! A `HashMapIter` is `Sync` only when the values are `Sync`: through `&HashMapIter` another
//! thread clones it and walks the clone. Here two threads walk clones of one iterator and both
//! take the box out of the same value's `Cell`.

use std::cell::Cell;

use rcu_runtime::{RcuHashMap, read_lock};

fn main() {
    let map = RcuHashMap::new();
    map.insert(1_u64, Cell::new(Some(Box::new(1_u32))));
    let guard = read_lock();
    let iter = map.iter(&guard);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| iter.clone().for_each(|(_, value)| drop(value.take())));
        }
    });
}
