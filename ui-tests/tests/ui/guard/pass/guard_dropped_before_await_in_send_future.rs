//! Twin of `guard_held_across_await_in_send_future`: a future that copies what it needs and
//! drops its guard before the `.await` is `Send`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use rcu_runtime::{Rcu, read_lock};

/// Accepts only futures that a multi-threaded executor could move between threads.
fn assert_send<F: Future + Send>(f: F) -> F {
    f
}

async fn yield_once() {}

static CONFIG: Rcu<Box<u64>> = Rcu::null();

async fn read_then_wait() -> Option<u64> {
    let value = {
        let guard = read_lock();
        CONFIG.dereference(&guard).copied()
    };
    yield_once().await;
    value
}

fn main() {
    let mut future = pin!(assert_send(read_then_wait()));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(None));
}
