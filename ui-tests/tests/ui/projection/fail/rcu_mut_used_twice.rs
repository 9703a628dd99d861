//! `RcuMut`'s publishing methods consume it, as `Pin<&mut _>`'s do: a second update through the
//! same projection field needs `as_mut()` on the first (see the twin,
//! `rcu_mut_reborrowed_with_as_mut`). rustc's move error cannot be customized; `RcuMut`'s
//! documentation says what to do.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null() });
    let mut writer = config.lock();
    let p = writer.project();
    p.routes.replace(Box::new(1)).map(|old| old.defer_drop());
    p.routes.replace(Box::new(2)).map(|old| old.defer_drop());
}
