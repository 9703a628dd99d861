//! The lock-free update of one published pointer by several updaters: the compare-and-exchange
//! loop behind `RcuCell::copy_update` and `RcuCell::fetch_update`.
//!
//! It lives in the engine, written against the `sync` shim and generic over the read-side
//! section, so that the loom models (`tests/loom_async.rs`) check the very loop the typed layer
//! runs, with a fresh domain's reader standing in for `read_lock`.

use core::ffi::c_void;

use super::sync::{AtomicPtr, Ordering};

/// Updates `slot` with what `f` makes of its current value, retrying while other updaters win.
///
/// Each round enters a read-side critical section (`enter()`; dropping what it returns ends
/// it), loads the current pointer under it, calls `f` with it and compare-exchanges the result
/// in. `f` returns `None` to leave the pointer as it is (the loop then returns `None`), or
/// `Some(new)`. A round that loses the exchange ends its section and passes the `new` it built
/// (unless null) to `discard`, then the next round starts. On success it returns
/// `Some(old)`: `old` is unpublished and owned by the caller.
///
/// What the section buys: the pointer `f` reads was loaded inside it, so an updater that
/// unpublishes it meanwhile frees it only after a grace period, which waits for the section:
/// `f` never reads freed memory, and the exchange never mistakes a new value at a reused address
/// for the one `f` read (ABA).
///
/// # Safety
///
/// Every non-null pointer ever stored in `slot` is freed only after a grace period that starts
/// after it was unpublished (of the domain whose sections `enter` opens), and the caller owns
/// what `f` returns until it is published.
pub unsafe fn update<G>(
    slot: &AtomicPtr<c_void>,
    mut enter: impl FnMut() -> G,
    mut f: impl FnMut(*mut c_void) -> Option<*mut c_void>,
    mut discard: impl FnMut(*mut c_void),
) -> Option<*mut c_void> {
    loop {
        let section = enter();
        // Acquire: pairs with the Release half of the exchange (or swap) that published the
        // pointer, whose pointee `f` is about to read.
        let current = slot.load(Ordering::Acquire);
        let new = f(current)?;
        // AcqRel on success: Release publishes `new`'s initialization to readers' Acquire loads;
        // Acquire pairs with the Release that published `current`, whose ownership we take.
        // Relaxed on failure: the next round loads again, under its own section.
        let outcome = slot.compare_exchange(current, new, Ordering::AcqRel, Ordering::Relaxed);
        drop(section);
        match outcome {
            Ok(old) => return Some(old),
            Err(_) if !new.is_null() => discard(new),
            Err(_) => {}
        }
    }
}
