//! The `Rcu` behind a `Pin` cannot be moved out by dereferencing it.

use std::pin::Pin;

use rcu_runtime::Rcu;

fn main() {
    let config: Pin<Box<Rcu<Box<u32>>>> = Box::pin(Rcu::new(Box::new(1_u32)));
    let moved: Rcu<Box<u32>> = *config;
    drop(moved);
}
