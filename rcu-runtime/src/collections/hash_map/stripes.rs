//! The map's lock stripes, and what each keeps behind its lock besides the right to update its
//! buckets: the nodes its updaters unlinked, on their way to a grace period in batches, and node
//! memory to reuse.
//!
//! Handing unlinked nodes over in batches keeps the update path short: one callback per batch
//! instead of one `call_rcu` per node (two atomic read-modify-writes on the engine's shared
//! queue, and a cache miss per node on the worker), no callback head in the node, and no atomic
//! read-modify-write of our own either (the batch is the stripe lock's). The callback that takes
//! a batch after its grace period drops the keys and values and gives the memory back through
//! the map's [`Spare`], so that inserts reuse it: a remove followed by an insert allocates
//! nothing, and the memory stays with the updaters instead of being freed on the worker (a free
//! on another thread than the allocation's makes the next allocation slow).
//!
//! A batch that does not fill would wait for updates that may never come: the first node put in
//! a batch queues a *flusher*, a callback that takes the stripe lock and hands the batch over as
//! it is if it is still the same batch. The worker may block on a stripe lock there, and that
//! cannot deadlock: a stripe lock is held only inside a read-side critical section (`locked`,
//! `resize`), where nothing waits for a grace period or for the worker (`synchronize_rcu` and
//! `rcu_barrier` panic there, and `call_rcu`'s backpressure does not wait there).

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use super::raw::RawNode;
use super::retired::{Spare, recycle};
use crate::defer_rcu;
use crate::engine::sync::{Arc, AtomicUsize};
use crate::writer_lock::WriterLock;

/// Nodes per batch. Debug builds (the tests) use small batches, so that the flusher and full
/// batches both come into play often.
#[cfg(not(debug_assertions))]
pub(super) const BATCH: usize = 64;
/// Nodes per batch (small in debug builds, see the release value).
#[cfg(debug_assertions)]
pub(super) const BATCH: usize = 4;

/// What to do instead of updating the map re-entrantly.
pub(super) const REENTRY_ADVICE: &str = "A key's Hash and Eq must not update the map they are stored in.";

/// The stripes of a map and its spare node memory, shared (through an `Arc`) by the map and the
/// callbacks that flush and free its batches, which may run after the map is gone.
pub(super) struct Shared<K, V> {
    pub(super) stripes: Box<[Stripe<K, V>]>,
    pub(super) spare: Spare<K, V>,
}

/// One lock stripe: it serializes the updaters of every bucket whose hash starts with its
/// number, in every table, counts the entries of those buckets, and keeps the nodes they unlink
/// until they go to a grace period.
#[repr(align(64))]
pub(super) struct Stripe<K, V> {
    pub(super) lock: WriterLock<Local<K, V>>,
    pub(super) count: AtomicUsize,
}

/// Up to [`BATCH`] node pointers in one allocation: a batch of unlinked nodes on its way to a
/// grace period, or of node memory on its way back. Boxed, so that a stripe's state fits in one
/// cache line with its lock.
///
/// # Invariants
///
/// `len <= BATCH`, and `nodes[..len]` are initialized.
pub(super) struct Batch<K, V> {
    len: usize,
    nodes: [MaybeUninit<NonNull<RawNode<K, V>>>; BATCH],
}

// SAFETY: what a batch points to is owned by whoever owns the batch (unlinked nodes, or node
// memory whose contents are dropped): sending it sends keys and values, which `K, V: Send` allow.
unsafe impl<K: Send, V: Send> Send for Batch<K, V> {}

impl<K, V> Batch<K, V> {
    /// An empty batch.
    pub(super) fn new() -> Box<Self> {
        // INVARIANT: empty.
        Box::new(Self { len: 0, nodes: [MaybeUninit::uninit(); BATCH] })
    }

    /// The number of pointers in the batch.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Adds `node`; returns whether the batch is full now.
    ///
    /// # Panics
    ///
    /// When the batch was full already.
    fn push(&mut self, node: NonNull<RawNode<K, V>>) -> bool {
        // INVARIANT: one more initialized slot, within bounds (the index panics otherwise).
        self.nodes[self.len] = MaybeUninit::new(node);
        self.len += 1;
        self.len == BATCH
    }

    /// Takes the last pointer out.
    fn pop(&mut self) -> Option<NonNull<RawNode<K, V>>> {
        let last = self.len.checked_sub(1)?;
        // INVARIANT: one fewer initialized slot.
        self.len = last;
        // SAFETY: the slot was initialized (invariant).
        Some(unsafe { self.nodes[last].assume_init() })
    }

    /// The last pointer, left in.
    fn last(&self) -> Option<NonNull<RawNode<K, V>>> {
        let last = self.len.checked_sub(1)?;
        // SAFETY: the slot is initialized (invariant).
        Some(unsafe { self.nodes[last].assume_init() })
    }

    /// The pointers in the batch.
    pub(super) fn as_slice(&self) -> &[NonNull<RawNode<K, V>>] {
        // SAFETY: the first `len` slots are initialized (invariant); `MaybeUninit<T>` has `T`'s
        // layout.
        unsafe { core::slice::from_raw_parts(self.nodes.as_ptr().cast(), self.len) }
    }
}

