//! Names the expansion needs for itself are refused at the name the user wrote, and raw
//! identifiers are compared without their `r#`: a generic parameter named like a generated
//! type, and a rename to `r#ConfigView` (which is `ConfigView`) would otherwise make the
//! generated impls name the wrong item. (A struct named like one of the items the expansion used
//! to hide is fine now: `derive/pass/structs_named_like_former_hidden_items`.)

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
struct Config<ConfigView: 'static> {
    #[rcu]
    routes: Rcu<Box<ConfigView>>,
}

#[derive(RcuProtected)]
#[rcu_protected(project_ref = r#TableView)]
struct Table {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {}
