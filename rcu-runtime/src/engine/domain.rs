//! All the state of one RCU engine instance.
//!
//! The process uses one global [`Domain`] (see `engine::global`); the loom models create a fresh
//! one per execution, so that they check exactly the code the global one runs.

use super::callbacks::CallbackQueue;
use super::gp::GpSequence;
use super::reader::{NEST_ONE, ReaderNode};
use super::sync::{Arc, AtomicUsize, Mutex};
use super::waker::GpWaker;

/// Readers, the grace-period counter and sequence, and the callback queue of one RCU engine.
///
/// `repr(C, align(128))` with the two fields that every read-side section loads first, alone in
/// their cache lines: the state that grace periods and callbacks write lives after them, so
/// writing it does not evict what readers need.
#[repr(C, align(128))]
pub struct Domain {
    /// The value a reader copies into its counter at its outermost `lock`: depth 1 and the current
    /// phase. Written only by the grace-period leader (one at a time).
    pub(crate) gp_ctr: AtomicUsize,
    /// How a waiting grace period sleeps and gets woken.
    pub(crate) waker: GpWaker,
    /// Keeps the read-mostly fields above in a 128-byte block of their own.
    _read_mostly: [u8; READ_MOSTLY_PAD],
    /// Every registered reader.
    pub(crate) registry: Mutex<Vec<Arc<ReaderNode>>>,
    /// Grace-period numbering, sharing and polling.
    pub(crate) seq: GpSequence,
    /// Callbacks waiting for a grace period.
    pub(crate) callbacks: CallbackQueue,
}

/// Padding that ends the read-mostly block of [`Domain`] at 128 bytes (two cache lines, as the
/// adjacent-line prefetcher pairs them). Loom's atomics are larger and need no layout care.
#[cfg(not(loom))]
const READ_MOSTLY_PAD: usize =
    128 - core::mem::size_of::<AtomicUsize>() - core::mem::size_of::<GpWaker>().next_multiple_of(8);
#[cfg(loom)]
const READ_MOSTLY_PAD: usize = 0;

#[cfg(not(loom))]
const _: () = assert!(core::mem::offset_of!(Domain, registry) == 128);

impl Domain {
    super::sync::const_fn_unless_loom! {
        /// Creates an engine with no readers and no pending callbacks.
        pub fn new() -> Self {
            Self {
                gp_ctr: AtomicUsize::new(NEST_ONE),
                waker: GpWaker::new(),
                _read_mostly: [0; READ_MOSTLY_PAD],
                registry: Mutex::new(Vec::new()),
                seq: GpSequence::new(),
                callbacks: CallbackQueue::new(),
            }
        }
    }

    /// Makes readers issue full fences from their next outermost `lock` on, for the fallback
    /// barrier flavour. Called before any reader of the domain registers (or, in a forked child,
    /// while only the calling thread exists, which switches its own open section itself).
    #[cfg(not(loom))]
    pub(crate) fn use_reader_fences(&self) {
        // Relaxed: readers that registered after this call are ordered after it by the engine's
        // start-up `Once` (or, in a forked child, run on this very thread).
        self.gp_ctr.fetch_or(super::reader::FENCES_BIT, super::sync::Ordering::Relaxed);
    }

    /// Whether readers that enter a section now issue full fences.
    #[cfg(not(loom))]
    pub(crate) fn readers_use_fences(&self) -> bool {
        // Relaxed: the flavour is set before any reader registers and never changes under one.
        self.gp_ctr.load(super::sync::Ordering::Relaxed) & super::reader::FENCES_BIT != 0
    }

    /// Adds a reader; from now on grace periods wait for its critical sections.
    pub fn register(&self, reader: Arc<ReaderNode>) {
        super::sync::lock(&self.registry).push(reader);
    }

    /// Removes a reader whose thread will run no more RCU code, and marks it idle.
    pub fn unregister(&self, reader: &Arc<ReaderNode>) {
        super::sync::lock(&self.registry).retain(|r| !Arc::ptr_eq(r, reader));
        // A grace period may still hold the node in its snapshot: make it see an idle reader.
        reader.retire(self);
    }
}

#[cfg(loom)]
impl Default for Domain {
    fn default() -> Self {
        Self::new()
    }
}

/// Grace periods, blocking and polled: what `synchronize_rcu`, `start_poll` and `GpState::poll`
/// run on the global domain, and what the loom models run on a fresh one.
impl Domain {
    /// Runs a full grace period (shared with concurrent callers).
    pub fn synchronize(&self) {
        self.seq.wait_for(self, self.seq.snapshot());
    }

    /// The sequence value at which a grace period that starts after this call has completed.
    pub fn start_poll(&self) -> u64 {
        self.seq.snapshot()
    }

    /// Whether the polled grace period `target` has completed.
    pub fn poll(&self, target: u64) -> bool {
        self.seq.is_done(target)
    }
}

/// What only the loom models drive directly (the process-wide API binds these to thread-locals
/// and a worker thread, which loom cannot model): the same methods the global engine runs.
#[cfg(loom)]
impl Domain {
    /// Queues a callback through the queue `call_rcu` pushes to; returns the number of callbacks
    /// that were pending before it.
    ///
    /// # Safety
    ///
    /// As for `call_rcu`.
    pub unsafe fn call_rcu(
        &self,
        head: core::ptr::NonNull<super::head::RcuHead>,
        func: super::head::RcuCallback,
    ) -> usize {
        // SAFETY: forwarded from the caller.
        unsafe { self.callbacks.push(head, func) }
    }

    /// Waits while more than `max` callbacks are pending, as a throttled `call_rcu` caller does.
    pub fn wait_for_room(&self, max: usize) {
        self.callbacks.wait_for_room(max, || {});
    }

    /// The worker's step: one batch taken, waited for and run; returns the callbacks still
    /// pending.
    pub fn run_callbacks(&self) -> usize {
        self.process_callbacks()
    }
}
