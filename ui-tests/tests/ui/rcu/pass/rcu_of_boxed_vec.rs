//! The twin of `rcu_of_vec_says_box_it`: boxed, the `Vec` is published.

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let routes = Rcu::new(Box::new(vec![10_u32, 20]));
    assert_eq!(routes.dereference(&read_lock()).map(|r| r.len()), Some(2));
}
