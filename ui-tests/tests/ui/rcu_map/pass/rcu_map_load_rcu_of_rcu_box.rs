//! Twin of `rcu_map_load_rcu_of_box`, `rcu_map_with_locked_borrow_escapes` and
//! `rcu_map_keys_outlive_guard`: `RcuBox` values may be borrowed past their removal under a
//! guard; `Box` values are read under the lock and copied out; keys are used under the guard.

use rcu_runtime::{RcuBox, RcuMap, read_lock};

fn main() {
    let map = RcuMap::new();
    map.insert(1_u32, RcuBox::new(String::from("one")));
    let guard = read_lock();
    let one = map.load_rcu(&1, &guard);
    drop(map.remove(&1)); // the `RcuBox` is freed after a grace period, which waits for `guard`
    assert_eq!(one.map(String::as_str), Some("one"));
    drop(guard);

    let boxes: RcuMap<u32, Box<String>> = RcuMap::new();
    boxes.insert(2, Box::new(String::from("two")));
    let two = boxes.with_locked(&2, |value| value.cloned());
    drop(boxes.remove(&2));
    assert_eq!(two.as_deref(), Some("two"));

    let names = RcuMap::new();
    names.insert(String::from("b"), RcuBox::new(2_u32));
    names.insert(String::from("a"), RcuBox::new(1_u32));
    let guard = read_lock();
    let first = names.keys(&guard).next().cloned();
    drop(guard);
    assert_eq!(first.as_deref(), Some("a"));
}
