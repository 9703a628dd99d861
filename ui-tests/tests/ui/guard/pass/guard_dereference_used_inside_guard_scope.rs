//! Twin of `guard_dereference_outlives_guard_scope`, `guard_dropped_while_dereference_borrowed`
//! and `dereference_with_temporary_guard_escapes_statement`: a borrow used while its guard lives
//! is fine, in a scope, before an explicit `drop`, or within the statement of a temporary guard.

use rcu_runtime::{Rcu, read_lock};

fn main() {
    let config = Rcu::new(Box::new(String::from("v1")));

    let len = {
        let guard = read_lock();
        config.dereference(&guard).map(|name| name.len())
    };
    assert_eq!(len, Some(2));

    let guard = read_lock();
    let name = config.dereference(&guard);
    assert_eq!(name.map(String::as_str), Some("v1"));
    drop(guard);

    let copied = config.dereference(&read_lock()).cloned();
    assert_eq!(copied.as_deref(), Some("v1"));
}
