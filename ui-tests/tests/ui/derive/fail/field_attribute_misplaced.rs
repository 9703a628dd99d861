//! Attributes in the wrong place: a field attribute on the struct, the container attribute on a
//! field.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
#[rcu]
struct OnStruct {
    routes: Rcu<Box<u32>>,
}

#[derive(RcuProtected)]
struct OnField {
    #[rcu_protected(view = OnFieldReader)]
    routes: Rcu<Box<u32>>,
}

fn main() {}
