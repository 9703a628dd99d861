//! Twin of `fail/pub_struct_with_private_field_type`: the field type declared `pub` inside a
//! private module is as visible as the `pub` struct for E0446, though no other crate can name
//! it, so the struct derives.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

mod private {
    pub struct RouteTable {
        pub port: u16,
    }
}

#[derive(RcuProtected)]
pub struct Config {
    #[rcu]
    routes: Rcu<Box<private::RouteTable>>,
}

fn main() {
    let cfg = RcuMutex::new(Config { routes: Rcu::new(Box::new(private::RouteTable { port: 80 })) });
    assert_eq!(cfg.rcu().routes().dereference(&read_lock()).unwrap().port, 80);
}
