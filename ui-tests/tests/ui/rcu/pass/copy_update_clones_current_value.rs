//! Twin of `copy_update_borrow_escapes_closure`: the closure may read and copy the current value;
//! the copy is what it publishes.

use std::pin::pin;

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let mut list = pin!(Rcu::new(Box::new(vec![1, 2])));
    let mut seen_len = 0;
    let old = list.as_mut().copy_update(|current| {
        let mut next = current.cloned().unwrap_or_default();
        seen_len = next.len();
        next.push(3);
        Some(Box::new(next))
    });
    assert_eq!(seen_len, 2);
    assert_eq!(old.map(|old| *old.wait()), Some(vec![1, 2]));
    assert_eq!(list.dereference(&read_lock()).cloned(), Some(vec![1, 2, 3]));
}
