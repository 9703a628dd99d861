//! `RcuMap::load_rcu` lends a value without the map's lock, past its removal; only values that
//! outlive their owner by a grace period (`ForeignOwnableRcu`, e.g. `RcuBox`) allow that. A
//! removed `Box` is freed at once, so a map of boxes offers `with_locked` instead.

use rcu_runtime::{RcuMap, read_lock};

fn main() {
    let map: RcuMap<u32, Box<String>> = RcuMap::new();
    map.insert(1, Box::new(String::from("one")));
    let guard = read_lock();
    let one = map.load_rcu(&1, &guard);
    drop(map.remove(&1));
    println!("{one:?}");
}
