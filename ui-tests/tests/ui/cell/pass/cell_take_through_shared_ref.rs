//! The twin of `rcu/fail/rcu_take_through_shared_ref`: an `RcuCell` is updated through `&self`
//! (an atomic swap), so `take` through a shared reference is its job.

use rcu_runtime::{RcuCell, RcuOld};

fn steal(config: &RcuCell<Box<u32>>) -> Option<RcuOld<Box<u32>>> {
    config.take()
}

fn main() {
    let config = RcuCell::new(Box::new(1_u32));
    assert_eq!(steal(&config).map(|old| *old.wait()), Some(1));
}
