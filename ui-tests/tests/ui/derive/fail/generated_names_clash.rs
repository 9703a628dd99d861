//! The generated projection and view types need names of their own: a rename that collides
//! with another generated type or with the struct is reported at the name.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
#[rcu_protected(view = ConfigProjection)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {}
