//! `RcuHead: Clone` (a clone is a fresh head that is not queued), so a struct with an
//! `#[rcu_head]` field can `#[derive(RcuProtected, Clone)]` and be updated by copy-update:
//! clone the current version, change the copy, publish it, and free the old one through its
//! embedded head (`drop_async`, no allocation).

use std::pin::pin;

use rcu_runtime::{Rcu, RcuHead, RcuProtected, rcu_barrier, read_lock};

#[derive(RcuProtected, Clone)]
struct Settings {
    version: u64,
    name: String,
    #[rcu_head]
    head: RcuHead,
}

fn main() {
    let mut current = pin!(Rcu::new(Box::new(Settings { version: 1, name: "a".into(), head: RcuHead::new() })));
    for _ in 0..3 {
        let old = current.as_mut().copy_update(|settings| {
            let mut next = settings.expect("published").clone();
            next.version += 1;
            next.name.push('b');
            Some(Box::new(next))
        });
        old.expect("an old version").drop_async();
    }
    {
        let g = read_lock();
        let settings = current.dereference(&g).unwrap();
        assert_eq!((settings.version, settings.name.as_str()), (4, "abbb"));
    }
    rcu_barrier();
}
