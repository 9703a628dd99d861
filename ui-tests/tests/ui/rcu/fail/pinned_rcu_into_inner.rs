//! A pinned, boxed `Rcu` cannot be unboxed with `Pin::into_inner`, which needs `Unpin`: moving
//! the `Rcu` out of its box would move it under readers that hold `&Rcu`.

use std::pin::Pin;

use rcu_runtime::Rcu;

fn main() {
    let config = Box::pin(Rcu::new(Box::new(1_u32)));
    let unboxed: Box<Rcu<Box<u32>>> = Pin::into_inner(config);
    drop(unboxed);
}
