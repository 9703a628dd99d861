//! The updaters' lock of [`RcuMutex`](crate::RcuMutex), [`RcuMap`](crate::RcuMap) and the
//! collections: a mutex that knows which thread holds it, so that taking it again on that thread
//! (from a closure the lock holder runs, say) panics with an explanation instead of deadlocking.
//!
//! It does not poison: readers never take it, and each structure that uses it keeps what readers
//! see consistent at every point where an updater could panic.

use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

thread_local! {
    /// Its address identifies the current thread while it lives.
    static THREAD_ID: u8 = const { 0 };
}

/// A number that no other live thread has, and that is never 0.
fn current_thread_id() -> usize {
    THREAD_ID.with(|id| core::ptr::from_ref(id).addr())
}

/// A mutex around nothing, for updaters, that panics when its holder locks it again.
///
/// # Invariants
///
/// `owner` is the id of the thread that holds `mutex`, or 0 while nobody holds it (or while the
/// holder is between acquiring it and recording itself, or between forgetting itself and
/// releasing it).
pub(crate) struct WriterLock {
    mutex: Mutex<()>,
    owner: AtomicUsize,
}

impl WriterLock {
    /// An unlocked lock.
    pub(crate) const fn new() -> Self {
        // INVARIANT: nobody holds it.
        Self { mutex: Mutex::new(()), owner: AtomicUsize::new(0) }
    }

    /// Locks, blocking while another thread holds the lock.
    ///
    /// # Panics
    ///
    /// If the current thread holds it already; `what` names the structure and the way out for
    /// the message.
    #[track_caller]
    pub(crate) fn lock(&self, what: &str) -> WriterGuard<'_> {
        self.check_not_held(what);
        let guard = self.mutex.lock().unwrap_or_else(PoisonError::into_inner);
        self.owned(guard)
    }

    /// Locks if nobody holds the lock; `None` if any thread does, the current one included
    /// (not waiting, it cannot deadlock).
    pub(crate) fn try_lock(&self) -> Option<WriterGuard<'_>> {
        let guard = match self.mutex.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(self.owned(guard))
    }

    #[track_caller]
    fn check_not_held(&self, what: &str) {
        // Relaxed: only this thread ever stores its own id, and it always sees its own stores;
        // another thread's id or 0 both mean "not held by us".
        assert!(
            self.owner.load(Ordering::Relaxed) != current_thread_id(),
            "{what}: this thread already holds the updaters' lock (it is called from inside a \
             closure or while a guard of the same structure is alive); locking again would \
             deadlock. Finish the first update, then start the second."
        );
    }

    fn owned<'a>(&'a self, guard: MutexGuard<'a, ()>) -> WriterGuard<'a> {
        // Relaxed: see `check_not_held`.
        // INVARIANT: this thread holds `mutex` now.
        self.owner.store(current_thread_id(), Ordering::Relaxed);
        WriterGuard { lock: self, _guard: guard }
    }
}

/// Holds a [`WriterLock`]; unlocks when dropped.
pub(crate) struct WriterGuard<'a> {
    lock: &'a WriterLock,
    _guard: MutexGuard<'a, ()>,
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        // Relaxed: see `check_not_held`. The mutex is released after this, by `_guard`'s drop.
        // INVARIANT: about to release it.
        self.lock.owner.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locking_twice_on_one_thread_panics_and_other_threads_wait() {
        let lock = WriterLock::new();
        let held = lock.lock("test");
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(lock.lock("test"))));
        assert!(again.is_err(), "the second lock on the holder's thread must panic");
        std::thread::scope(|s| {
            s.spawn(|| assert!(lock.try_lock().is_none(), "another thread sees it held"));
        });
        assert!(lock.try_lock().is_none(), "so does the holder, without panicking");
        drop(held);
        assert!(lock.try_lock().is_some());
    }
}
