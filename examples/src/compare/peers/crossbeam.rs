//! crossbeam-epoch: `pin` and `Atomic::load` on the read side; `swap` and `defer_destroy` on the
//! update side.

use core::sync::atomic::Ordering;

use crossbeam_epoch::{self as epoch, Atomic, Owned};

use super::{ReadPeer, UpdatePeer};
use crate::compare::payload::Payload;

/// A payload behind a crossbeam-epoch `Atomic`.
pub(crate) struct CrossbeamEpoch {
    current: Atomic<Payload>,
}

impl CrossbeamEpoch {
    pub(crate) fn new() -> Self {
        Self { current: Atomic::new(Payload::new(1)) }
    }
}

impl ReadPeer for CrossbeamEpoch {
    fn name(&self) -> &'static str {
        "crossbeam-epoch pin+load"
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            let guard = epoch::pin();
            // Acquire: pairs with the AcqRel swap in `update`, publishing the payload's fields.
            let current = self.current.load(Ordering::Acquire, &guard);
            // SAFETY: the pointer is never null (`new` and `update` store payloads) and is
            // destroyed only through `defer_destroy`, after every guard pinned now is dropped.
            let payload = unsafe { current.deref() };
            sum = sum.wrapping_add(payload.read());
        }
        sum
    }
}

impl UpdatePeer for CrossbeamEpoch {
    fn update(&self, value: u64) {
        let guard = epoch::pin();
        // AcqRel: Release publishes the new payload to readers' Acquire loads; Acquire makes the
        // old one's fields ours before we hand it to the collector.
        let old = self.current.swap(Owned::new(Payload::new(value)), Ordering::AcqRel, &guard);
        // SAFETY: `old` was just unpublished by the swap, so no new reader can reach it; readers
        // that hold it are pinned, and `defer_destroy` waits for them. It is destroyed only here.
        unsafe { guard.defer_destroy(old) };
    }

    fn drain(&self) {
        // crossbeam frees garbage as epochs advance, which pinning drives; a few flushes push the
        // thread-local garbage out. There is no way to wait for all of it.
        for _ in 0..4 {
            epoch::pin().flush();
        }
    }
}

impl Drop for CrossbeamEpoch {
    fn drop(&mut self) {
        // SAFETY: `&mut self` proves no reader or updater is using the pointer any more; the
        // unprotected guard is fine without concurrent access.
        unsafe {
            let guard = epoch::unprotected();
            let last = self.current.swap(epoch::Shared::null(), Ordering::Relaxed, guard);
            if !last.is_null() {
                drop(last.into_owned());
            }
        }
    }
}
