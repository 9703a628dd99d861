//! `RcuHashMap<K, _>` is `Sync` only when `K` is `Sync`: reader threads borrow the same keys
//! through `&RcuHashMap`. With a `Cell<Option<Box<_>>>` in the key (outside its `Hash` and
//! `Eq`), two reader threads both `take` the box.

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
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let guard = read_lock();
                drop(map.iter(&guard).next().expect("one entry").0.token.take());
            });
        }
    });
}
