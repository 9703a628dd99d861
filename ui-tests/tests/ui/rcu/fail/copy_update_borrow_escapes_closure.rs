//! The current value that `copy_update` lends to its closure is borrowed for the call only: it
//! cannot be smuggled out, since the old value may be freed as soon as the update returns.

use std::pin::pin;

use rcu_runtime::Rcu;

fn main() {
    let mut list = pin!(Rcu::new(Box::new(vec![1, 2])));
    let mut kept = None;
    let old = list.as_mut().copy_update(|current| {
        kept = current;
        None
    });
    if let Some(old) = old {
        old.defer_drop();
    }
    println!("{kept:?}");
}
