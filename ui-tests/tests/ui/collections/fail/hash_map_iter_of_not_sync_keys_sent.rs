//! A `HashMapIter` is `Send` only when the keys are `Sync`: it hands out `&K` on whatever thread
//! walks it. Here a scoped thread walks the iterator while this thread uses the same key, whose
//! `Cell<Option<Box<_>>>` (outside its `Hash` and `Eq`) both take.

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
    map.insert(Session { id: 1, token: Cell::new(Some(Box::new(1))) }, 1_u32);
    let guard = read_lock();
    let (here, _) = map.iter(&guard).next().expect("one entry");
    let iter = map.iter(&guard);
    std::thread::scope(|s| {
        s.spawn(move || iter.for_each(|(key, _)| drop(key.token.take())));
        drop(here.token.take());
    });
}
