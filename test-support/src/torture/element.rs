//! The element the torture writer publishes: it carries its pipe stage and poisons itself when
//! dropped, so a reader that reaches it too late can tell. Some elements also own a chain of
//! [`Link`]s through nested `Rcu`s, whose drops a callback must defer instead of waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rcu_runtime::{Field, Guard, HasField, HasRcuHead, Rcu, RcuHead};

/// What `magic` holds while the element is alive.
const LIVE: u64 = 0x11fe_11fe_11fe_11fe;
/// What `magic` holds once the element has been dropped (its memory is then also overwritten
/// by the poisoning allocator, when one is installed).
const POISON: u64 = 0xdead_dead_dead_dead;

/// The name of the runtime's callback worker thread, to count the drops that run there.
const WORKER_THREAD: &str = "rcu-callbacks";

/// Created, dropped and dropped-twice counts of one kind of object.
#[derive(Debug, Default)]
struct Tally {
    created: AtomicU64,
    dropped: AtomicU64,
    double_drops: AtomicU64,
}

impl Tally {
    fn created(&self) {
        // Relaxed: statistics, read after the run has ended and every callback has run.
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a drop of an object whose magic was `previous`.
    fn dropped(&self, previous: u64) {
        let counter = if previous == LIVE { &self.dropped } else { &self.double_drops };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn counts(&self) -> (u64, u64, u64) {
        (
            self.created.load(Ordering::Relaxed),
            self.dropped.load(Ordering::Relaxed),
            self.double_drops.load(Ordering::Relaxed),
        )
    }
}

/// Counts of elements and links created and dropped during one run, to prove each was freed
/// exactly once.
#[derive(Debug, Default)]
pub struct Census {
    elements: Tally,
    links: Tally,
    /// Links dropped on the runtime's callback worker.
    links_dropped_on_worker: AtomicU64,
}

impl Census {
    /// Elements (created, dropped, dropped a second time).
    pub fn counts(&self) -> (u64, u64, u64) {
        self.elements.counts()
    }

    /// Links (created, dropped, dropped a second time) and how many of the drops ran on the
    /// callback worker.
    pub fn link_counts(&self) -> ((u64, u64, u64), u64) {
        (self.links.counts(), self.links_dropped_on_worker.load(Ordering::Relaxed))
    }
}

/// One link of the chain an element may own: an object behind a nested `Rcu`, which owns the
/// next link through another `Rcu`.
///
/// Dropping a non-null `Rcu` waits for a grace period; on the callback worker (where elements
/// freed by `defer_drop`, `drop_async`, `defer_rcu` and `RcuBox` are dropped) it must defer
/// instead, or the worker would wait for itself. So a chain of two links freed from a callback
/// takes two more callbacks, each queued by the one before.
pub struct Link {
    /// `LIVE` or `POISON`.
    magic: AtomicU64,
    census: Arc<Census>,
    next: Rcu<Box<Link>>,
}

impl Link {
    /// A chain of `len` links (`len > 0`).
    fn chain(census: &Arc<Census>, len: usize) -> Box<Self> {
        census.links.created();
        let next = if len > 1 { Rcu::new(Self::chain(census, len - 1)) } else { Rcu::null() };
        Box::new(Self { magic: AtomicU64::new(LIVE), census: Arc::clone(census), next })
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Relaxed: see `Element::drop`. The next link is dropped after this (field order), with
        // a grace period or, on the worker, by a callback.
        let previous = self.magic.swap(POISON, Ordering::Relaxed);
        self.census.links.dropped(previous);
        if std::thread::current().name() == Some(WORKER_THREAD) {
            self.census.links_dropped_on_worker.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// One published version.
///
/// The writer moves its `pipe` stage forward: 0 while it is published, 1 once it is removed,
/// and one more for every grace period the writer then sees complete. A reader inside a
/// read-side critical section can legally see stage 0 or 1 only (see `histogram::LEGAL_STAGES`).
pub struct Element {
    /// `LIVE` or `POISON`.
    magic: AtomicU64,
    /// The pipe stage.
    pipe: AtomicU64,
    census: Arc<Census>,
    /// Lets `RcuOld::drop_async` free the element without allocating.
    head: RcuHead,
    /// Null, or the first of a chain of [`Link`]s.
    links: Rcu<Box<Link>>,
}

impl Element {
    /// A live element at stage 0.
    pub fn new(census: &Arc<Census>) -> Self {
        Self::with_links(census, 0)
    }

    /// A live element at stage 0 that owns a chain of `links` links (none for 0).
    pub fn with_links(census: &Arc<Census>, links: usize) -> Self {
        census.elements.created();
        Self {
            magic: AtomicU64::new(LIVE),
            pipe: AtomicU64::new(0),
            census: Arc::clone(census),
            head: RcuHead::new(),
            links: if links > 0 { Rcu::new(Link::chain(census, links)) } else { Rcu::null() },
        }
    }

    /// Walks the element's chain of links under `guard`: `Some(links read)` if every link is
    /// live, `None` if one was poisoned (freed). Call it only on a live element.
    pub fn walk_links(&self, guard: &Guard) -> Option<u64> {
        let mut read = 0;
        let mut next = self.links.dereference(guard);
        while let Some(link) = next {
            // Relaxed: see `observe`.
            if link.magic.load(Ordering::Relaxed) != LIVE {
                return None;
            }
            read += 1;
            next = link.next.dereference(guard);
        }
        Some(read)
    }

    /// What a reader sees: `Some(stage)` for a live element, `None` for a freed one.
    pub fn observe(&self) -> Option<u64> {
        // Relaxed, like the kernel's READ_ONCE: the ordering that matters comes from the
        // read-side critical section and the grace period, which is what is under test.
        let stage = self.pipe.load(Ordering::Relaxed);
        (self.magic.load(Ordering::Relaxed) == LIVE).then_some(stage)
    }

    /// Moves the element one stage on; called by the writer only.
    pub fn advance(&self) {
        // Relaxed: see `observe`.
        self.pipe.fetch_add(1, Ordering::Relaxed);
    }

    /// The current stage, for the writer.
    pub fn stage(&self) -> u64 {
        self.pipe.load(Ordering::Relaxed)
    }
}

impl Drop for Element {
    fn drop(&mut self) {
        // Relaxed: a reader that races with this store is the bug the harness reports.
        let previous = self.magic.swap(POISON, Ordering::Relaxed);
        self.pipe.store(u64::MAX, Ordering::Relaxed);
        self.census.elements.dropped(previous);
        // Then the fields: `links`, when not null, waits for a grace period here, or defers on
        // the callback worker.
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
