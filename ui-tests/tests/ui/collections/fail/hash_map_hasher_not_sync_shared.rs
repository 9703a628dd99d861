//! `RcuHashMap<_, _, S>` is `Sync` only when the hasher `S` is `Sync`: readers on every thread
//! hash their keys with the map's one hasher, through `&S`. Here the hasher counts the hashers it
//! builds in a `Cell`: two reader threads would change it at once.

use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasher;

use rcu_runtime::{RcuHashMap, read_lock};

/// Counts the hashers it builds.
#[derive(Default)]
struct Counting(Cell<u64>);

impl BuildHasher for Counting {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        self.0.set(self.0.get() + 1);
        DefaultHasher::new()
    }
}

fn main() {
    let map = RcuHashMap::with_hasher(Counting::default());
    map.insert(1_u32, 1_u32);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..1000 {
                    assert_eq!(map.get(&1, &read_lock()), Some(&1));
                }
            });
        }
    });
}
