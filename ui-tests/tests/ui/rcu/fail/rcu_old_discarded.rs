//! The old value an update returns says how it is reclaimed: ignoring it is `#[must_use]`
//! (denied here to make the lint an error), since dropping it silently waits a grace period.

#![deny(unused_must_use)]

use std::pin::pin;

use rcu_runtime::Rcu;

fn main() {
    let mut config = pin!(Rcu::new(Box::new(1_u32)));
    config.as_mut().replace(Box::new(2)).unwrap();
}
