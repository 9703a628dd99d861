//! Types named like the generated `ConfigView`, `ConfigProjection` and `ConfigProjectionRef`,
//! brought into the module by a glob import: the derive's own types shadow them there (an item
//! declared in a module takes precedence over a glob import), so the expansion and the struct
//! agree on every name, and the imported types stay reachable by their paths.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

mod lookalikes {
    /// Not the reader view.
    pub struct ConfigView(pub u64);
    /// Not the projection.
    pub struct ConfigProjection(pub u64);
    /// Not the shared projection.
    pub struct ConfigProjectionRef(pub u64);
}

#[allow(unused_imports)]
use lookalikes::*;

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<lookalikes::ConfigView>>,
    counter: lookalikes::ConfigProjection,
}

fn main() {
    let cfg = RcuMutex::new(Config {
        routes: Rcu::new(Box::new(lookalikes::ConfigView(443))),
        counter: lookalikes::ConfigProjection(1),
    });
    let view: ConfigView<'_> = cfg.rcu();
    assert_eq!(view.routes().dereference(&read_lock()).unwrap().0, 443);
    let mut w = cfg.lock();
    let p: ConfigProjection<'_> = w.project();
    p.counter.0 += 1;
    let r: ConfigProjectionRef<'_> = w.project_ref();
    assert_eq!(r.counter.0, 2);
    let _ = lookalikes::ConfigProjectionRef(0).0;
}
