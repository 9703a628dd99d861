//! Freeing after a grace period without waiting and without allocating: `RcuBox` and
//! `RcuOld::drop_async` through an `#[rcu_head]`.
//!
//! What it shows: the kernel's `kfree_rcu`/`call_rcu` patterns in userspace. A `Box<Node>` with an
//! embedded `RcuHead` is replaced many times; each old node is queued with `drop_async`, which
//! links it through its own head (no allocation) and returns at once, even inside a read-side
//! critical section. `RcuBox` does the same for a value that has no head of its own. The callback
//! worker frees everything in batches, one grace period per batch; `rcu_barrier` waits for it.
//!
//! ```text
//! cargo run --release -p examples --bin kfree_rcu
//! ```

use std::pin::pin;
use std::time::Instant;

use rcu_runtime::{Rcu, RcuBox, RcuHead, RcuProtected, rcu_barrier, read_lock, stats};

/// A list node freed through its embedded head.
#[derive(RcuProtected)]
struct Node {
    key: u64,
    payload: [u64; 4], // no drop glue: freeing is only a deallocation (kfree_rcu)
    #[rcu_head]
    head: RcuHead,
}

fn main() {
    const UPDATES: u64 = 1_000_000;
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
    let guard = read_lock();
    let last = current.dereference(&guard).expect("published");
    assert_eq!((last.key, last.payload[3]), (UPDATES, UPDATES));
    drop(guard);

    // RcuBox: the box itself defers the free; a reader's borrow may outlive the box.
    let boxed = RcuBox::new(String::from("still readable after the box is dropped"));
    let guard = read_lock();
    let text: &str = boxed.with_rcu(&guard);
    drop(boxed);
    println!("{text}");
    drop(guard);
    rcu_barrier();

    let after = stats();
    println!("{UPDATES} replacements with drop_async:");
    println!("  replace + enqueue: {:.1} ns each", enqueued.as_nanos() as f64 / UPDATES as f64);
    println!(
        "  all freed after:   {:.1} ms ({:.1} M frees/s)",
        drained.as_secs_f64() * 1e3,
        UPDATES as f64 / drained.as_secs_f64() / 1e6
    );
    println!("  grace periods:     {}", after.grace_periods - before.grace_periods);
    println!("  callbacks run:     {}", after.callbacks_run - before.callbacks_run);
}
