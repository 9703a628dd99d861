//! `RcuHashMap<_, _, S>` is `Send` only when the hasher `S` is `Send`: the map hashes with it on
//! whatever thread owns it. Here the hasher shares an `Rc<Cell<_>>` count with this thread; once
//! the map moved, both threads would change the count (and the `Rc`'s own) at once.

use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasher;
use std::rc::Rc;

use rcu_runtime::RcuHashMap;

/// Counts the hashers it builds.
struct Counting(Rc<Cell<u64>>);

impl BuildHasher for Counting {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        self.0.set(self.0.get() + 1);
        DefaultHasher::new()
    }
}

fn main() {
    let builds = Rc::new(Cell::new(0));
    let map = RcuHashMap::with_hasher(Counting(Rc::clone(&builds)));
    let there = std::thread::spawn(move || {
        for i in 0..1000_u32 {
            map.insert(i, i);
        }
    });
    builds.set(builds.get() + 1);
    there.join().unwrap();
}
