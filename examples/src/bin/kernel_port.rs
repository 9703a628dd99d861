//! Porting kernel Rust RCU code to userspace: the kernel API's examples, rewritten for
//! rcu-runtime, each followed by what changed.
//!
//! | kernel | rcu-runtime | why |
//! |---|---|---|
//! | `KBox::new(x, GFP_KERNEL)?` | `Box::new(x)` | userspace allocation aborts on failure instead of returning an error |
//! | `rcu::read_lock()` / `Guard` | `read_lock()` / `Guard` | same shape: a `!Send` guard, nestable |
//! | `dereference` loads with `Relaxed` and relies on the address dependency (LKMM) | `dereference` loads with `Acquire` | the Rust/C++ memory model gives userspace no dependency ordering |
//! | `Rcu<P>` updates through `Pin<&mut Rcu<P>>` | the same; inside `RcuMutex`, through `RcuMut` | a projected field must not be overwritten in place while lock-free readers see it |
//! | `call_rcu` callbacks run in softirq context | they run on a worker thread, in batches | userspace has no softirqs; the worker is `Send`-checked |
//! | `kfree_rcu` | `RcuOld::drop_async` (embedded `RcuHead`) or `RcuBox` | same: no allocation, no waiting |
//! | `MapleTree::load_rcu` | `RcuMap::load_rcu` | a copy-on-write ordered map stands in for the maple tree |
//! | `synchronize_rcu()` inside a reader: a lockdep splat | a panic that explains the deadlock | there is no lockdep in userspace |
//! | a workqueue item | `std::thread::spawn` | |
//!
//! ```text
//! cargo run --release -p examples --bin kernel_port
//! ```

use std::pin::pin;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;

use rcu_runtime::{Rcu, RcuBox, RcuMap, read_lock};

/// Reading under the read lock. In the kernel: `Rcu::new(KBox::new(100i32, GFP_KERNEL)?)`.
fn read_under_the_lock() {
    let x = Rcu::new(Box::new(100_i32));
    let g = read_lock();
    assert_eq!(x.dereference(&g), Some(&100));
    println!(
        "1. read under read_lock(): an Rcu holding Box::new(100) dereferences to {:?}",
        x.dereference(&g)
    );
}

/// The borrow is tied to the guard, not to the `Rcu`: a worker drops its handle to the `Rcu` and
/// keeps reading. In the kernel the worker is a workqueue item and the owner spins on an atomic
/// flag calling `schedule()`; here a thread and a channel.
fn borrow_outlives_the_handle() {
    struct Config {
        a: i32,
        b: i32,
    }
    let shared = Arc::new(Rcu::new(Box::new(Config { a: 1, b: 2 })));
    let handle = Arc::clone(&shared);
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let g = read_lock();
        let config = handle.dereference(&g).expect("published");
        drop(handle); // our reference to the Rcu is gone...
        dropped_tx.send(()).unwrap();
        (config.a, config.b) // ...but the guard still protects what we read through it
    });
    dropped_rx.recv().unwrap();
    drop(shared); // the last handle: Rcu::drop waits for the worker's guard, then frees
    let (a, b) = worker.join().unwrap();
    println!(
        "2. a worker thread dropped its Arc<Rcu> handle and still read Config {{ a: {a}, b: {b} }} through\n   \
         its borrow: the borrow is tied to the guard, and the last handle's drop waited for that guard"
    );
}

/// Replacing while a reader holds the old value: the reader keeps the old one, new readers see
/// the new one, and the old one is freed after the reader is done.
fn replace_under_a_reader() {
    let mut x = pin!(Rcu::new(Box::new(100_i32)));
    let q = Box::new(101_i32);
    let g = read_lock();
    let v = x.dereference(&g); // borrows the guard, not `x`: the updater may go on
    let old = x.as_mut().replace(q);
    assert!(old.is_some());
    assert_eq!(v, Some(&100)); // the reader still sees the old value
    assert_eq!(x.dereference(&g), Some(&101)); // new lookups see the new one
    println!(
        "3. replaced 100 by 101 while a reader held a borrow: the reader still sees {v:?}, new lookups\n   \
         see {:?}; the old value is freed after the reader's guard ends",
        x.dereference(&g)
    );
    drop(g);
    drop(old); // outside any read-side critical section: waits for a grace period, then frees
}

/// The maple tree example of the RcuBox patch: values stay readable for one grace period after
/// they are erased.
fn load_rcu_like_the_maple_tree() {
    let tree = RcuMap::new();
    tree.insert(100_usize, RcuBox::new(10_i32));
    let g = read_lock();
    let ten = tree.load_rcu(&100, &g);
    assert_eq!(ten, Some(&10));
    drop(tree.remove(&100)); // erase: the RcuBox is dropped, its memory waits for `g`
    assert_eq!(ten, Some(&10));
    println!(
        "4. RcuMap::load_rcu found {ten:?} under key 100; the entry was then removed, and the borrow\n   \
         still reads {ten:?} until the guard ends (its memory waits for the guard, as with the maple tree)"
    );
}

fn main() {
    println!("kernel_port: the kernel Rust RCU API's examples, ported to rcu-runtime");
    read_under_the_lock();
    borrow_outlives_the_handle();
    replace_under_a_reader();
    load_rcu_like_the_maple_tree();
    println!(
        "all 4 kernel examples ran in userspace; examples/src/bin/kernel_port.rs says what changed in each"
    );
}
