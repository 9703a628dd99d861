//! `RcuHashMap<_, V>` is `Sync` only when `V` is `Sync`: reader threads borrow the same values
//! through `&RcuHashMap`. With `V = Cell<Option<Box<_>>>`, two reader threads both `take` the
//! box.

use std::cell::Cell;

use rcu_runtime::{RcuHashMap, read_lock};

fn main() {
    let map = RcuHashMap::new();
    map.insert(1_u64, Cell::new(Some(Box::new(1_u32))));
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let guard = read_lock();
                drop(map.get(&1, &guard).expect("present").take());
            });
        }
    });
}
