//! `&mut Rcu` is not enough to update: `copy_update` needs `Pin<&mut Rcu>`, or a `&mut` could be
//! used with `mem::swap` right after, moving the pointer under readers.

use rcu_runtime::{Rcu, RcuOld};

fn bump(config: &mut Rcu<Box<u32>>) -> Option<RcuOld<Box<u32>>> {
    config.copy_update(|current| current.map(|n| Box::new(n + 1)))
}

fn main() {
    let mut config = Rcu::new(Box::new(1_u32));
    drop(bump(&mut config));
}
