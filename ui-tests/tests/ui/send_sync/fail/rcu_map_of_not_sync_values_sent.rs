//! `RcuMap<K, P>` is `Send` only when `P` is also `Sync`: `load_rcu` lends a value for as long
//! as the guard, not as long as the map, so a reader on this thread may still hold it while the
//! map (and the right to read it) has moved to another thread. The map cannot tell which value
//! types lend that way, so it asks every `P` for `Sync`: here `Box<Cell<_>>`, whose values are
//! only ever read under the map's lock, is refused too. (No program breaks with `Box` values; the
//! bound is there so that no `ForeignOwnableRcu` value type can reopen the hole `RcuBox`'s own
//! `Send` bound closes. Use `Box<Mutex<_>>` or atomics.)

use std::cell::Cell;

use rcu_runtime::RcuMap;

fn main() {
    let map = RcuMap::new();
    map.insert(1_u32, Box::new(Cell::new(1_u32)));
    let there = std::thread::spawn(move || map.with_locked(&1, |value| value.map(Cell::get)));
    assert_eq!(there.join().unwrap(), Some(1));
}
