//! A value that was unpublished and whose grace period has not been waited for yet.

use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::engine;
use crate::head::HasRcuHead;
use crate::{ForeignOwnable, RcuHead, call_rcu, defer_rcu};

/// An unpublished value that readers may still be using: it is dropped only after a grace period.
///
/// Returned by [`Rcu::replace`](crate::Rcu::replace), [`copy_update`](crate::Rcu::copy_update)
/// and [`take`](crate::Rcu::take). Choose how to reclaim it:
///
/// | | waits? | allocates? | needs |
/// |---|---|---|---|
/// | drop it | yes: `synchronize_rcu()` | no | |
/// | [`wait`](RcuOld::wait) | yes, then gives the value back | no | |
/// | [`defer_drop`](RcuOld::defer_drop) | no: dropped on the callback worker | one box | `P: Send + 'static` |
/// | [`drop_async`](RcuOld::drop_async) | no: `call_rcu` through the value's [`RcuHead`] | nothing | `P = Box<T>`, `T: HasRcuHead + Send` |
///
/// Dropped on the callback worker (inside another callback), it neither waits nor panics: it is
/// queued to be dropped after the worker's next grace period.
///
/// `RcuOld<P>` is `Send` when `P: Send`, and always `Sync`: it gives access to the value only
/// after a grace period, when no reader borrows it any more, and `&RcuOld` gives none at all.
///
/// # Panics
///
/// Dropping it inside a read-side critical section on the same thread panics: the grace period
/// would wait for the caller's own guard. Use `defer_drop` or `drop_async` there. (While a panic
/// unwinds out of a read-side critical section, a dropped `RcuOld` leaks its value instead, since
/// a second panic would abort.)
///
/// # Invariants
///
/// `ptr` came from `P::into_foreign`, is owned by this value and is reachable by no new reader
/// (it was unpublished before this value was created).
///
/// # Examples
///
/// ```
/// use rcu_runtime::Rcu;
/// use std::pin::pin;
///
/// let mut rcu = pin!(Rcu::new(Box::new(1)));
/// let old = rcu.as_mut().replace(Box::new(2)).unwrap(); // an RcuOld<Box<i32>>
/// drop(old); // waits for a grace period, then frees the box
/// ```
#[must_use = "dropping an RcuOld waits for a grace period; say so with drop(), or use defer_drop()/drop_async()"]
pub struct RcuOld<P: ForeignOwnable> {
    ptr: NonNull<c_void>,
    _owns: PhantomData<P>,
}

// SAFETY: an `RcuOld<P>` owns a `P` and drops it (or hands it out) on whichever thread holds it
// (`P: Send`). Unlike `Rcu`, it needs no `P: Sync`: readers on other threads may still hold
// borrows of the value, but an `RcuOld` gives access to it only after a grace period (`wait`,
// `drop`, `defer_drop`, `drop_async`), when those borrows have ended.
unsafe impl<P: ForeignOwnable + Send> Send for RcuOld<P> {}
// SAFETY: `&RcuOld<P>` gives no access to the value at all (`Debug` shows the pointer only).
unsafe impl<P: ForeignOwnable> Sync for RcuOld<P> {}

/// A foreign pointer sent to the callback worker along with the ownership of its `P`.
struct SendPtr(NonNull<c_void>);
// SAFETY: only built by `RcuOld::defer_drop`, whose `P: Send` bound makes the ownership it carries
// sendable.
unsafe impl Send for SendPtr {}

impl<P: ForeignOwnable> RcuOld<P> {
    /// Wraps an unpublished pointer.
    ///
    /// # Safety
    ///
    /// `ptr` came from `P::into_foreign`, the caller owns it, and no new reader can reach it.
    pub(crate) unsafe fn from_unpublished(ptr: NonNull<c_void>) -> Self {
        // INVARIANT: by the caller's contract.
        Self { ptr, _owns: PhantomData }
    }

    /// Gives up the pointer without dropping anything.
    fn into_raw(self) -> NonNull<c_void> {
        ManuallyDrop::new(self).ptr
    }

    /// Waits for a grace period and gives the value back: no reader can see it any more.
    ///
    /// # Panics
    ///
    /// Inside a read-side critical section on the same thread.
    ///
    /// ```
    /// use rcu_runtime::Rcu;
    /// use std::pin::pin;
    ///
    /// let mut rcu = pin!(Rcu::new(Box::new(vec![1])));
    /// let mut old = rcu.as_mut().replace(Box::new(vec![])).unwrap().wait();
    /// old.push(2); // ours again: mutable, reusable
    /// assert_eq!(*old, vec![1, 2]);
    /// ```
    #[track_caller]
    pub fn wait(self) -> P {
        engine::synchronize("RcuOld::wait()");
        // SAFETY: a grace period has elapsed since the value was unpublished (invariant), so no
        // reader holds a borrow; we own the pointer and give it back exactly once.
        unsafe { P::from_foreign(self.into_raw().as_ptr()) }
    }

