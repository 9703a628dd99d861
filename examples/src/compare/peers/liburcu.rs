//! liburcu, memb flavour, through the C shim in `csrc/urcu_shim.c` (feature `liburcu`).
//!
//! The shim owns one published payload (a C global), so one [`Liburcu`] exists at a time. The
//! shim aborts when a thread that is not registered reads, updates or waits for callbacks (liburcu
//! itself only checks that in debug builds), so these safe wrappers cannot be misused into a read
//! that no grace period waits for.

use core::sync::atomic::{AtomicBool, Ordering};

use super::{GracePeriodPeer, ReadPeer, UpdatePeer};

// SAFETY: these are the shim's functions, with the C signatures written in `csrc/urcu_shim.c`
// (`uint64_t` is `u64`, `void` returns are `()`); none takes a pointer.
unsafe extern "C" {
    fn shim_register_thread();
    fn shim_unregister_thread();
    fn shim_publish(value: u64);
    fn shim_unpublish();
    fn shim_read_n(iterations: u64) -> u64;
    fn shim_update(value: u64);
    fn shim_update_n(first_value: u64, n: u64);
    fn shim_synchronize();
    fn shim_barrier();
    fn shim_live() -> u64;
    fn shim_uses_membarrier() -> core::ffi::c_int;
}

/// Whether a [`Liburcu`] exists: the shim has room for one published payload.
static EXISTS: AtomicBool = AtomicBool::new(false);

/// The payload published by the shim, read and updated with liburcu memb.
///
/// # Invariants
///
/// While this value exists, the shim's payload is published and no other `Liburcu` exists.
pub(crate) struct Liburcu(());

impl Liburcu {
    /// Publishes the shim's payload.
    ///
    /// # Panics
    ///
    /// If another `Liburcu` exists.
    pub(crate) fn new() -> Self {
        let first = !EXISTS.swap(true, Ordering::AcqRel);
        assert!(first, "the liburcu shim publishes one payload: drop the other Liburcu first");
        // SAFETY: no other `Liburcu` exists, so nothing else updates the shim's pointer;
        // publishing needs no registration.
        unsafe { shim_publish(1) };
        // INVARIANT: published, and `EXISTS` keeps others out.
        Self(())
    }

    /// `n` updates in a row, in C: the asynchronous-free throughput loop.
    ///
    /// The calling thread must be registered ([`ReadPeer::enter_thread`]); the shim aborts if not.
    pub(crate) fn update_n(&self, first_value: u64, n: u64) {
        // SAFETY: the shim's payload is published (invariant); the shim checks that the caller is
        // registered, as call_rcu requires; updates exchange the pointer atomically, so
        // concurrent updaters each retire a different payload.
        unsafe { shim_update_n(first_value, n) };
    }

    /// Payloads allocated by the shim and not yet freed (the published one included).
    pub(crate) fn live(&self) -> u64 {
        // SAFETY: reads two counters with atomic builtins; callable from any thread.
        unsafe { shim_live() }
    }
}

/// Which barriers liburcu's read side uses, for the report (liburcu decides when it starts).
pub(crate) fn barrier_mode() -> &'static str {
    // SAFETY: reads an int that liburcu sets once at start-up (its constructor, before main).
    if unsafe { shim_uses_membarrier() } != 0 { "Membarrier" } else { "Fences" }
}

impl Drop for Liburcu {
    fn drop(&mut self) {
        // SAFETY: unpublishes and frees the payload after a grace period, registering the
        // calling thread for the call if needed; `&mut self` means no scenario uses it any more.
        unsafe { shim_unpublish() };
        EXISTS.store(false, Ordering::Release);
    }
}

impl ReadPeer for Liburcu {
    fn name(&self) -> &'static str {
        "liburcu memb"
    }

    fn enter_thread(&self) {
        // SAFETY: registers the calling thread (the shim aborts on a second registration);
        // `on_thread` unregisters it before the thread can exit, even on a panic.
        unsafe { shim_register_thread() };
    }

    fn leave_thread(&self) {
        // SAFETY: read-side sections never outlive a shim call, so the thread is outside any;
        // the shim aborts if it was not registered.
        unsafe { shim_unregister_thread() };
    }

    fn read_n(&self, iterations: u64) -> u64 {
        // SAFETY: the payload is published (invariant) and stays so while `&self` lives; the shim
        // checks that the reader is registered, so grace periods wait for its sections.
        unsafe { shim_read_n(iterations) }
    }
}

impl UpdatePeer for Liburcu {
    fn update(&self, value: u64) {
        // SAFETY: as for `update_n`: published, registered caller (checked), atomic exchange.
        unsafe { shim_update(value) };
    }

    fn drain(&self) {
        // SAFETY: the caller is outside any read-side section (they never outlive a shim call) and
        // is not a call_rcu thread; the shim checks that it is registered.
        unsafe { shim_barrier() };
    }
}

impl GracePeriodPeer for Liburcu {
    fn synchronize(&self) {
        // SAFETY: synchronize_rcu must not be called inside a read-side section, and read-side
        // sections never outlive a shim call.
        unsafe { shim_synchronize() };
    }
}
