//! The floor of a counter-based read side: what liburcu memb and rcu-runtime do at the least.
//!
//! A read-side section of the memb design stores the global phase into a thread-local counter,
//! orders it with a compiler fence, reads, and stores the counter back, fenced again. This peer
//! does exactly that and nothing else: no nesting, no registration, no fallback barrier flavour,
//! no waking of a sleeping grace period. No grace period looks at its counter, so it protects
//! nothing; it shows how close a real read side gets to the bound of its design on this CPU
//! (on x86-64, the two store-to-load round trips through the counter).

use core::cell::Cell;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering, compiler_fence};

use super::ReadPeer;
use crate::compare::payload::Payload;

thread_local! {
    /// The reader's counter.
    static COUNTER: Cell<usize> = const { Cell::new(0) };
}

/// A payload read inside a bare thread-local-counter section.
pub(crate) struct CounterFloor {
    phase: AtomicUsize,
    ptr: AtomicPtr<Payload>,
}

impl CounterFloor {
    pub(crate) fn new() -> Self {
        Self { phase: AtomicUsize::new(1), ptr: AtomicPtr::new(Box::into_raw(Payload::boxed(1))) }
    }
}

impl ReadPeer for CounterFloor {
    fn name(&self) -> &'static str {
        "TLS counter + fences (RCU floor)"
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            // Relaxed: as the memb read side loads the grace-period counter.
            COUNTER.set(self.phase.load(Ordering::Relaxed));
            compiler_fence(Ordering::SeqCst);
            // Acquire, as `Rcu::dereference` does.
            let ptr = self.ptr.load(Ordering::Acquire);
            // SAFETY: `ptr` comes from `Box::into_raw` in `new` and is freed only by `drop`, which
            // needs `&mut self`, so not while this `&self` borrow lasts.
            sum = sum.wrapping_add(unsafe { (*ptr).read() });
            compiler_fence(Ordering::SeqCst);
            COUNTER.set(COUNTER.get() - 1);
            compiler_fence(Ordering::SeqCst);
        }
        sum
    }
}

impl Drop for CounterFloor {
    fn drop(&mut self) {
        // SAFETY: the pointer comes from `Box::into_raw` in `new`, and `&mut self` proves that no
        // reader holds it any more.
        drop(unsafe { Box::from_raw(*self.ptr.get_mut()) });
    }
}
