//! `Rcu<Box<T>>` is `Send` only when `T` is: the thread that receives the `Rcu` drops the value.
//! `T` here is `Sync` but not `Send` (like a `MutexGuard`, which must be dropped on the thread
//! that locked), so this case fails for `Send` alone.

use std::marker::PhantomData;

use rcu_runtime::Rcu;

/// A value that must be dropped on the thread that made it, and that any thread may read.
struct ThreadBound(PhantomData<*mut ()>);

// SAFETY: `&ThreadBound` gives access to nothing.
unsafe impl Sync for ThreadBound {}

fn main() {
    let shared = Rcu::new(Box::new(ThreadBound(PhantomData)));
    std::thread::spawn(move || drop(shared)).join().unwrap();
}
