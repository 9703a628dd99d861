//! `#[rcu]` marks a field that readers reach without the lock, which only an `Rcu`'s atomic
//! pointer makes safe: on any other type it is an error naming the field.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    #[rcu]
    reloads: u64,
}

fn main() {}
