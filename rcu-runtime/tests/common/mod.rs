//! Helpers shared by the behaviour tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The value a live [`Tracked`] holds; anything else means the reader saw freed memory.
pub const LIVE: u64 = 0x5afe_5afe_5afe_5afe;
/// What a [`Tracked`] is overwritten with when it is dropped.
pub const POISON: u64 = 0xdead_dead_dead_dead;

/// A value that counts its drops and poisons itself when dropped, so a reader that still reaches
/// it after reclamation sees `POISON` (until the memory is reused).
pub struct Tracked {
    pub id: u64,
    state: std::sync::atomic::AtomicU64,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    pub fn new(id: u64, drops: &Arc<AtomicUsize>) -> Self {
        Self { id, state: std::sync::atomic::AtomicU64::new(LIVE), drops: Arc::clone(drops) }
    }

    /// Panics if the value was already dropped.
    pub fn check(&self) -> u64 {
        let state = self.state.load(Ordering::Relaxed);
        assert_eq!(state, LIVE, "a reader reached a reclaimed object (id {})", self.id);
        self.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let previous = self.state.swap(POISON, Ordering::Relaxed);
        assert_eq!(previous, LIVE, "object {} dropped twice", self.id);
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}