/// What a stripe's updaters keep behind its lock.
///
/// # Invariants
///
/// - `retired` holds the nodes of the map that were unlinked under this lock since the last
///   batch left: each leaked from a `Box`, reachable by no new reader, owned here and freed by
///   nobody else. When it holds any, a flusher for `generation` is queued.
/// - `generation` counts the batches this stripe handed over.
/// - `reuse` holds the memory of nodes whose grace period has elapsed and whose contents are
///   dropped, ours to reuse or free.
/// - `buffer` is empty: an emptied `reuse`, kept to hold the next batch (no allocation per
///   batch).
pub(super) struct Local<K, V> {
    retired: Option<Box<Batch<K, V>>>,
    reuse: Option<Box<Batch<K, V>>>,
    buffer: Option<Box<Batch<K, V>>>,
    generation: u64,
}

/// What an update does after unlocking, for the node it unlinked.
#[must_use = "a batch's nodes are freed only when it is handed over, and a flusher must be queued"]
pub(super) enum Retired<K, V> {
    /// The node went into a batch that was already started.
    Kept,
    /// The node started a batch: queue its flusher.
    Started { generation: u64 },
    /// The node filled the batch: hand it over.
    Full(Box<Batch<K, V>>),
}

impl<K, V> Shared<K, V> {
    /// `count` empty stripes and no spare memory.
    pub(super) fn new(count: usize) -> Self {
        let stripes = (0..count)
            .map(|_| Stripe {
                // INVARIANT: nothing retired or to reuse.
                lock: WriterLock::new(Local { retired: None, reuse: None, buffer: None, generation: 0 }),
                count: AtomicUsize::new(0),
            })
            .collect();
        Self { stripes, spare: Spare::new() }
    }
}

impl<K, V> Local<K, V> {
    /// A node holding `key` and `value`, in no chain: in reused memory when there is some, else
    /// freshly allocated. Runs under the stripe lock.
    #[inline]
    pub(super) fn new_node(&mut self, spare: &Spare<K, V>, key: K, value: V) -> NonNull<RawNode<K, V>> {
        if self.reuse.as_ref().is_none_or(|reuse| reuse.len() == 0)
            && let Some(memory) = spare.take()
        {
            // INVARIANT: `spare` hands the memory over; what we had is empty, and holds the next
            // batch if no buffer is kept yet.
            let emptied = self.reuse.replace(memory);
            if self.buffer.is_none() {
                self.buffer = emptied;
            }
        }
        match self.reuse.as_mut().and_then(|reuse| reuse.pop()) {
            Some(memory) => {
                // The next insert of this stripe reuses the next node: have its line on the way
                // (reused memory is cold: it waited a grace period since its node was unlinked).
                if let Some(next) = self.reuse.as_ref().and_then(|reuse| reuse.last()) {
                    prefetch_for_write(next);
                }
                // SAFETY: the memory of a `RawNode<K, V>` from a `Box`, whose contents are dropped,
                // ours (invariant; it left `reuse`): writing a node there makes it a live box again.
                unsafe { memory.as_ptr().write(RawNode::new(key, value)) };
                memory
            }
            None => NonNull::from(Box::leak(Box::new(RawNode::new(key, value)))),
        }
    }

    /// Keeps the unlinked `node` for the next batch. Runs under the stripe lock.
    ///
    /// # Safety
    ///
    /// `node` is a node of the map, leaked from a `Box`, that the caller unlinked under this
    /// stripe's lock (no new reader can reach it), and that the map owns no more.
    #[inline]
    pub(super) unsafe fn retire(&mut self, node: NonNull<RawNode<K, V>>) -> Retired<K, V> {
        let retired = self.retired.get_or_insert_with(|| self.buffer.take().unwrap_or_else(Batch::new));
        // INVARIANT: ours now; a flusher is queued (after unlocking) for the batch this node
        // starts.
        if retired.push(node) {
            // INVARIANT: the batch leaves, counted.
            self.generation += 1;
            Retired::Full(self.retired.take().expect("pushed to it just now"))
        } else if retired.len() == 1 {
            Retired::Started { generation: self.generation }
        } else {
            Retired::Kept
        }
    }
}

/// Asks the CPU to bring `memory`'s cache line in for writing; a hint, which does nothing on
/// other architectures.
#[inline]
fn prefetch_for_write<T>(memory: NonNull<T>) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `sse`, which `_mm_prefetch` needs, is part of the x86-64 baseline; a prefetch
    // reads and writes nothing architecturally and never faults, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_ET0 }>(memory.as_ptr().cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = memory;
}

impl<K, V> Local<K, V> {
    /// The flusher's step, under the stripe lock: takes the batch out if it is still batch
    /// `generation` (the one the flusher was queued for), not handed over since.
    fn flush(&mut self, generation: u64) -> Option<Box<Batch<K, V>>> {
        if self.generation != generation {
            return None;
        }
        let batch = self.retired.take()?;
        // INVARIANT: the batch leaves, counted.
        self.generation += 1;
        Some(batch)
    }
}

