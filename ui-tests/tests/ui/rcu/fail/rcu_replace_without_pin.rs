//! `Rcu::replace` takes `Pin<&mut Rcu>`: an `Rcu` that is not pinned cannot be updated, since
//! readers reaching it through `&Rcu` rely on it never moving while they look.

use rcu_runtime::Rcu;

fn main() {
    let mut config = Rcu::new(Box::new(1_u32));
    let old = config.replace(Box::new(2));
    drop(old);
}
