//! A `pub` struct whose field type is less visible than the struct cannot derive: `HasField` for
//! that field names the type in a public impl (E0446). The error is reported once, at the
//! field's type; the expansion's other uses of the field type (the `ReaderFields` tuple, the
//! `Unpin` bound) name it in ways that draw no second error. Twin:
//! `pass/pub_struct_with_field_type_in_private_module`.

use rcu_runtime::{Rcu, RcuProtected};

struct RouteTable {
    port: u16,
}

#[derive(RcuProtected)]
pub struct Config {
    #[rcu]
    routes: Rcu<Box<RouteTable>>,
}

fn main() {
    let _ = RouteTable { port: 80 }.port;
}
