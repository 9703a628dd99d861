//! Running user code that may panic (callbacks, deferred drops, the stall handler) without
//! letting the panic, or the drop of its payload, escape into the engine.
//!
//! `catch_unwind` hands back the panic's payload, and dropping it runs user code too: a payload
//! whose `Drop` panics would unwind out of the place that caught the first panic, leaving the
//! engine half-way through a batch or a grace period. [`catch`] drops the payload under a second
//! `catch_unwind` and leaks whatever that one catches, so nothing escapes.

use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;

/// Runs `f`; returns whether it panicked. Neither the panic nor its payload's drop escapes.
///
/// The caller must leave its own state consistent at every point where `f` could unwind: the
/// engine's state is not touched by `f`, which only runs user code.
pub(crate) fn catch(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => false,
        Err(payload) => {
            if let Err(payload_of_the_drop) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                // The payload's destructor panicked: its own payload may do the same, so it is
                // leaked rather than dropped.
                core::mem::forget(payload_of_the_drop);
            }
            true
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A panic payload whose destructor panics.
    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the payload's destructor panics");
        }
    }

    #[test]
    fn a_payload_that_panics_when_dropped_does_not_escape() {
        assert!(catch(|| std::panic::panic_any(PanicsOnDrop)));
        assert!(catch(|| panic!("plain")));
        assert!(!catch(|| {}));
    }
}
