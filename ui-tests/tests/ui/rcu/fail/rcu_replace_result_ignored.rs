//! `replace` returns the old value as an `RcuOld` inside an `Option`: ignoring it warns (denied
//! here to make it an error), since dropping it silently waits for a grace period.

#![deny(unused_must_use)]

use std::pin::pin;

use rcu_runtime::Rcu;

fn main() {
    let mut config = pin!(Rcu::new(Box::new(1_u32)));
    config.as_mut().replace(Box::new(2));
    config.as_mut().copy_update(|_| None);
}
