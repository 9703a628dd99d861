//! A pinned `Rcu` cannot be overwritten with `mem::replace`: that would move it out from under
//! readers. Publish a new value with `replace` (through the `Pin`) instead.

use std::pin::pin;

use rcu_runtime::Rcu;

fn main() {
    let config = pin!(Rcu::new(Box::new(1_u32)));
    let previous = std::mem::replace(&mut *config, Rcu::new(Box::new(2)));
    drop(previous);
}
