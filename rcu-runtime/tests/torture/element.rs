//! The element the torture writer publishes: it carries its pipe stage and poisons itself when
//! dropped, so a reader that reaches it too late can tell.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rcu_runtime::{Field, HasField, HasRcuHead, RcuHead};

/// What `magic` holds while the element is alive.
const LIVE: u64 = 0x11fe_11fe_11fe_11fe;
/// What `magic` holds once the element has been dropped (its memory is then also overwritten
/// by the poisoning allocator, when one is installed).
const POISON: u64 = 0xdead_dead_dead_dead;

/// Counts of elements created and dropped during one run, to prove each was freed exactly once.
#[derive(Debug, Default)]
pub(crate) struct Census {
    created: AtomicU64,
    dropped: AtomicU64,
    double_drops: AtomicU64,
}

impl Census {
    /// (created, dropped, dropped a second time).
    pub(crate) fn counts(&self) -> (u64, u64, u64) {
        // Relaxed: read after the run has ended and every callback has run (`rcu_barrier`).
        (
            self.created.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.double_drops.load(Ordering::Relaxed),
        )
    }
}

/// One published version.
///
/// The writer moves its `pipe` stage forward: 0 while it is published, 1 once it is removed,
/// and one more for every grace period the writer then sees complete. A reader inside a
/// read-side critical section can legally see stage 0 or 1 only (see `histogram::LEGAL_STAGES`).
pub(crate) struct Element {
    /// `LIVE` or `POISON`.
    magic: AtomicU64,
    /// The pipe stage.
    pipe: AtomicU64,
    census: Arc<Census>,
    /// Lets `RcuOld::drop_async` free the element without allocating.
    head: RcuHead,
}

impl Element {
    /// A live element at stage 0.
    pub(crate) fn new(census: &Arc<Census>) -> Self {
        // Relaxed: statistics only.
        census.created.fetch_add(1, Ordering::Relaxed);
        Self {
            magic: AtomicU64::new(LIVE),
            pipe: AtomicU64::new(0),
            census: Arc::clone(census),
            head: RcuHead::new(),
        }
    }

    /// What a reader sees: `Some(stage)` for a live element, `None` for a freed one.
    pub(crate) fn observe(&self) -> Option<u64> {
        // Relaxed, like the kernel's READ_ONCE: the ordering that matters comes from the
        // read-side critical section and the grace period, which is what is under test.
        let stage = self.pipe.load(Ordering::Relaxed);
        (self.magic.load(Ordering::Relaxed) == LIVE).then_some(stage)
    }

    /// Moves the element one stage on; called by the writer only.
    pub(crate) fn advance(&self) {
        // Relaxed: see `observe`.
        self.pipe.fetch_add(1, Ordering::Relaxed);
    }

    /// The current stage, for the writer.
    pub(crate) fn stage(&self) -> u64 {
        self.pipe.load(Ordering::Relaxed)
    }
}

impl Drop for Element {
    fn drop(&mut self) {
        // Relaxed: a reader that races with this store is the bug the harness reports.
        let previous = self.magic.swap(POISON, Ordering::Relaxed);
        self.pipe.store(u64::MAX, Ordering::Relaxed);
        if previous == LIVE {
            self.census.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            self.census.double_drops.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: `Type` and `OFFSET` are those of `Element::head`, read from the field itself.
unsafe impl HasField<Field<3>> for Element {
    type Type = RcuHead;
    const OFFSET: usize = core::mem::offset_of!(Element, head);
}

// SAFETY: both methods go through the `HasField` impl of the `head` field, so `raw_get_rcu_head`
// returns that field of `*this` with the same provenance and `rcu_head_container_of` inverts it.
unsafe impl HasRcuHead for Element {
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
        <Self as HasField<Field<3>>>::raw_get_field(this)
    }

    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
        // SAFETY: forwarded from the caller: `head` came from `raw_get_rcu_head` of a live element.
        unsafe { <Self as HasField<Field<3>>>::field_container_of(head) }
    }
}