impl<K, V> Drop for Local<K, V> {
    fn drop(&mut self) {
        // `retired` is empty: every batch is taken by its flusher, which holds the map's shared
        // part alive until then. (Were a flusher never queued, its batch would leak.)
        for &memory in self.reuse.iter().flat_map(|reuse| reuse.as_slice()) {
            // SAFETY: memory of a node whose contents are dropped, ours (invariant), freed once.
            unsafe { Spare::<K, V>::dealloc(memory) };
        }
    }
}

impl<K: Send + 'static, V: Send + 'static> Retired<K, V> {
    /// Queues the flusher of a batch the update started, or hands over a batch it filled.
    /// Called after unlocking: `defer_rcu` may wait for room in the callback queue.
    pub(super) fn run(self, shared: &Arc<Shared<K, V>>, stripe: usize) {
        match self {
            Retired::Kept => {}
            Retired::Started { generation } => {
                let shared = Arc::clone(shared);
                // The flusher. The grace period only delays it: it takes the batch only if it is
                // the same one (not handed over in the meantime), and hands it to another grace
                // period, which starts after every node of it was unlinked.
                defer_rcu(move || {
                    let mut local =
                        shared.stripes[stripe].lock.lock("the RcuHashMap flusher", REENTRY_ADVICE);
                    let batch = local.flush(generation);
                    drop(local);
                    if let Some(batch) = batch {
                        // SAFETY: the batch was this stripe's: unlinked nodes, ours now.
                        unsafe { hand_over(&shared, batch) };
                    }
                });
            }
            // SAFETY: the batch was this stripe's: unlinked nodes, ours now.
            Retired::Full(batch) => unsafe { hand_over(shared, batch) },
        }
    }
}

/// Drops the contents of `batch`'s nodes after a grace period, on the callback worker, and keeps
/// their memory in the map's spare memory.
///
/// # Safety
///
/// Each node of `batch` is a node leaked from a `Box` that the map unlinked before this call and
/// that the caller owns.
unsafe fn hand_over<K: Send + 'static, V: Send + 'static>(
    shared: &Arc<Shared<K, V>>,
    batch: Box<Batch<K, V>>,
) {
    let shared = Arc::clone(shared);
    // `defer_rcu` runs the closure once, after a grace period that starts after this call, so
    // after every node's unlinking, on the worker (`Batch<K, V>: Send`).
    defer_rcu(move || {
        // SAFETY: the nodes are ours (the caller's contract) and no reader can reach them any
        // more (the grace period).
        unsafe { recycle(&shared.spare, batch) };
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stripe's lock, counter and batches share one cache line: an update touches one line
    /// of its stripe, not two (which costs a transfer between cores when two updaters alternate
    /// on a stripe).
    fn local() -> Local<u8, u8> {
        Local { retired: None, reuse: None, buffer: None, generation: 0 }
    }

    /// Retires a fresh node holding `n`, standing for an unlinked one.
    fn retire(local: &mut Local<u8, u8>, n: usize) -> Retired<u8, u8> {
        let node = NonNull::from(Box::leak(Box::new(RawNode::new(n as u8, 0))));
        // SAFETY: the node is a leaked box, ours, that no reader can reach; `free` frees it.
        unsafe { local.retire(node) }
    }

    /// Frees the nodes of a batch that left; returns their keys.
    fn free(batch: &Batch<u8, u8>) -> Vec<usize> {
        batch
            .as_slice()
            .iter()
            // SAFETY: the tests' nodes are leaked boxes, freed once, here.
            .map(|&n| usize::from(unsafe { Box::from_raw(n.as_ptr()) }.key))
            .collect()
    }

    #[test]
    fn a_batch_leaves_once_full_or_flushed_and_a_stale_flusher_takes_nothing() {
        let mut local = local();
        assert!(matches!(retire(&mut local, 0), Retired::Started { generation: 0 }));
        for n in 1..BATCH - 1 {
            assert!(matches!(retire(&mut local, n), Retired::Kept));
        }
        let Retired::Full(full) = retire(&mut local, BATCH - 1) else { panic!("the batch is full") };
        assert_eq!(free(&full), (0..BATCH).collect::<Vec<_>>());
        // The first batch's flusher comes too late: it was handed over.
        assert!(local.flush(0).is_none());
        // The next batch is flushed half-full by its own flusher, once.
        assert!(matches!(retire(&mut local, 100), Retired::Started { generation: 1 }));
        assert!(matches!(retire(&mut local, 101), Retired::Kept));
        assert_eq!(free(&local.flush(1).expect("still the same batch")), [100, 101]);
        assert!(local.flush(1).is_none());
        // And the batch after starts a generation of its own.
        assert!(matches!(retire(&mut local, 102), Retired::Started { generation: 2 }));
        assert_eq!(free(&local.flush(2).expect("still the same batch")), [102]);
    }

    #[test]
    fn a_stripe_fits_one_cache_line() {
        assert!(core::mem::size_of::<Stripe<u64, u64>>() <= 64);
        assert!(core::mem::size_of::<Stripe<String, Vec<u8>>>() <= 64);
    }
}
