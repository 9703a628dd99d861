//! `RcuMap<K, _>` is `Send` only when `K` is also `Sync`. The keys `keys` yields live as long as
//! the guard, not as long as the map: here this thread keeps `&K`, sends the map to another
//! thread, and both threads use the same key at once. With `K = RefCell<Option<Box<_>>>` both
//! `take` the inner box: a data race and a double free.

use std::cell::RefCell;

use rcu_runtime::{RcuMap, read_lock};

fn main() {
    let map = RcuMap::new();
    map.insert(RefCell::new(Some(Box::new(1_u32))), Box::new("one"));
    let guard = read_lock();
    let here = map.keys(&guard).next().expect("one key");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let taken = map.keys(&guard).next().expect("one key").borrow_mut().take();
        taken // the map is dropped here; its keys are freed after a grace period
    });
    let taken_here = here.borrow_mut().take();
    drop((taken_here, there.join().unwrap()));
    drop(guard);
}
