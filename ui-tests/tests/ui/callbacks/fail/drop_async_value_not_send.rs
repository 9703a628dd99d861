//! With a derived `#[rcu_head]` the value still has to be `Send` for `drop_async`, which drops it
//! on the callback worker thread.

use std::pin::pin;
use std::rc::Rc;

use rcu_runtime::{Rcu, RcuHead, RcuProtected};

#[derive(RcuProtected)]
struct Route {
    owner: Rc<str>,
    #[rcu_head]
    head: RcuHead,
}

fn main() {
    let owner: Rc<str> = Rc::from("local");
    let mut table = pin!(Rcu::new(Box::new(Route { owner: owner.clone(), head: RcuHead::new() })));
    if let Some(old) = table.as_mut().replace(Box::new(Route { owner, head: RcuHead::new() })) {
        old.drop_async();
    }
}
