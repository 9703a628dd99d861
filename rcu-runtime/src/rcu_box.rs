//! A box whose memory outlives the box by a grace period.

use core::ffi::c_void;
use core::fmt;
use core::ops::Deref;
use core::ptr::NonNull;

use crate::RcuHead;
use crate::{ForeignOwnable, ForeignOwnableRcu, Guard, call_rcu};

/// The allocation behind an [`RcuBox`]: the value and the head that frees it.
#[repr(C)]
struct RcuBoxInner<T> {
    value: T,
    head: RcuHead,
}

/// A box whose value stays readable for one grace period after the box is dropped.
///
/// Dropping an `RcuBox` queues its allocation with `call_rcu`; the value is dropped and the memory
/// freed on the callback worker once every read-side critical section that was running has
/// ended. So a reader holding a [`Guard`] may keep a `&T` obtained through
/// [`with_rcu`](RcuBox::with_rcu) (or through a container's `load_rcu`) even if the owner drops
/// the box meanwhile. When `T` has no drop glue, only the memory is freed (the kernel's
/// `kfree_rcu`).
///
/// `T: Send` because the value is dropped on the worker thread, and `T: 'static` because it is
/// dropped after the owner's scope has ended. `RcuBox<T>` is `Send` and `Sync` when `T` is also
/// `Sync`: a borrow from `with_rcu` lives as long as its guard, not as long as the box, so the
/// thread that sent the box away may still be reading the value.
///
/// ```
/// use rcu_runtime::{read_lock, RcuBox};
///
/// let b = RcuBox::new(String::from("hello"));
/// let guard = read_lock();
/// let s: &str = b.with_rcu(&guard);
/// drop(b);                 // freed only after a grace period...
/// assert_eq!(s, "hello"); // ...so the reader may still use it
/// ```
///
/// # Invariants
///
/// `ptr` points to a live `RcuBoxInner<T>` allocated by `Box`, owned by this `RcuBox`, whose head
/// is not queued.
pub struct RcuBox<T: Send + 'static> {
    ptr: NonNull<RcuBoxInner<T>>,
}

// SAFETY: owning an `RcuBox<T>` means owning a `T` (`T: Send`); after the box moves to another
// thread, the previous owner may still hold a `&T` from `with_rcu` (tied to its guard, not to the
// box) while the new owner reads the same `T`, so `T: Sync` is needed too.
unsafe impl<T: Send + Sync + 'static> Send for RcuBox<T> {}
// SAFETY: `&RcuBox<T>` gives only `&T`, which `T: Sync` allows on several threads.
unsafe impl<T: Send + Sync + 'static> Sync for RcuBox<T> {}

impl<T: Send + 'static> RcuBox<T> {
    /// Allocates `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = rcu_runtime::RcuBox::new(vec![1, 2, 3]);
    /// assert_eq!(b.len(), 3);
    /// ```
    pub fn new(value: T) -> Self {
        let inner = Box::new(RcuBoxInner { value, head: RcuHead::new() });
        // INVARIANT: freshly allocated by `Box`, owned, head not queued.
        Self { ptr: NonNull::from(Box::leak(inner)) }
    }

    /// Borrows the value for as long as the read-side critical section lasts, which may be longer
    /// than the box lives.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuBox};
    ///
    /// let b = RcuBox::new(7);
    /// let guard = read_lock();
    /// let seven = b.with_rcu(&guard);
    /// drop(b);
    /// assert_eq!(*seven, 7); // the borrow belongs to the guard, not to the box
    /// ```
    pub fn with_rcu<'rcu>(&self, _guard: &'rcu Guard) -> &'rcu T {
        // SAFETY: the allocation is live now (invariant) and, once the box is dropped, stays live
        // until a grace period has elapsed, which waits for `_guard`'s critical section.
        unsafe { &(*self.ptr.as_ptr()).value }
    }

    /// Gives up the allocation as a pointer to its inner value.
    fn into_raw(self) -> NonNull<RcuBoxInner<T>> {
        core::mem::ManuallyDrop::new(self).ptr
    }
}

impl<T: Send + 'static> Deref for RcuBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the allocation is live while the box exists (invariant).
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

impl<T: Send + 'static> Drop for RcuBox<T> {
    fn drop(&mut self) {
        // SAFETY: the allocation is live (invariant); the projection creates no reference.
        let head = unsafe { NonNull::new_unchecked(&raw mut (*self.ptr.as_ptr()).head) };
        // SAFETY: we own the allocation and its head, which is not queued (invariant); ownership
        // passes to the callback, which frees it after a grace period, when no reader remains; the
        // value is `Send + 'static`, so dropping it later on the worker is fine.
        unsafe { call_rcu(head, free_inner::<T>) };
    }
}

/// Frees an `RcuBoxInner<T>` whose head was queued by `RcuBox::drop`.
///
/// When `T` has no drop glue, dropping the box is only a deallocation (kfree_rcu).
///
/// # Safety
///
/// `head` is the head of a leaked `Box<RcuBoxInner<T>>` that is passed here once.
unsafe fn free_inner<T>(head: NonNull<RcuHead>) {
    let offset = core::mem::offset_of!(RcuBoxInner<T>, head);
    // SAFETY: by the contract the head sits `offset` bytes into a leaked `RcuBoxInner<T>`, with
    // provenance over it; we own that box now.
    drop(unsafe { Box::from_raw(head.as_ptr().byte_sub(offset).cast::<RcuBoxInner<T>>()) });
}

impl<T: Send + 'static + fmt::Debug> fmt::Debug for RcuBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RcuBox").field(&**self).finish()
    }
}

// SAFETY: `into_foreign` gives the non-null allocation pointer, valid until `from_foreign` takes
// it back; `borrow` gives a shared reference, all an `&RcuBox` gives.
unsafe impl<T: Send + 'static> ForeignOwnable for RcuBox<T> {
    type Borrowed<'a> = &'a T;

    fn into_foreign(self) -> *mut c_void {
        self.into_raw().as_ptr().cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // INVARIANT: `ptr` came from `into_foreign`, which gave up a valid, owned allocation.
        // SAFETY: `into_foreign` never returns null.
        Self { ptr: unsafe { NonNull::new_unchecked(ptr.cast()) } }
    }

    unsafe fn borrow<'a>(ptr: *mut c_void) -> &'a T {
        // SAFETY: by the caller's contract the allocation is live for `'a`.
        unsafe { &(*ptr.cast::<RcuBoxInner<T>>()).value }
    }
}

impl<T: Send + 'static> crate::ForeignOwnableDeref for RcuBox<T> {
    type Target = T;

    fn borrowed_ref<'a>(borrowed: Self::Borrowed<'a>) -> &'a T {
        borrowed
    }
}

// SAFETY: after `from_foreign`, the allocation is freed only by `RcuBox::drop` through `call_rcu`,
// i.e. one grace period after the drop at the earliest; the borrow is `&T`, what `&RcuBox` gives.
unsafe impl<T: Send + 'static> ForeignOwnableRcu for RcuBox<T> {
    type RcuBorrowed<'a> = &'a T;

    unsafe fn rcu_borrow<'a>(ptr: *mut c_void) -> &'a T {
        // SAFETY: by the caller's contract `'a` ends within a grace period of the drop, and the
        // allocation lives at least that long.
        unsafe { &(*ptr.cast::<RcuBoxInner<T>>()).value }
    }
}
