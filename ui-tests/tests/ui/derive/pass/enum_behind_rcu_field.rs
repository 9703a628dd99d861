//! Twin of `derive_on_enum` and `derive_on_union`: the derive goes on a struct, and an enum is
//! published whole behind an `#[rcu]` field, so readers see one variant or the next, never a mix.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(Debug, PartialEq)]
enum Route {
    Direct(u32),
    Unreachable,
}

#[derive(RcuProtected)]
struct Table {
    #[rcu]
    default_route: Rcu<Box<Route>>,
}

fn main() {
    let table = RcuMutex::new(Table { default_route: Rcu::new(Box::new(Route::Direct(1))) });
    let old = table.lock().project().default_route.replace(Box::new(Route::Unreachable));
    assert_eq!(old.map(|old| *old.wait()), Some(Route::Direct(1)));
    let guard = read_lock();
    assert_eq!(table.rcu().default_route().dereference(&guard), Some(&Route::Unreachable));
}
