//! A reader's `&Rcu` cannot unpublish the value: `take` needs the updater's `Pin<&mut Rcu>`,
//! which excludes every other updater (two `take`s would free the same value twice).

use rcu_runtime::{Rcu, RcuOld};

fn steal(config: &Rcu<Box<u32>>) -> Option<RcuOld<Box<u32>>> {
    config.take()
}

fn main() {
    let config = Rcu::new(Box::new(1_u32));
    drop(steal(&config));
}
