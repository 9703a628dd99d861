//! Freeing after a grace period without waiting and without allocating: `RcuBox` and
//! `RcuOld::drop_async` through an `#[rcu_head]`.
//!
//! What it shows: the kernel's `kfree_rcu`/`call_rcu` patterns in userspace. A `Box<Node>` with an
//! embedded `RcuHead` is replaced many times; each old node is queued with `drop_async`, which
//! links it through its own head (no allocation) and returns at once, even inside a read-side
//! critical section. `RcuBox` does the same for a value that has no head of its own: here a
//! reader keeps reading the value after the box is dropped, and the value's `Drop` (there so
//! that the program can see when it runs) runs only after the reader's guard ends. The callback
//! worker frees everything in batches, one grace period per batch; `rcu_barrier` waits for it.
//!
//! `callbacks run` is one more than the number of nodes: `rcu_barrier` queues a callback of its
//! own behind the others and returns when that one has run.
//!
//! ```text
//! cargo run --release -p examples --bin kfree_rcu
//! ```

use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rcu_runtime::{Rcu, RcuBox, RcuHead, RcuProtected, config, rcu_barrier, read_lock, stats};

/// A list node freed through its embedded head.
#[derive(RcuProtected)]
struct Node {
    key: u64,
    payload: [u64; 4], // no drop glue: freeing is only a deallocation (kfree_rcu)
    #[rcu_head]
    head: RcuHead,
}

/// Set when the `Message` below is dropped.
static MESSAGE_DROPPED: AtomicBool = AtomicBool::new(false);

/// A value whose drop can be seen, for the `RcuBox` part.
struct Message(String);

impl Drop for Message {
    fn drop(&mut self) {
        MESSAGE_DROPPED.store(true, Ordering::Relaxed);
    }
}

fn main() {
    const UPDATES: u64 = 1_000_000;
    println!("kfree_rcu: freeing after a grace period, without waiting for it and without allocating");
    let before = stats();

    let mut current = pin!(Rcu::new(Box::new(Node { key: 0, payload: [0; 4], head: RcuHead::new() })));
    let started = Instant::now();
    for key in 1..=UPDATES {
        let next = Box::new(Node { key, payload: [key; 4], head: RcuHead::new() });
        if let Some(old) = current.as_mut().replace(next) {
            old.drop_async(); // call_rcu through the node's own head: no allocation, no waiting
        }
    }
    let enqueued = started.elapsed();
    rcu_barrier();
    let drained = started.elapsed();
    let after = stats();
    let guard = read_lock();
    let last = current.dereference(&guard).expect("published");
    assert_eq!((last.key, last.payload[3]), (UPDATES, UPDATES));
    drop(guard);

    let grace_periods = after.grace_periods - before.grace_periods;
    let callbacks = after.callbacks_run - before.callbacks_run;
    println!(
        "1. Rcu::replace + RcuOld::drop_async, {UPDATES} times: a {}-byte Box<Node> with an embedded RcuHead;",
        size_of::<Node>()
    );
    println!("   each old node is queued for freeing through its own head (call_rcu; no allocation)");
    println!(
        "   replace + queue:  {:.1} ns each, never waiting for a grace period; past {} pending frees",
        enqueued.as_nanos() as f64 / UPDATES as f64,
        config::max_pending_callbacks()
    );
    println!(
        "                     the loop waits for the worker to catch up (backpressure), counted here too"
    );
    println!(
        "   all freed after:  {:.1} ms ({:.1}M frees/s), counted until rcu_barrier() returned",
        drained.as_secs_f64() * 1e3,
        UPDATES as f64 / drained.as_secs_f64() / 1e6
    );
    println!(
        "   grace periods:    {grace_periods} ({:.0} nodes freed per grace period: the worker frees in batches)",
        UPDATES as f64 / grace_periods.max(1) as f64
    );
    println!(
        "   callbacks run:    {callbacks}: one per old node, plus {} that rcu_barrier() queues behind them",
        callbacks - UPDATES
    );
    println!("                     to know when they have run");

    // RcuBox: the box itself defers the free; a reader's borrow may outlive the box.
    let boxed = RcuBox::new(Message(String::from("hello from inside an RcuBox")));
    let guard = read_lock();
    let message: &Message = boxed.with_rcu(&guard);
    drop(boxed);
    let dropped_under_reader = MESSAGE_DROPPED.load(Ordering::Relaxed);
    println!(
        "2. RcuBox: a reader borrowed the value, then the RcuBox was dropped while the reader's guard lived"
    );
    println!("   the reader still reads {:?} through its borrow", message.0);
    drop(guard);
    rcu_barrier();
    assert!(!dropped_under_reader && MESSAGE_DROPPED.load(Ordering::Relaxed));
    println!(
        "   the value was not dropped while the guard lived; it was dropped after (by the next rcu_barrier())"
    );
    println!(
        "verdict: OK: {UPDATES} nodes freed through their own heads, and the RcuBox's value outlived its box"
    );
    println!("         while a reader could still see it");
}
