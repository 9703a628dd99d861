//! liburcu, QSBR flavour, through the C shim in `csrc/urcu_qsbr_shim.c` (feature `liburcu`): read
//! side only, a quiescent state every 1024 reads, as [`OursQsbr`](super::ours_qsbr::OursQsbr).

use core::sync::atomic::{AtomicBool, Ordering};

use super::ReadPeer;

// SAFETY: these are the shim's functions, with the C signatures written in
// `csrc/urcu_qsbr_shim.c` (`uint64_t` is `u64`, `void` returns are `()`); none takes a pointer.
unsafe extern "C" {
    fn qsbr_shim_register_thread();
    fn qsbr_shim_unregister_thread();
    fn qsbr_shim_publish();
    fn qsbr_shim_unpublish();
    fn qsbr_shim_read_n(iterations: u64) -> u64;
}

/// Whether a [`LiburcuQsbr`] exists: the shim publishes one payload.
static EXISTS: AtomicBool = AtomicBool::new(false);

/// The payload published by the QSBR shim.
///
/// # Invariants
///
/// While this value exists, the shim's payload is published and no other `LiburcuQsbr` exists.
pub(crate) struct LiburcuQsbr(());

impl LiburcuQsbr {
    /// Publishes the shim's payload.
    ///
    /// # Panics
    ///
    /// If another `LiburcuQsbr` exists.
    pub(crate) fn new() -> Self {
        let first = !EXISTS.swap(true, Ordering::AcqRel);
        assert!(first, "the liburcu QSBR shim publishes one payload: drop the other LiburcuQsbr first");
        // SAFETY: no other `LiburcuQsbr` exists, so nothing else writes the shim's pointer;
        // publishing needs no registration.
        unsafe { qsbr_shim_publish() };
        // INVARIANT: published, and `EXISTS` keeps others out.
        Self(())
    }
}

impl Drop for LiburcuQsbr {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no scenario reads through this value any more. The caller is not an
        // online QSBR reader (readers leave the shim after each `read_n` having passed a quiescent
        // state, and `leave_thread` unregisters them); liburcu's QSBR synchronize_rcu also puts a
        // registered caller offline for the wait.
        unsafe { qsbr_shim_unpublish() };
        EXISTS.store(false, Ordering::Release);
    }
}

impl ReadPeer for LiburcuQsbr {
    fn name(&self) -> &'static str {
        "liburcu qsbr"
    }

    fn enter_thread(&self) {
        // SAFETY: registers the calling thread (the shim aborts on a second registration);
        // `on_thread` unregisters it before the thread can exit, even on a panic.
        unsafe { qsbr_shim_register_thread() };
    }

    fn leave_thread(&self) {
        // SAFETY: the thread holds no pointer read through the shim (reads never leave it); the
        // shim aborts if it was not registered.
        unsafe { qsbr_shim_unregister_thread() };
    }

    fn read_n(&self, iterations: u64) -> u64 {
        // SAFETY: the payload is published (invariant) while `&self` lives; the shim checks that
        // the reader is registered, and ends every call with a quiescent state.
        unsafe { qsbr_shim_read_n(iterations) }
    }
}
