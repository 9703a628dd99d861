//! The floor: a plain `AtomicPtr` load and a field read, with no protection at all.
//!
//! Not a usable scheme (nothing could ever free the object safely), only the cost below which no
//! read side can go.

use core::sync::atomic::{AtomicPtr, Ordering};

use super::ReadPeer;
use crate::compare::payload::Payload;

/// A payload behind an atomic pointer that never changes.
pub(crate) struct PlainAtomic {
    ptr: AtomicPtr<Payload>,
}

impl PlainAtomic {
    pub(crate) fn new() -> Self {
        Self { ptr: AtomicPtr::new(Box::into_raw(Payload::boxed(1))) }
    }
}

impl ReadPeer for PlainAtomic {
    fn name(&self) -> &'static str {
        "AtomicPtr load (floor)"
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            // Acquire, as a reader of a published pointer needs (and as `Rcu::dereference` does).
            let ptr = self.ptr.load(Ordering::Acquire);
            // SAFETY: `ptr` comes from `Box::into_raw` in `new` and is freed only by `drop`, which
            // needs `&mut self`, so not while this `&self` borrow lasts.
            sum = sum.wrapping_add(unsafe { (*ptr).read() });
        }
        sum
    }
}

impl Drop for PlainAtomic {
    fn drop(&mut self) {
        // SAFETY: the pointer comes from `Box::into_raw` in `new`, and `&mut self` proves that no
        // reader holds it any more.
        drop(unsafe { Box::from_raw(*self.ptr.get_mut()) });
    }
}
