//! `RcuHashMap<K, _>` is `Send` only when `K` is also `Sync`. The keys `iter` yields live as
//! long as the guard, not as long as the map: here this thread keeps `&K`, sends the map to
//! another thread, and both threads use the same key at once. With a `Cell<Option<Box<_>>>` in
//! the key (outside its `Hash` and `Eq`), both `take` the box: a data race and a double free.

use std::cell::Cell;
use std::hash::{Hash, Hasher};

use rcu_runtime::{RcuHashMap, read_lock};

struct Session {
    id: u64,
    token: Cell<Option<Box<u32>>>,
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Session {}

impl Hash for Session {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

fn main() {
    let map = RcuHashMap::new();
    map.insert(Session { id: 1, token: Cell::new(Some(Box::new(1))) }, "alice");
    let guard = read_lock();
    let (here, _) = map.iter(&guard).next().expect("one entry");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let taken = map.iter(&guard).next().expect("one entry").0.token.take();
        drop(guard);
        (taken, map)
    });
    let taken_here = here.token.take();
    let (taken_there, map) = there.join().unwrap();
    drop((taken_here, taken_there, guard, map));
}