    /// Drops the value on the callback worker after a grace period, without waiting.
    ///
    /// Costs one allocation; for `Box<T>` with an embedded [`RcuHead`], `drop_async` costs none.
    ///
    /// ```
    /// use rcu_runtime::Rcu;
    /// use std::pin::pin;
    ///
    /// let mut rcu = pin!(Rcu::new(Box::new(String::from("old"))));
    /// if let Some(old) = rcu.as_mut().replace(Box::new(String::from("new"))) {
    ///     old.defer_drop(); // returns at once, even inside a read-side critical section
    /// }
    /// ```
    pub fn defer_drop(self)
    where
        P: Send + 'static,
    {
        let ptr = SendPtr(self.into_raw());
        defer_rcu(move || {
            let ptr = ptr;
            // SAFETY: the closure runs after a grace period that started after the value was
            // unpublished (invariant), and owns the pointer; it runs once.
            drop(unsafe { P::from_foreign(ptr.0.as_ptr()) });
        });
    }
}

/// Frees a `Box<T>` whose embedded head was queued by [`RcuOld::drop_async`].
///
/// # Safety
///
/// `head` is the [`RcuHead`] of a `T` owned by a leaked `Box<T>`, passed here once.
unsafe fn drop_boxed<T: HasRcuHead>(head: NonNull<RcuHead>) {
    // SAFETY: by this function's contract the head belongs to a leaked `Box<T>` that we own now.
    drop(unsafe { Box::from_raw(T::rcu_head_container_of(head.as_ptr())) });
}

impl<T: HasRcuHead + Send + 'static> RcuOld<Box<T>> {
    /// Drops the box after a grace period through `call_rcu` and its embedded [`RcuHead`],
    /// without waiting and without allocating.
    ///
    /// When `T` has no drop glue, only the memory is freed (the kernel's `kfree_rcu`).
    ///
    /// ```
    /// use rcu_runtime::{rcu_barrier, Rcu, RcuHead, RcuProtected};
    /// use std::pin::pin;
    ///
    /// #[derive(RcuProtected)]
    /// struct Route { prefix: u32, #[rcu_head] head: RcuHead }
    ///
    /// let mut table = pin!(Rcu::new(Box::new(Route { prefix: 10, head: RcuHead::new() })));
    /// let old = table.as_mut().replace(Box::new(Route { prefix: 11, head: RcuHead::new() }));
    /// old.unwrap().drop_async();
    /// rcu_barrier(); // the old route is freed by now
    /// ```
    pub fn drop_async(self) {
        let object = self.into_raw().as_ptr().cast::<T>();
        let head = NonNull::new(T::raw_get_rcu_head(object))
            .expect("HasRcuHead::raw_get_rcu_head returned null for a live object");
        // SAFETY: the object is unpublished (invariant) and owned by us, hence so is its head,
        // which is not queued; `drop_boxed::<T>` reclaims exactly this box once a grace period
        // has elapsed, on the worker, which `T: Send + 'static` allows.
        unsafe { call_rcu(head, drop_boxed::<T>) };
    }
}

impl<P: ForeignOwnable> Drop for RcuOld<P> {
    #[track_caller]
    fn drop(&mut self) {
        // SAFETY: `ptr` was unpublished before this value was created and is owned by it
        // (invariant); `drop_foreign::<P>` reclaims exactly that pointer, once.
        unsafe {
            engine::retire(
                self.ptr,
                drop_foreign::<P>,
                "dropping an RcuOld (or a non-null Rcu), which waits for a grace period,",
            );
        }
    }
}

/// Drops a foreign-owned `P`.
///
/// # Safety
///
/// `ptr` came from `P::into_foreign`, is owned by the caller, and no reader can reach it.
unsafe fn drop_foreign<P: ForeignOwnable>(ptr: NonNull<c_void>) {
    // SAFETY: by this function's contract.
    drop(unsafe { P::from_foreign(ptr.as_ptr()) });
}

impl<P: ForeignOwnable> fmt::Debug for RcuOld<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuOld").field("ptr", &self.ptr).finish()
    }
}
