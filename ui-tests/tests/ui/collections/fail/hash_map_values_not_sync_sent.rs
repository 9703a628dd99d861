//! `RcuHashMap<_, V>` is `Send` only when `V` is also `Sync`. The value `get` returns lives as
//! long as the guard, not as long as the map: here this thread keeps `&V`, sends the map to
//! another thread, and both threads use the same value at once. With `V = Cell<Option<Box<_>>>`
//! both `take` the box: a data race and a double free.

use std::cell::Cell;

use rcu_runtime::{RcuHashMap, read_lock};

fn main() {
    let map = RcuHashMap::new();
    map.insert(1_u64, Cell::new(Some(Box::new(1_u32))));
    let guard = read_lock();
    let here = map.get(&1, &guard).expect("present");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let taken = map.get(&1, &guard).expect("present").take();
        drop(guard);
        (taken, map)
    });
    let taken_here = here.take();
    let (taken_there, map) = there.join().unwrap();
    drop((taken_here, taken_there, guard, map));
}
