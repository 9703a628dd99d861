//! `RcuOld::defer_drop` drops the old value on the callback worker thread, so it needs a `Send`
//! pointer; a `!Send` one has to be dropped (after a grace period) on this thread.

use std::pin::pin;
use std::rc::Rc;

use rcu_runtime::Rcu;

fn main() {
    let mut names = pin!(Rcu::new(Box::new(Rc::new("first"))));
    if let Some(old) = names.as_mut().replace(Box::new(Rc::new("second"))) {
        old.defer_drop();
    }
}
