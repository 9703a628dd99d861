//! [`Tracked`]: a value that counts its drops and poisons itself, so that a test sees both a
//! reader reaching reclaimed memory and a value dropped twice or never.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The value a live [`Tracked`] holds; anything else means the reader saw freed memory.
pub const LIVE: u64 = 0x5afe_5afe_5afe_5afe;
/// What a [`Tracked`] is overwritten with when it is dropped.
pub const POISON: u64 = 0xdead_dead_dead_dead;

/// A value that counts its drops and poisons itself when dropped, so a reader that still reaches
/// it after reclamation sees `POISON` (until the memory is reused).
pub struct Tracked {
    /// Which value this is, for messages.
    pub id: u64,
    state: AtomicU64,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    /// A live value that adds one to `drops` when it is dropped.
    pub fn new(id: u64, drops: &Arc<AtomicUsize>) -> Self {
        Self { id, state: AtomicU64::new(LIVE), drops: Arc::clone(drops) }
    }

    /// Returns the id; panics if the value was already dropped.
    pub fn check(&self) -> u64 {
        // Relaxed: the ordering under test is the grace period's, not this load's.
        let state = self.state.load(Ordering::Relaxed);
        assert_eq!(state, LIVE, "a reader reached a reclaimed object (id {})", self.id);
        self.id
    }
}

impl Drop for Tracked {
    /// Poisons the value and counts the drop; panics if it was dropped before.
    fn drop(&mut self) {
        // Relaxed: a reader racing with this store is what the tests look for.
        let previous = self.state.swap(POISON, Ordering::Relaxed);
        assert_eq!(previous, LIVE, "object {} dropped twice", self.id);
        // SeqCst: tests read the count from other threads after a grace period or a barrier.
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh drop counter for [`Tracked::new`].
pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}
