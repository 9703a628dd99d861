//! The read side as users see it: [`read_lock`], [`Guard`] and [`is_reading`].
//!
//! A guard is a thin handle on the engine's read-side section (`engine::enter`/`exit`), which
//! also registers the thread on its first section.

use core::fmt;
use core::marker::PhantomData;

use crate::engine;

/// A marker field that makes the type holding it neither `Send` nor `Sync`: for values that stand
/// for something only the current thread has (its read-side critical section), as the kernel's
/// `NotThreadSafe` does.
pub(crate) type NotThreadSafe = PhantomData<*mut ()>;

/// The value of a [`NotThreadSafe`] field.
#[expect(non_upper_case_globals, reason = "named like the type, as the kernel's `NotThreadSafe`")]
pub(crate) const NotThreadSafe: NotThreadSafe = PhantomData;

/// Evidence that the current thread is inside an RCU read-side critical section.
///
/// While a `Guard` lives, no grace period that starts after the guard was created can complete,
/// so everything reachable through RCU-protected pointers when the guard was taken stays valid
/// until the guard is dropped. Guards nest: the section ends when the outermost one is dropped.
///
/// A guard costs a thread-local load and two plain stores to a counter of the thread's own; it is
/// not `Send` or `Sync`, because the section belongs to the thread that entered it.
///
/// A [`QsbrReader`](crate::QsbrReader) lends out a guard by reference instead
/// ([`QsbrReader::guard`](crate::QsbrReader::guard)): it stands for the reader's section until
/// the reader's next quiescent state, which the borrow ends.
///
/// ```
/// use rcu_runtime::{read_lock, is_reading, Guard};
///
/// assert!(!is_reading());
/// let outer = read_lock();
/// {
///     let _inner = Guard::new(); // nests
///     assert!(is_reading());
/// }
/// assert!(is_reading());
/// drop(outer);
/// assert!(!is_reading());
/// ```
#[must_use = "the read-side critical section ends as soon as the guard is dropped"]
pub struct Guard {
    /// `!Send` and `!Sync`: the critical section belongs to the thread that entered it.
    _not_send_sync: NotThreadSafe,
}

impl Guard {
    /// The guard of a [`QsbrReader`](crate::QsbrReader)'s section, which the reader's node
    /// tracks instead of this thread's ordinary counter.
    ///
    /// # Safety
    ///
    /// The current thread stays inside a read-side critical section (its QSBR reader online) for
    /// as long as the returned guard can be borrowed, and the guard is never dropped: its `Drop`
    /// would end a section of the thread's ordinary reader.
    pub(crate) unsafe fn for_qsbr() -> core::mem::ManuallyDrop<Self> {
        core::mem::ManuallyDrop::new(Guard { _not_send_sync: NotThreadSafe })
    }

    /// Enters a read-side critical section; the same as [`read_lock`].
    ///
    /// # Examples
    ///
    /// ```
    /// let guard = rcu_runtime::Guard::new();
    /// assert!(rcu_runtime::is_reading());
    /// drop(guard);
    /// ```
    #[inline]
    pub fn new() -> Self {
        read_lock()
    }
}

impl Default for Guard {
    #[inline]
    fn default() -> Self {
        read_lock()
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Guard")
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        engine::exit();
    }
}

/// Enters a read-side critical section and returns the [`Guard`] that ends it.
///
/// The first call on a thread registers the thread (the thread unregisters itself when it
/// exits); every later call is a thread-local load and two stores.
///
/// ```
/// use rcu_runtime::{read_lock, Rcu};
///
/// let shared = Rcu::new(Box::new(42));
/// let guard = read_lock();
/// assert_eq!(shared.dereference(&guard).copied(), Some(42));
/// ```
#[inline]
pub fn read_lock() -> Guard {
    engine::enter();
    Guard { _not_send_sync: NotThreadSafe }
}

/// Whether the current thread is inside a read-side critical section: it holds a [`Guard`], or
/// its [`QsbrReader`](crate::QsbrReader) is online.
///
/// ```
/// let g = rcu_runtime::read_lock();
/// assert!(rcu_runtime::is_reading());
/// drop(g);
/// assert!(!rcu_runtime::is_reading());
/// ```
#[inline]
pub fn is_reading() -> bool {
    engine::is_reading()
}
