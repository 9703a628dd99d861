//! The one place where the engine gets its synchronization primitives.
//!
//! Under `--cfg loom` every atomic, lock and `Arc` comes from loom, so the same engine code is
//! model-checked; otherwise they are std's. Nothing else in the crate names `std::sync` for state
//! that takes part in the grace-period protocol.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, fence};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, fence};
#[cfg(all(not(loom), not(rcu_tsan)))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(all(not(loom), rcu_tsan))]
pub(crate) use tsan::{Condvar, Mutex, MutexGuard};

/// The ordering of a reader's counter store that ends a section (or passes a quiescent
/// state), and of the grace period's loads of that counter. Relaxed: the fences around them do
/// the ordering (light fence on the reader, heavy fence in the grace period). ThreadSanitizer
/// does not model fences, so its builds (`--cfg rcu_tsan`) use Release and Acquire instead,
/// which give it the same edge; on x86-64 both are plain moves.
#[cfg(not(rcu_tsan))]
pub(crate) const READER_END: Ordering = Ordering::Relaxed;
#[cfg(rcu_tsan)]
pub(crate) const READER_END: Ordering = Ordering::Release;
/// See [`READER_END`].
#[cfg(not(rcu_tsan))]
pub(crate) const GP_LOOK: Ordering = Ordering::Relaxed;
#[cfg(rcu_tsan)]
pub(crate) const GP_LOOK: Ordering = Ordering::Acquire;

/// std's `Mutex` and `Condvar` with their happens-before edges told to ThreadSanitizer, which
/// cannot see them in an uninstrumented std (the contended lock path and `Condvar::wait` run in
/// std's compiled code). Same API as std's; only in `--cfg rcu_tsan` builds.
#[cfg(all(not(loom), rcu_tsan))]
mod tsan {
    use core::mem::ManuallyDrop;
    use core::ops::{Deref, DerefMut};
    use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

    unsafe extern "C" {
        fn __tsan_acquire(addr: *mut core::ffi::c_void);
        fn __tsan_release(addr: *mut core::ffi::c_void);
    }

    fn acquire<T: ?Sized>(addr: &T) {
        // SAFETY: TSan uses the address as a key only.
        unsafe { __tsan_acquire(core::ptr::from_ref(addr).cast::<core::ffi::c_void>().cast_mut()) }
    }

    fn release<T: ?Sized>(addr: &T) {
        // SAFETY: TSan uses the address as a key only.
        unsafe { __tsan_release(core::ptr::from_ref(addr).cast::<core::ffi::c_void>().cast_mut()) }
    }

    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T: ?Sized>(std::sync::Mutex<T>);

    pub(crate) struct MutexGuard<'a, T: ?Sized> {
        lock: &'a Mutex<T>,
        inner: ManuallyDrop<std::sync::MutexGuard<'a, T>>,
    }

    fn wrap<'a, T: ?Sized>(lock: &'a Mutex<T>, inner: std::sync::MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        acquire(lock);
        MutexGuard { lock, inner: ManuallyDrop::new(inner) }
    }

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::sync::Mutex::new(value))
        }

        #[allow(dead_code)]
        pub(crate) fn into_inner(self) -> LockResult<T> {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> Mutex<T> {
        pub(crate) fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
            match self.0.lock() {
                Ok(inner) => Ok(wrap(self, inner)),
                Err(poisoned) => Err(PoisonError::new(wrap(self, poisoned.into_inner()))),
            }
        }

        pub(crate) fn get_mut(&mut self) -> LockResult<&mut T> {
            self.0.get_mut()
        }

        pub(crate) fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
            match self.0.try_lock() {
                Ok(inner) => Ok(wrap(self, inner)),
                Err(TryLockError::Poisoned(poisoned)) => {
                    Err(TryLockError::Poisoned(PoisonError::new(wrap(self, poisoned.into_inner()))))
                }
                Err(TryLockError::WouldBlock) => Err(TryLockError::WouldBlock),
            }
        }
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
            release(self.lock);
            // SAFETY: dropped here only, once.
            unsafe { ManuallyDrop::drop(&mut self.inner) };
        }
    }

    #[derive(Debug, Default)]
    pub(crate) struct Condvar(std::sync::Condvar);

    impl Condvar {
        pub(crate) const fn new() -> Self {
            Self(std::sync::Condvar::new())
        }

        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
            let mut guard = ManuallyDrop::new(guard);
            let lock = guard.lock;
            release(lock);
            // SAFETY: `guard` is never used again; its std guard moves into `wait`.
            let inner = unsafe { ManuallyDrop::take(&mut guard.inner) };
            match self.0.wait(inner) {
                Ok(inner) => Ok(wrap(lock, inner)),
                Err(poisoned) => Err(PoisonError::new(wrap(lock, poisoned.into_inner()))),
            }
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }

        #[allow(dead_code)]
        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
    }
}

pub(crate) use core::sync::atomic::Ordering;

/// Locks `mutex`, ignoring poisoning: the engine's critical sections leave their state
/// consistent at every point where a panic could start, so a poisoned lock holds valid data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits on `condvar`, ignoring poisoning (see [`lock`]).
pub(crate) fn wait<'a, T>(condvar: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    condvar.wait(guard).unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Tells the scheduler (or loom's) that this thread is waiting for another one.
#[inline]
pub(crate) fn spin_wait() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// Defines a constructor that is a `const fn`, except under loom, whose primitives cannot be
/// created in a constant (crossbeam-epoch does the same). The process-wide engine is a `static`,
/// so its constructors must be `const`; the loom models create a fresh one per execution.
macro_rules! const_fn_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $name:ident() -> $ret:ty $body:block) => {
        $(#[$attr])*
        #[cfg(not(loom))]
        $vis const fn $name() -> $ret $body

        $(#[$attr])*
        #[cfg(loom)]
        $vis fn $name() -> $ret $body
    };
}
pub(crate) use const_fn_unless_loom;
