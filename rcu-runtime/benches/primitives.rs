//! Criterion benchmarks of the primitives, one thread at a time.
//!
//! - read side: `read_lock` + `dereference` + a field read + drop; a guard nested in another;
//!   a QSBR reader's read and its quiescent state; the reader view of an `RcuMutex` (with the
//!   `derive` feature, which it needs);
//! - grace periods: `synchronize_rcu` with no reader inside a section, and with a busy reader;
//! - callbacks: `call_rcu` enqueue alone, and `replace` + `drop_async`.
//!
//! ```text
//! cargo bench -p rcu-runtime --bench primitives
//! ```
//!
//! The side-by-side comparison with liburcu, crossbeam-epoch, arc-swap and `RwLock` is the
//! `compare` program of the `examples` crate.

use core::hint::black_box;
use core::mem::offset_of;
use core::pin::pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rcu_runtime::{
    Field, HasField, HasRcuHead, QsbrReader, Rcu, RcuHead, call_rcu, rcu_barrier, read_lock, synchronize_rcu,
};

/// What the benchmarks publish and free: a value and the head `call_rcu` links through.
struct Node {
    value: u64,
    head: RcuHead,
}

impl Node {
    fn boxed(value: u64) -> Box<Self> {
        Box::new(Self { value, head: RcuHead::new() })
    }
}

// SAFETY: `Type` is the type of `Node::head` and `OFFSET` its offset, both read from the field.
unsafe impl HasField<Field<1>> for Node {
    type Type = RcuHead;
    const OFFSET: usize = offset_of!(Node, head);
}

// SAFETY: both methods go through the `HasField` impl of the `head` field, which keeps the
// provenance and is inverted by `field_container_of`.
unsafe impl HasRcuHead for Node {
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
        <Self as HasField<Field<1>>>::raw_get_field(this)
    }

    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
        // SAFETY: forwarded from the caller: `head` came from `raw_get_rcu_head` of a live node.
        unsafe { <Self as HasField<Field<1>>>::field_container_of(head) }
    }
}

/// Frees a node queued by `call_rcu`.
///
/// # Safety
///
/// `head` is the head of a node leaked from a `Box<Node>`, passed here once.
unsafe fn free_node(head: NonNull<RcuHead>) {
    // SAFETY: by this function's contract the head is in a leaked `Box<Node>` that we own now.
    drop(unsafe { Box::from_raw(Node::rcu_head_container_of(head.as_ptr())) });
}

fn read_side(c: &mut Criterion) {
    let mut group = c.benchmark_group("read_side");
    let rcu = Rcu::new(Node::boxed(7));

    group.bench_function("read_lock+dereference+drop", |b| {
        b.iter(|| {
            let guard = read_lock();
            let value = black_box(&rcu).dereference(&guard).map(|node| node.value);
            drop(guard);
            value
        });
    });

    group.bench_function("nested_guard", |b| {
        // The outer section is entered once; each iteration nests one more guard inside it.
        let outer = read_lock();
        b.iter(|| {
            let guard = read_lock();
            let value = black_box(&rcu).dereference(&guard).map(|node| node.value);
            drop(guard);
            value
        });
        drop(outer);
    });

    group.bench_function("qsbr_dereference", |b| {
        // The reader is online for the whole measurement: a read is the load alone.
        let reader = QsbrReader::register();
        b.iter(|| black_box(&rcu).dereference(reader.guard()).map(|node| node.value));
    });

    group.bench_function("qsbr_quiescent_state", |b| {
        let mut reader = QsbrReader::register();
        b.iter(|| reader.quiescent_state());
    });

    #[cfg(feature = "derive")]
    rcu_mutex_view::bench(&mut group);
    #[cfg(not(feature = "derive"))]
    eprintln!("read_side/rcu_mutex_view skipped: the RcuMutex view needs the `derive` feature");
    group.finish();
}

#[cfg(feature = "derive")]
mod rcu_mutex_view {
    use core::hint::black_box;

    use criterion::BenchmarkGroup;
    use criterion::measurement::WallTime;
    use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

    use super::Node;

    /// A struct whose `#[rcu]` field readers reach through the view, without the lock.
    #[derive(RcuProtected)]
    struct Published {
        #[rcu]
        current: Rcu<Box<Node>>,
    }

    pub(super) fn bench(group: &mut BenchmarkGroup<'_, WallTime>) {
        let published = RcuMutex::new(Published { current: Rcu::new(Node::boxed(7)) });
        group.bench_function("rcu_mutex_view", |b| {
            b.iter(|| {
                let guard = read_lock();
                let value = black_box(&published).rcu().current().dereference(&guard).map(|node| node.value);
                drop(guard);
                value
            });
        });
    }
}

fn grace_periods(c: &mut Criterion) {
    let mut group = c.benchmark_group("synchronize_rcu");
    // The caller is a registered reader, outside any section: the grace period does its full
    // work (with no reader registered at all it returns at once).
    drop(read_lock());
    group.bench_function("idle", |b| b.iter(synchronize_rcu));

    let stop = AtomicBool::new(false);
    let rcu = Rcu::new(Node::boxed(7));
    thread::scope(|s| {
        s.spawn(|| {
            // Relaxed: the flag carries no data.
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..1024 {
                    let guard = read_lock();
                    black_box(rcu.dereference(&guard).map(|node| node.value));
                }
            }
        });
        group.bench_function("busy_reader", |b| b.iter(synchronize_rcu));
        stop.store(true, Ordering::Relaxed);
    });
    group.finish();
}

/// Nodes queued per timed batch of the enqueue benchmark: 32 KiB of nodes, which fits the cache.
const ENQUEUE_BATCH: u64 = 1024;

fn callbacks(c: &mut Criterion) {
    let mut group = c.benchmark_group("callbacks");

    group.bench_function("call_rcu_enqueue", |b| {
        b.iter_batched(
            || NonNull::from(Box::leak(Node::boxed(1))),
            |node| {
                let head = NonNull::new(Node::raw_get_rcu_head(node.as_ptr())).expect("non-null node");
                // SAFETY: the node was leaked by the setup and is reachable by nothing else;
                // `free_node` reclaims exactly that box, and `Node` is `Send`.
                unsafe { call_rcu(head, free_node) };
            },
            // Batches small enough to stay in cache: a node handed to `call_rcu` was just unpublished
            // by its caller, so it is warm. (With criterion's `SmallInput`, batches of millions of
            // nodes would time a cache miss per node instead of the enqueue.)
            BatchSize::NumIterations(ENQUEUE_BATCH),
        );
    });

    group.bench_function("replace+drop_async", |b| {
        let mut rcu = pin!(Rcu::new(Node::boxed(0)));
        let mut value = 0;
        b.iter(|| {
            value += 1;
            if let Some(old) = rcu.as_mut().replace(Node::boxed(value)) {
                old.drop_async();
            }
        });
        if let Some(last) = rcu.as_mut().take() {
            last.drop_async();
        }
    });
    group.finish();
    rcu_barrier();
}

fn config() -> Criterion {
    Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = primitives;
    config = config();
    targets = read_side, grace_periods, callbacks
}
criterion_main!(primitives);
