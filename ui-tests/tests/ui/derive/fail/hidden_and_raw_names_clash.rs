//! Names the expansion needs for itself are refused at the name the user wrote, and raw
//! identifiers are compared without their `r#`: a generic parameter named like a generated
//! type, a struct named like a hidden item, and a rename to `r#ConfigView` (which is `ConfigView`)
//! would otherwise make the generated impls name the wrong item.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
struct Config<ConfigView: 'static> {
    #[rcu]
    routes: Rcu<Box<ConfigView>>,
}

#[derive(RcuProtected)]
struct __RcuPinnedFields {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

#[derive(RcuProtected)]
#[rcu_protected(project_ref = r#TableView)]
struct Table {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {}
