//! Twin of `rcu_replace_without_pin`, `rcu_copy_update_through_mut_ref`,
//! `rcu_take_through_shared_ref`, `pinned_rcu_mem_swap`, `pinned_rcu_mem_replace` and
//! `pinned_rcu_moved_out`: through `Pin<&mut Rcu>`, on the stack or in a box, an updater
//! publishes with `replace`, `copy_update` and `take`, and gets every old value back.

use std::pin::{Pin, pin};

use rcu_runtime::{Rcu, read_lock};

/// An updater that is handed the pinned pointer, as a lock would hand it.
fn bump(config: Pin<&mut Rcu<Box<u32>>>) -> Option<u32> {
    config.copy_update(|current| current.map(|n| Box::new(n + 1))).map(|old| *old.wait())
}

fn main() {
    let mut config = pin!(Rcu::new(Box::new(1_u32)));
    assert_eq!(config.as_mut().replace(Box::new(2)).map(|old| *old.wait()), Some(1));
    assert_eq!(bump(config.as_mut()), Some(2));
    assert_eq!(config.dereference(&read_lock()).copied(), Some(3));
    assert_eq!(config.as_mut().take().map(|old| *old.wait()), Some(3));
    assert!(config.is_null());

    let mut boxed: Pin<Box<Rcu<Box<u32>>>> = Box::pin(Rcu::null());
    assert!(boxed.as_mut().replace(Box::new(10)).is_none());
    assert_eq!(boxed.dereference(&read_lock()).copied(), Some(10));
}
