//! The keys `RcuMap::keys` yields belong to the snapshot the guard protects: they cannot be
//! used after the guard is dropped, when the snapshot may be freed.

use rcu_runtime::{RcuBox, RcuMap, read_lock};

fn main() {
    let map = RcuMap::new();
    map.insert(String::from("one"), RcuBox::new(1_u32));
    let guard = read_lock();
    let first = map.keys(&guard).next();
    drop(guard);
    println!("{first:?}");
}
