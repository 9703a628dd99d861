//! `read_lock()` whose result is not kept ends the critical section at once: the `#[must_use]`
//! on `Guard` says so (denied here to make the lint an error).

#![deny(unused_must_use)]

fn main() {
    rcu_runtime::read_lock();
}
