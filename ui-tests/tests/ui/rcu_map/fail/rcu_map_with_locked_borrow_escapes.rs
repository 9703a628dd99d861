//! The value `RcuMap::with_locked` lends is borrowed under the map's lock, for the closure only:
//! it cannot be returned, since the value may be removed and freed once the lock is released.

use rcu_runtime::RcuMap;

fn main() {
    let map: RcuMap<u32, Box<String>> = RcuMap::new();
    map.insert(1, Box::new(String::from("one")));
    let one = map.with_locked(&1, |value| value);
    drop(map.remove(&1));
    println!("{one:?}");
}
