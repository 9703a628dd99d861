//! `#[rcu]` on a field of a generic type is rejected unless the type is an `Rcu`: the derive
//! cannot assume an arbitrary `T` is safe to read without the lock.

use rcu_runtime::RcuProtected;

#[derive(RcuProtected)]
struct Slot<T> {
    #[rcu]
    value: T,
}

fn main() {}
