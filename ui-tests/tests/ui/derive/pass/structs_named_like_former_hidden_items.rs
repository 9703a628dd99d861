//! Twin of `fail/hidden_and_raw_names_clash`: structs named like the items the expansion used to
//! hide in its `const _` block were refused ("the name is reserved"). The block declares no named
//! item any more, so any struct name derives, and such structs may use each other as fields.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
#[allow(non_camel_case_types)]
struct __RcuPinnedFields {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

#[derive(RcuProtected)]
#[allow(non_camel_case_types)]
struct __RcuReaderFields {
    #[rcu]
    inner: Rcu<Box<__RcuPinnedFields>>,
    #[pin]
    pinned: __RcuPinnedFields,
}

#[derive(RcuProtected)]
struct Config;

/// Named like the trait the expansion of `Config` used to declare.
#[derive(RcuProtected)]
struct ConfigMustNotImplDrop {
    #[rcu]
    config: Rcu<Box<Config>>,
}

fn main() {
    let outer = RcuMutex::new(__RcuReaderFields {
        inner: Rcu::new(Box::new(__RcuPinnedFields { routes: Rcu::new(Box::new(80)) })),
        pinned: __RcuPinnedFields { routes: Rcu::null() },
    });
    let guard = RcuMutex::new(ConfigMustNotImplDrop { config: Rcu::new(Box::new(Config)) });
    let g = read_lock();
    let inner = outer.rcu().inner().dereference(&g).unwrap();
    assert_eq!(*inner.routes.dereference(&g).unwrap(), 80);
    assert!(guard.rcu().config().dereference(&g).is_some());
    drop(g);
}
