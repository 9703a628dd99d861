//! `Pin::get_mut` needs `Unpin`, which `Rcu` is not: safe code cannot turn the updater's
//! `Pin<&mut Rcu>` back into a `&mut Rcu` that could move it.

use std::pin::{Pin, pin};

use rcu_runtime::Rcu;

fn main() {
    let config = pin!(Rcu::new(Box::new(1_u32)));
    let unpinned: &mut Rcu<Box<u32>> = Pin::get_mut(config);
    drop(unpinned);
}
