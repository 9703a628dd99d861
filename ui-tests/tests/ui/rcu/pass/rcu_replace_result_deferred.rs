//! The twin of `rcu_replace_result_ignored`: the old values are reclaimed on purpose.

#![deny(unused_must_use)]

use std::pin::pin;

use rcu_runtime::Rcu;

fn main() {
    let mut config = pin!(Rcu::new(Box::new(1_u32)));
    if let Some(old) = config.as_mut().replace(Box::new(2)) {
        old.defer_drop();
    }
    drop(config.as_mut().copy_update(|_| None)); // waits for a grace period, and says so
}
