//! The updaters' lock of [`RcuMutex`](crate::RcuMutex), [`RcuMap`](crate::RcuMap) and the
//! collections: a mutex that knows which thread holds it, so that taking it again on that thread
//! panics with an explanation instead of deadlocking.
//!
//! These structures run user code while they hold it: a closure (`with_locked`, `copy_update`,
//! a list predicate), a key's `Eq` or `Hash`, a value's `Drop`. If that code updates the same
//! structure, a plain mutex would deadlock silently (std leaves re-entrant locking unspecified).
//! A panic anywhere under the lock releases it (the guard's drop), and poisoning is ignored:
//! readers never take the lock, and each structure keeps what readers see consistent at every
//! point where user code runs.

use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, TryLockError};

use crate::engine::sync::{Mutex, MutexGuard};

thread_local! {
    /// Its address identifies the current thread among the running ones. Const-initialized and
    /// without destructor, so it is available until the thread ends.
    static MARKER: u8 = const { 0 };
}

/// A non-zero number that identifies the current thread among the running ones.
#[inline]
fn this_thread() -> usize {
    MARKER.with(|marker| core::ptr::from_ref(marker).addr())
}

/// A mutex around a `T` (often nothing) that knows its holder.
///
/// # Invariants
///
/// `owner` is the holder's [`this_thread`] number while the mutex is held through a
/// [`WriterGuard`], and 0 otherwise (a guard leaked with `mem::forget` leaves it set: the lock
/// stays held for good, and its former holder gets the panic instead of a deadlock, as may a
/// later thread that reuses an ended holder's thread-local memory, or a fork's child).
pub(crate) struct WriterLock<T = ()> {
    mutex: Mutex<T>,
    owner: AtomicUsize,
}

impl<T> WriterLock<T> {
    /// An unlocked lock around `value`.
    pub(crate) const fn new(value: T) -> Self {
        // INVARIANT: not held.
        Self { mutex: Mutex::new(value), owner: AtomicUsize::new(0) }
    }

    /// Locks, blocking while another thread holds the lock.
    ///
    /// # Panics
    ///
    /// If the current thread holds it already. `what` names the operation for the message;
    /// `advice` says what to do instead.
    #[inline]
    #[track_caller]
    pub(crate) fn lock(&self, what: &str, advice: &str) -> WriterGuard<'_, T> {
        // Relaxed: the only value that matters here is our own number, which only this thread
        // stores (and clears before unlocking), so program order makes it visible to us.
        if self.owner.load(Ordering::Relaxed) == this_thread() {
            reentered(what, advice);
        }
        let guard = self.mutex.lock().unwrap_or_else(PoisonError::into_inner);
        self.owned(guard)
    }

    /// Locks if nobody holds the lock; `None` if any thread does, the current one included
    /// (not waiting, it cannot deadlock).
    pub(crate) fn try_lock(&self) -> Option<WriterGuard<'_, T>> {
        let guard = match self.mutex.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(self.owned(guard))
    }

    #[inline]
    fn owned<'a>(&'a self, guard: MutexGuard<'a, T>) -> WriterGuard<'a, T> {
        // Relaxed: read only by this thread (see `lock`).
        // INVARIANT: held by us.
        self.owner.store(this_thread(), Ordering::Relaxed);
        WriterGuard { guard, owner: &self.owner }
    }

    /// The value, through exclusive access to the lock.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.mutex.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The panic of a re-entrant [`WriterLock::lock`], out of line.
#[cold]
#[inline(never)]
#[track_caller]
fn reentered(what: &str, advice: &str) -> ! {
    panic!(
        "{what} called while this thread holds the same structure's updaters' lock (from inside a \
         closure, a key's Eq or Hash, or a Drop that the structure runs under it, or with a guard \
         or cursor of it alive): it would deadlock. {advice} (A lock leaked by a thread that has \
         ended, or held by another thread when the process forked, may be taken for this \
         thread's.)"
    );
}

/// Holds a [`WriterLock`]; unlocks when dropped, also while unwinding.
pub(crate) struct WriterGuard<'a, T = ()> {
    guard: MutexGuard<'a, T>,
    owner: &'a AtomicUsize,
}

impl<T> Deref for WriterGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for WriterGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> Drop for WriterGuard<'_, T> {
    fn drop(&mut self) {
        // Relaxed: see `WriterLock::lock`; the mutex's own release orders the rest.
        // INVARIANT: cleared before the mutex guard (dropped after this) unlocks.
        self.owner.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locking_twice_on_one_thread_panics_and_other_threads_wait() {
        let lock = WriterLock::new(());
        let held = lock.lock("test", "");
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(lock.lock("test", ""))));
        assert!(again.is_err(), "the second lock on the holder's thread must panic");
        std::thread::scope(|s| {
            s.spawn(|| assert!(lock.try_lock().is_none(), "another thread sees it held"));
        });
        assert!(lock.try_lock().is_none(), "so does the holder, without panicking");
        drop(held);
        assert!(lock.try_lock().is_some());
    }
}
