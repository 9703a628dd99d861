//! A future that holds a `Guard` across an `.await` is not `Send`: an executor could resume it
//! on another thread, where dropping the guard would end the wrong thread's critical section.

use std::future::Future;

use rcu_runtime::{Rcu, read_lock};

/// Accepts only futures that a multi-threaded executor could move between threads.
fn assert_send<F: Future + Send>(f: F) -> F {
    f
}

async fn yield_once() {}

static CONFIG: Rcu<Box<u64>> = Rcu::null();

async fn read_then_wait() -> Option<u64> {
    let guard = read_lock();
    let value = CONFIG.dereference(&guard).copied();
    yield_once().await;
    drop(guard);
    value
}

fn main() {
    let _ = assert_send(read_then_wait());
}
