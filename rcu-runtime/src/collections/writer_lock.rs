//! The updaters' lock of a collection, which turns re-entrant locking into a panic.
//!
//! The collections run user code while they hold their writer lock: a predicate, a key's `Eq` or
//! `Hash`, a value's `Drop`. If that code updates the same collection, a plain mutex would
//! deadlock silently (or worse: std's `Mutex` leaves re-entrant locking unspecified). This lock
//! remembers which thread holds it and panics with an explanation instead. A panic anywhere under
//! the lock releases it (the guard's drop), and poisoning is ignored: the collections keep their
//! structures consistent at every point where user code runs.

use core::ops::{Deref, DerefMut};

use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering};

thread_local! {
    /// Its address identifies the current thread among the running ones. Const-initialized and
    /// without destructor, so it is available until the thread ends.
    static MARKER: u8 = const { 0 };
}

/// A non-zero number that identifies the current thread among the running ones.
fn this_thread() -> usize {
    MARKER.with(|marker| core::ptr::from_ref(marker).addr())
}

/// A mutex that knows its holder.
///
/// # Invariants
///
/// `owner` is the holder's [`this_thread`] number while the mutex is held through a
/// [`WriterGuard`], and 0 otherwise (a guard leaked with `mem::forget` leaves it set: the lock
/// stays held for good, and its former holder gets the panic instead of a deadlock).
pub(crate) struct WriterLock<T> {
    mutex: Mutex<T>,
    owner: AtomicUsize,
}

impl<T> WriterLock<T> {
    /// A lock around `value`.
    pub(crate) fn new(value: T) -> Self {
        // INVARIANT: not held.
        Self { mutex: Mutex::new(value), owner: AtomicUsize::new(0) }
    }

    /// Locks, or panics if the current thread already holds the lock.
    ///
    /// `what` names the operation and the collection for the message; `advice` says what to do
    /// instead.
    #[track_caller]
    pub(crate) fn lock(&self, what: &str, advice: &str) -> WriterGuard<'_, T> {
        let me = this_thread();
        // Relaxed: the only value that matters here is our own number, which only this thread
        // stores (and clears before unlocking), so program order makes it visible to us.
        if self.owner.load(Ordering::Relaxed) == me {
            panic!(
                "{what} called while this thread holds the same collection's writer lock (from \
                 inside a closure, a key's Eq or Hash, or a Drop that the collection runs under \
                 it, or with a Cursor alive): it would deadlock. {advice}"
            );
        }
        let guard = crate::sync::lock(&self.mutex);
        // Relaxed: read only by this thread (see above).
        // INVARIANT: held by us.
        self.owner.store(me, Ordering::Relaxed);
        WriterGuard { guard, owner: &self.owner }
    }

    /// The value, through exclusive access to the lock.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.mutex.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Holds a [`WriterLock`]; unlocks when dropped, also while unwinding.
pub(crate) struct WriterGuard<'a, T> {
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
