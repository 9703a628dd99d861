//! Twin of `guard_discarded_at_once`: a guard bound to a name keeps the critical section open
//! until the end of its scope.

#![deny(unused_must_use)]

fn main() {
    let _guard = rcu_runtime::read_lock();
    assert!(rcu_runtime::is_reading());
}
