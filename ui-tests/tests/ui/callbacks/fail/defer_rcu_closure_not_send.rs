//! `defer_rcu` runs its closure on the callback worker thread, so the closure must be `Send`.

use std::rc::Rc;

fn main() {
    let shared = Rc::new(1_u32);
    rcu_runtime::defer_rcu(move || drop(shared));
}
