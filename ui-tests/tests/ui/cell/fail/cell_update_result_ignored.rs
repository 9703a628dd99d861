//! Every `RcuCell` update returns the old value as an `RcuOld`: ignoring it warns (denied here to
//! make it an error), since dropping it silently waits for a grace period.

#![deny(unused_must_use)]

use rcu_runtime::RcuCell;

static CONFIG: RcuCell<Box<u32>> = RcuCell::null();

fn main() {
    CONFIG.replace(Box::new(1));
    CONFIG.copy_update(|v| Some(Box::new(v.copied().unwrap_or(0) + 1)));
    CONFIG.fetch_update(|_| None);
    CONFIG.take();
}
