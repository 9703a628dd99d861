//! `Mutex` and `Condvar` for the harness, told to ThreadSanitizer.
//!
//! `scripts/tsan.sh` builds without an instrumented standard library (no `rust-src`, so no
//! `-Zbuild-std`). std's `Mutex` takes and releases its lock with atomics that TSan sees only on
//! the uncontended path (inlined into our code); the contended path, and the re-locking inside
//! `Condvar::wait`, run in std's own compiled code, so TSan misses the happens-before edge they
//! create and reports every access to the protected data from two threads as a race. Built with
//! `--cfg rcu_tsan` (the script sets it), these wrappers tell TSan about the edge themselves:
//! `__tsan_release` on the lock's address before every unlock, `__tsan_acquire` after every lock.
//! Otherwise they are std's types and nothing more.
//!
//! The lock is never poisoned from the caller's point of view: a panic while it is held leaves
//! the data as it was, and the harness's data stays meaningful then (counters, a flag).

use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use std::sync::PoisonError;

/// Tells ThreadSanitizer about a lock's happens-before edges; nothing without `--cfg rcu_tsan`.
mod tsan {
    #[cfg(rcu_tsan)]
    unsafe extern "C" {
        /// Joins the vector clock stored at `addr` into the calling thread's.
        fn __tsan_acquire(addr: *mut core::ffi::c_void);
        /// Stores the calling thread's vector clock at `addr`.
        fn __tsan_release(addr: *mut core::ffi::c_void);
    }

    /// After taking the lock at `addr`.
    #[inline]
    pub(super) fn acquire<T: ?Sized>(addr: &T) {
        #[cfg(rcu_tsan)]
        // SAFETY: the TSan runtime (linked in every `-Zsanitizer=thread` build, which is the only
        // one that sets `rcu_tsan`) only uses the address as the key of a sync object; it
        // neither reads nor writes the memory there.
        unsafe {
            __tsan_acquire(core::ptr::from_ref(addr).cast::<core::ffi::c_void>().cast_mut());
        }
        #[cfg(not(rcu_tsan))]
        let _ = addr;
    }

    /// Before releasing the lock at `addr`.
    #[inline]
    pub(super) fn release<T: ?Sized>(addr: &T) {
        #[cfg(rcu_tsan)]
        // SAFETY: as in `acquire`.
        unsafe {
            __tsan_release(core::ptr::from_ref(addr).cast::<core::ffi::c_void>().cast_mut());
        }
        #[cfg(not(rcu_tsan))]
        let _ = addr;
    }
}

/// std's `Mutex`, whose lock and unlock TSan sees (see the [module docs](self)).
#[derive(Debug, Default)]
pub struct Mutex<T: ?Sized>(std::sync::Mutex<T>);

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Self(std::sync::Mutex::new(value))
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks, waiting for the lock; a poisoned lock is taken as it is.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let inner = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tsan::acquire(self);
        MutexGuard { lock: self, inner: ManuallyDrop::new(inner) }
    }
}

/// The lock of a [`Mutex`], released when dropped.
#[must_use = "the lock is released at once if the guard is not kept"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    /// Dropped by our `Drop`, after the release annotation.
    inner: ManuallyDrop<std::sync::MutexGuard<'a, T>>,
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        tsan::release(self.lock);
        // SAFETY: `inner` is dropped here only, once, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

/// std's `Condvar`, for a [`Mutex`].
#[derive(Debug, Default)]
pub struct Condvar(std::sync::Condvar);

impl Condvar {
    /// A condition variable nobody waits on.
    pub const fn new() -> Self {
        Self(std::sync::Condvar::new())
    }

    /// Releases the lock of `guard`, waits for a notification (or a spurious wake-up), and takes
    /// the lock again.
    pub fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mut guard = ManuallyDrop::new(guard);
        let lock = guard.lock;
        tsan::release(lock);
        // SAFETY: `guard` is never used or dropped again (it is in `ManuallyDrop`); its std guard
        // moves into `wait`, and a new guard takes its place below.
        let inner = unsafe { ManuallyDrop::take(&mut guard.inner) };
        let inner = self.0.wait(inner).unwrap_or_else(PoisonError::into_inner);
        tsan::acquire(lock);
        MutexGuard { lock, inner: ManuallyDrop::new(inner) }
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.0.notify_all();
    }
}
