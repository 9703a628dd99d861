//! Running user code that may panic (callbacks, deferred drops, the stall handler) without
//! letting the panic, or the drop of its payload, escape into the engine.
//!
//! `catch_unwind` hands back the panic's payload, and dropping it runs user code too: a payload
//! whose `Drop` panics would unwind out of the place that caught the first panic, leaving the
//! engine half-way through a batch or a grace period. [`catch`] drops the payload under a second
//! `catch_unwind` and leaks whatever that one catches, so nothing escapes. [`FirstPanic`] runs a
//! series of drops that must all happen (the nodes of a collection) and then goes on with the
//! first panic, as dropping a `Vec` would without aborting at the second.

use core::any::Any;
use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;
#[cfg(not(loom))]
use std::panic::resume_unwind;

/// Runs `f`; returns whether it panicked. Neither the panic nor its payload's drop escapes.
///
/// The caller must leave its own state consistent at every point where `f` could unwind: the
/// engine's state is not touched by `f`, which only runs user code.
pub(crate) fn catch(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => false,
        Err(payload) => {
            drop_payload(payload);
            true
        }
    }
}

/// Drops a caught panic's payload; if its destructor panics, that panic's payload (which may do
/// the same) is leaked rather than dropped.
fn drop_payload(payload: Box<dyn Any + Send>) {
    if let Err(payload_of_the_drop) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        core::mem::forget(payload_of_the_drop);
    }
}

/// Runs drops that must all happen even when some of them panic (each node of a collection
/// being dropped): each is caught on its own, the first panic is kept and goes on when
/// [`resume`](FirstPanic::resume) is called, and the payloads of the later ones are dropped as
/// [`catch`] drops them.
///
/// Without it, a second panic while the first unwinds would abort the process, and the nodes
/// after the first panicking one would leak.
#[cfg(not(loom))]
#[must_use = "call `resume` once every drop has run"]
pub(crate) struct FirstPanic(Option<Box<dyn Any + Send>>);

#[cfg(not(loom))]
impl FirstPanic {
    /// No panic yet.
    pub(crate) const fn new() -> Self {
        Self(None)
    }

    /// Runs `f`, keeping its panic if it is the first.
    pub(crate) fn run(&mut self, f: impl FnOnce()) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            if self.0.is_none() {
                self.0 = Some(payload);
            } else {
                drop_payload(payload);
            }
        }
    }

    /// Goes on with the first panic, if there was one.
    pub(crate) fn resume(self) {
        if let Some(payload) = self.0 {
            resume_unwind(payload);
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
    fn every_drop_runs_and_the_first_panic_goes_on() {
        let mut ran = 0;
        let mut panics = FirstPanic::new();
        panics.run(|| ran += 1);
        panics.run(|| std::panic::panic_any("first"));
        panics.run(|| std::panic::panic_any(PanicsOnDrop));
        panics.run(|| ran += 1);
        assert_eq!(ran, 2);
        let payload = catch_unwind(AssertUnwindSafe(|| panics.resume())).expect_err("the first panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"first"));
        FirstPanic::new().resume();
    }

    #[test]
    fn a_payload_that_panics_when_dropped_does_not_escape() {
        assert!(catch(|| std::panic::panic_any(PanicsOnDrop)));
        assert!(catch(|| panic!("plain")));
        assert!(!catch(|| {}));
    }
}
