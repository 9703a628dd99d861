//! Twin of `repr_packed`, `repr_packed_via_cfg_attr` and `repr_packed_added_by_another_macro`:
//! other layouts (`repr(C)`, `repr(align)`) keep every field aligned and are accepted.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
#[repr(C, align(64))]
struct Config {
    flags: u8,
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { flags: 0, routes: Rcu::new(Box::new(1)) });
    assert_eq!(config.rcu().routes().dereference(&read_lock()).copied(), Some(1));
    assert_eq!(config.lock().flags, 0);
}
