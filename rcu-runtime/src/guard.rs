//! The read side as users see it: [`read_lock`], [`Guard`] and thread registration.

use core::cell::{Cell, RefCell};
use core::fmt;
use core::marker::PhantomData;
use core::ptr;

use crate::engine::{domain, start};
use crate::reader::ReaderNode;
use crate::sync::Arc;

thread_local! {
    /// This thread's reader, or null before registration and after deregistration. Const-
    /// initialized and without destructor, so the read side pays one TLS load for it.
    static READER: Cell<*const ReaderNode> = const { Cell::new(ptr::null()) };
    /// Keeps this thread's reader alive and unregisters it when the thread exits.
    static REGISTRATION: RefCell<Option<Registration>> = const { RefCell::new(None) };
}

/// Owns a thread's registration; dropped by the thread-local destructors at thread exit.
struct Registration(Arc<ReaderNode>);

impl Drop for Registration {
    fn drop(&mut self) {
        if self.0.is_reading() {
            // A guard of this thread is still alive: leaked with `mem::forget`, or kept in a
            // thread-local that is destroyed after this one. Its critical section has not ended,
            // and borrows taken under it (`&'static` ones, for a leaked guard) may have reached
            // other threads, so grace periods must keep waiting for it: the reader stays
            // registered, and `READER` stays valid (the registry keeps the node alive) so that a
            // guard dropped later still ends the section. A leaked guard thus stalls grace
            // periods for good, and the stall reports name this thread.
            return;
        }
        READER.set(ptr::null());
        domain().unregister(&self.0);
    }
}

/// Registers the current thread as a reader and returns its node.
#[cold]
#[inline(never)]
fn register_current_thread() -> *const ReaderNode {
    start();
    let thread = std::thread::current();
    let node = Arc::new(ReaderNode::new(thread.name().map(str::to_owned), current_tid()));
    let raw = Arc::as_ptr(&node);
    domain().register(Arc::clone(&node));
    let kept = REGISTRATION.try_with(|registration| {
        *registration.borrow_mut() = Some(Registration(Arc::clone(&node)));
    });
    if kept.is_err() {
        // The thread is already running its thread-local destructors: nothing can unregister it
        // at exit any more, so the registry keeps the node for good. It stays idle outside this
        // last critical section, so it never holds a grace period up.
        core::mem::forget(node);
    }
    READER.set(raw);
    raw
}

/// The OS thread id, for stall reports.
pub(crate) fn current_tid() -> i64 {
    // SAFETY: gettid has no preconditions and cannot fail.
    i64::from(unsafe { libc::gettid() })
}

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
        let node = READER.get();
        if node.is_null() {
            // The thread's registration was already torn down (a guard kept in a thread-local
            // that is destroyed after ours); deregistration marked the reader idle.
            return;
        }
        // SAFETY: a non-null `READER` points to the node kept alive by this thread's
        // `Registration` (or leaked for good), which outlives every use on this thread.
        unsafe { (*node).unlock(domain()) };
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
    let mut node = READER.get();
    if node.is_null() {
        node = register_current_thread();
    }
    // SAFETY: `node` is this thread's registered reader, alive for as long as the thread can run
    // RCU code (see `Guard::drop`).
    unsafe { (*node).lock(domain()) };
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
    let node = READER.get();
    // SAFETY: as in `Guard::drop`, a non-null `READER` is this thread's live reader.
    (!node.is_null() && unsafe { (*node).is_reading() }) || crate::qsbr::online_on_this_thread()
}

/// Panics with an explanation if the current thread is inside a read-side critical section.
///
/// `what` names the blocking operation; blocking there would wait for the caller's own guard.
#[track_caller]
pub(crate) fn assert_not_reading(what: &str) {
    assert!(
        !crate::qsbr::online_on_this_thread(),
        "{what} called on a thread whose QsbrReader is online: the thread is inside a read-side \
         critical section until its next quiescent state, and the grace period would wait for \
         it, so it would deadlock. Call it inside QsbrReader::while_offline (or use \
         QsbrReader::synchronize_rcu), or reclaim asynchronously (call_rcu, defer_rcu, \
         RcuOld::defer_drop)."
    );
    assert!(
        !is_reading(),
        "{what} called inside an RCU read-side critical section on the same thread: it waits for \
         a grace period, which waits for this thread's own Guard, so it would deadlock. Drop \
         every Guard first, or reclaim asynchronously (call_rcu, defer_rcu, RcuOld::defer_drop)."
    );
}

/// The node of the current thread, if registered (for the fork handler).
pub(crate) fn current_reader() -> *const ReaderNode {
    READER.get()
}
