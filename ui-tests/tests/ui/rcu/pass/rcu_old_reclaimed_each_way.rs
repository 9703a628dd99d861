//! Twin of `rcu_old_discarded`: each way of reclaiming an `RcuOld` says what it costs, waiting
//! (`wait`, `drop`) or not (`defer_drop`).

#![deny(unused_must_use)]

use std::pin::pin;

use rcu_runtime::{Rcu, rcu_barrier};

fn main() {
    let mut config = pin!(Rcu::new(Box::new(1_u32)));
    let one = config.as_mut().replace(Box::new(2)).map(|old| *old.wait());
    assert_eq!(one, Some(1));
    drop(config.as_mut().replace(Box::new(3)));
    if let Some(old) = config.as_mut().replace(Box::new(4)) {
        old.defer_drop();
    }
    rcu_barrier();
}
