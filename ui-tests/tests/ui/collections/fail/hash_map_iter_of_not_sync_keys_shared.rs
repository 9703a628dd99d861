//! A `HashMapIter` is `Sync` only when the keys are `Sync`: through `&HashMapIter` another
//! thread clones it and walks the clone. Here two threads walk clones of one iterator and both
//! take the box out of the same key's `Cell` (outside its `Hash` and `Eq`).

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
    let iter = map.iter(&guard);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| iter.clone().for_each(|(key, _)| drop(key.token.take())));
        }
    });
}
