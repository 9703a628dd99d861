//! The callback head embedded in objects freed through `call_rcu`: the node of the engine's
//! callback queue, which the engine owns while it is queued.

use core::cell::UnsafeCell;
use core::fmt;
use core::ptr::{self, NonNull};

/// The function a queued [`RcuHead`] runs once its grace period has elapsed.
///
/// It receives the head it was queued with and owns the object around it from then on.
///
/// # Examples
///
/// ```
/// use core::ptr::NonNull;
/// use rcu_runtime::{RcuCallback, RcuHead};
///
/// /// # Safety
/// /// `head` is the first field of a leaked `Box<RcuHead>`.
/// unsafe fn free(head: NonNull<RcuHead>) {
///     // SAFETY: by this function's contract.
///     drop(unsafe { Box::from_raw(head.as_ptr()) });
/// }
/// let callback: RcuCallback = free;
/// let head = NonNull::from(Box::leak(Box::new(RcuHead::new())));
/// // SAFETY: the head is ours and `free` reclaims exactly it.
/// unsafe { rcu_runtime::call_rcu(head, callback) };
/// rcu_runtime::rcu_barrier();
/// ```
pub type RcuCallback = unsafe fn(NonNull<RcuHead>);

/// Two words that let an object be queued for [`call_rcu`](crate::call_rcu) without allocating.
///
/// Embed it in a struct, implement [`HasRcuHead`](crate::HasRcuHead) (or let `#[derive(RcuProtected)]` do it with a
/// `#[rcu_head]` field), and the struct can be freed after a grace period through
/// [`RcuOld::drop_async`](crate::RcuOld::drop_async) or `call_rcu` directly.
///
/// ```
/// use rcu_runtime::RcuHead;
/// assert_eq!(core::mem::size_of::<RcuHead>(), 2 * core::mem::size_of::<usize>());
/// ```
///
/// `RcuHead` is always `Send` and `Sync`: it holds no data of its own and `&RcuHead` offers no
/// operation, so the struct that embeds it keeps exactly the auto traits of its other fields.
///
/// # Invariants
///
/// While the head is not queued, both words are unused and hold whatever the last use left.
/// While it is queued (from `call_rcu` until its callback starts), the callback queue owns both
/// words: `next` links it to the next queued head and `func` holds the callback.
#[repr(C)]
pub struct RcuHead {
    next: UnsafeCell<*mut RcuHead>,
    func: UnsafeCell<Option<RcuCallback>>,
}

// SAFETY: an `RcuHead` carries no data of its own that a thread could observe: its two words are
// written only by `call_rcu` (whose caller hands over exclusive ownership of the head) and read
// only by the callback queue that owns the head from then on. Moving or sharing a head that is not
// queued gives access to nothing.
unsafe impl Send for RcuHead {}
// SAFETY: as for `Send`: `&RcuHead` offers no operation at all.
unsafe impl Sync for RcuHead {}

impl RcuHead {
    /// Creates a head that is not queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let head = rcu_runtime::RcuHead::new();
    /// assert_eq!(format!("{head:?}"), "RcuHead { .. }");
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self { next: UnsafeCell::new(ptr::null_mut()), func: UnsafeCell::new(None) }
    }

    /// Records the callback and the link to the next head while the head is being queued.
    ///
    /// # Safety
    ///
    /// The caller owns `head` exclusively (it is not queued and nothing else accesses it).
    pub(crate) unsafe fn prepare(head: NonNull<RcuHead>, func: RcuCallback, next: *mut RcuHead) {
        // SAFETY: the caller owns the head exclusively, so writing both words races with nothing.
        unsafe {
            *(*head.as_ptr()).func.get() = Some(func);
            *(*head.as_ptr()).next.get() = next;
        }
    }

    /// Updates the link of a head that the caller is queueing.
    ///
    /// # Safety
    ///
    /// As for [`RcuHead::prepare`].
    pub(crate) unsafe fn set_next(head: NonNull<RcuHead>, next: *mut RcuHead) {
        // SAFETY: the caller owns the head exclusively.
        unsafe { *(*head.as_ptr()).next.get() = next };
    }

    /// Reads the link of a queued head.
    ///
    /// # Safety
    ///
    /// The caller owns the queue that holds `head`, and the write of the link happens before
    /// this read.
    pub(crate) unsafe fn next(head: NonNull<RcuHead>) -> *mut RcuHead {
        // SAFETY: by the caller's contract the queue owns the head and the write is visible.
        unsafe { *(*head.as_ptr()).next.get() }
    }

    /// Reads the callback of a queued head.
    ///
    /// # Safety
    ///
    /// As for [`RcuHead::next`]; the head must have been queued with [`RcuHead::prepare`].
    pub(crate) unsafe fn func(head: NonNull<RcuHead>) -> RcuCallback {
        // SAFETY: by the caller's contract the queue owns the head and `prepare` stored `Some`.
        let func = unsafe { *(*head.as_ptr()).func.get() };
        func.expect("a queued RcuHead always has a callback")
    }
}

/// A clone is a new head that is not queued, whatever the original's state: the two words belong
/// to the callback queue while the original is queued, so they are neither read nor copied. This
/// lets a struct with an embedded head derive `Clone` for copy-update, where the copy is a new
/// object that will be queued (or not) on its own.
///
/// ```
/// use rcu_runtime::RcuHead;
///
/// #[derive(Clone)]
/// struct Node {
///     value: u64,
///     head: RcuHead,
/// }
///
/// let node = Node { value: 7, head: RcuHead::new() };
/// let copy = node.clone();
/// assert_eq!(copy.value, 7);
/// ```
impl Clone for RcuHead {
    #[inline]
    fn clone(&self) -> Self {
        // No access to `self`'s words: a queued head is the queue's (see the type's invariants).
        Self::new()
    }
}

impl Default for RcuHead {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RcuHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuHead").finish_non_exhaustive()
    }
}
