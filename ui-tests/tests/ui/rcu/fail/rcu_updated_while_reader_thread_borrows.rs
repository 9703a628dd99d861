//! A pinned `Rcu` that reader threads borrow cannot be updated through the same `Pin` meanwhile:
//! the borrow checker forbids `&mut` while `&` is out. Sharing one `Rcu` between a writer and
//! concurrent readers takes an `RcuMutex` (or another lock that hands out the `Pin`).

use std::pin::pin;

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let mut config = pin!(Rcu::new(Box::new(1_u32)));
    std::thread::scope(|s| {
        let shared = &*config;
        s.spawn(move || {
            let guard = read_lock();
            println!("{:?}", shared.dereference(&guard));
        });
        drop(config.as_mut().replace(Box::new(2)));
    });
}
