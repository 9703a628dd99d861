//! `RcuOld::drop_async` queues the box through the `RcuHead` embedded in it: a type without one
//! (no `HasRcuHead`) has to use `defer_drop`, which allocates, or drop the `RcuOld`, which waits.

use std::pin::pin;

use rcu_runtime::Rcu;

struct Route {
    prefix: u32,
}

fn main() {
    let mut table = pin!(Rcu::new(Box::new(Route { prefix: 10 })));
    if let Some(old) = table.as_mut().replace(Box::new(Route { prefix: 11 })) {
        old.drop_async();
    }
}
