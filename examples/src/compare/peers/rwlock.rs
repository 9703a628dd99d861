//! `RwLock<Arc<T>>`: the lock-based baseline. Readers take the read lock; the updater swaps the
//! `Arc` under the write lock and drops the old one after releasing it.

use std::sync::{Arc, PoisonError, RwLock};

use super::{ReadPeer, UpdatePeer};
use crate::compare::payload::Payload;

/// A payload behind a reader-writer lock.
pub(crate) struct RwLockPeer {
    current: RwLock<Arc<Payload>>,
}

impl RwLockPeer {
    pub(crate) fn new() -> Self {
        Self { current: RwLock::new(Arc::new(Payload::new(1))) }
    }
}

impl ReadPeer for RwLockPeer {
    fn name(&self) -> &'static str {
        "RwLock<Arc<T>>::read"
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
            sum = sum.wrapping_add(current.read());
        }
        sum
    }
}

impl UpdatePeer for RwLockPeer {
    fn update(&self, value: u64) {
        let next = Arc::new(Payload::new(value));
        let old =
            core::mem::replace(&mut *self.current.write().unwrap_or_else(PoisonError::into_inner), next);
        // Freed after the write lock is released, so readers do not wait for the free.
        drop(old);
    }
}
