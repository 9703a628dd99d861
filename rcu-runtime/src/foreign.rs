//! Ownership as one pointer: what an [`Rcu`](crate::Rcu) or a container stores.

use core::ffi::c_void;
use core::pin::Pin;
use std::sync::Arc;

/// A type whose ownership can be turned into one non-null pointer and back.
///
/// [`Rcu<P>`](crate::Rcu) stores `P` this way, so that readers can load it with one atomic load
/// and borrow the pointee without owning it. Implemented for [`Box<T>`], [`Arc<T>`],
/// [`Pin<Box<T>>`] and [`RcuBox<T>`](crate::RcuBox).
///
/// A `Borrowed` gives no more than `&Self` does (`&T` or `Pin<&T>` for all four), so whether
/// borrows may be used on several threads at once is whether `Self: Sync`; that is what the
/// containers' `Send` and `Sync` ask of `P` (an [`Rcu<P>`](crate::Rcu) is `Send` when
/// `P: Send + Sync`, since a reader's borrow outlives a move of the `Rcu`).
///
/// ```
/// use rcu_runtime::ForeignOwnable;
///
/// let ptr = Box::new(5).into_foreign();
/// // SAFETY: `ptr` came from `into_foreign`, and `from_foreign` is not called while we borrow.
/// assert_eq!(unsafe { <Box<i32> as ForeignOwnable>::borrow(ptr) }, &5);
/// // SAFETY: `ptr` came from `into_foreign` and is turned back exactly once.
/// let back: Box<i32> = unsafe { ForeignOwnable::from_foreign(ptr) };
/// assert_eq!(*back, 5);
/// ```
///
/// # Safety
///
/// - [`into_foreign`](ForeignOwnable::into_foreign) returns a non-null pointer that stays valid
///   until [`from_foreign`](ForeignOwnable::from_foreign) takes it back.
/// - [`borrow`](ForeignOwnable::borrow) returns a value that is valid for `'a` under its own
///   contract, and owning a `Borrowed` gives no more access to the pointee than `&Self` does: so
///   when `Self: Sync`, borrows of one pointer may be used on several threads at once (the
///   `Send` and `Sync` impls of [`Rcu`](crate::Rcu) and [`RcuMap`](crate::RcuMap) rely on it).
pub unsafe trait ForeignOwnable: Sized {
    /// What a borrow of the foreign-owned value gives (usually `&'a T`).
    type Borrowed<'a>;

    /// Gives up ownership as a pointer, never null.
    fn into_foreign(self) -> *mut c_void;

    /// Takes back ownership.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`into_foreign`](ForeignOwnable::into_foreign) of this type and was not
    /// taken back yet; no borrow of it is used after this call (unless the type's contract says
    /// otherwise, as [`ForeignOwnableRcu`] does).
    unsafe fn from_foreign(ptr: *mut c_void) -> Self;

    /// Borrows the foreign-owned value.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`into_foreign`](ForeignOwnable::into_foreign) of this type, and
    /// [`from_foreign`](ForeignOwnable::from_foreign) is not called on it before `'a` ends.
    unsafe fn borrow<'a>(ptr: *mut c_void) -> Self::Borrowed<'a>;
}

/// A [`ForeignOwnable`] whose borrow may outlive the owner by one grace period.
///
/// A container that stores such pointers can hand readers a borrow under a
/// [`Guard`](crate::Guard) without taking its lock, even though an updater may remove the value
/// and drop it meanwhile: the memory stays valid until a grace period after the drop. That holds
/// for [`RcuBox<T>`](crate::RcuBox), whose drop goes through `call_rcu`; it does not hold for
/// `Box` or `Arc`, whose drop frees at once.
///
/// # Safety
///
/// The value borrowed through [`rcu_borrow`](ForeignOwnableRcu::rcu_borrow) stays valid until one
/// grace period after the owner taken back with `from_foreign` is dropped, and an `RcuBorrowed`
/// gives no more access to it than `&Self` does (as for [`ForeignOwnable::borrow`]).
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, ForeignOwnable, ForeignOwnableRcu, RcuBox};
///
/// let ptr = RcuBox::new(5).into_foreign();
/// let guard = read_lock();
/// // SAFETY: `ptr` came from `into_foreign`; the borrow ends with `guard`.
/// let five: &i32 = unsafe { <RcuBox<i32> as ForeignOwnableRcu>::rcu_borrow(ptr) };
/// // SAFETY: taken back once; the RcuBox's memory outlives it by a grace period.
/// drop(unsafe { <RcuBox<i32> as ForeignOwnable>::from_foreign(ptr) });
/// assert_eq!(*five, 5); // still valid: our guard holds the grace period up
/// drop(guard);
/// ```
pub unsafe trait ForeignOwnableRcu: ForeignOwnable {
    /// What an RCU borrow gives (usually `&'a T`).
    type RcuBorrowed<'a>;

    /// Borrows the value for as long as an RCU read-side critical section lasts.
    ///
    /// # Safety
    ///
    /// - `ptr` came from [`into_foreign`](ForeignOwnable::into_foreign) of this type.
    /// - If [`from_foreign`](ForeignOwnable::from_foreign) is called on it, `'a` ends before a
    ///   grace period that starts after that call completes (holding a [`Guard`](crate::Guard)
    ///   for `'a` ensures it).
    unsafe fn rcu_borrow<'a>(ptr: *mut c_void) -> Self::RcuBorrowed<'a>;
}

// SAFETY: `Box::into_raw` is never null and stays valid until `Box::from_raw`; the borrow is a
// shared reference valid while the box is not reclaimed, which the caller of `borrow` ensures, and
// `&T` is what `&Box<T>` gives.
unsafe impl<T: 'static> ForeignOwnable for Box<T> {
    type Borrowed<'a> = &'a T;

    fn into_foreign(self) -> *mut c_void {
        Box::into_raw(self).cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // SAFETY: by the caller's contract `ptr` came from `Box::into_raw` and is reclaimed once.
        unsafe { Box::from_raw(ptr.cast()) }
    }

    unsafe fn borrow<'a>(ptr: *mut c_void) -> &'a T {
        // SAFETY: by the caller's contract the box is alive for `'a` and only shared.
        unsafe { &*ptr.cast::<T>() }
    }
}

// SAFETY: as for `Box<T>`; pinning is preserved because the value is never moved while foreign
// owned (only a pointer moves) and `Borrowed` is a pinned shared reference, what
// `&Pin<Box<T>>` gives.
unsafe impl<T: 'static> ForeignOwnable for Pin<Box<T>> {
    type Borrowed<'a> = Pin<&'a T>;

    fn into_foreign(self) -> *mut c_void {
        // SAFETY: the box is turned into a raw pointer only to be stored; the value does not move
        // and comes back pinned in `from_foreign`.
        Box::into_raw(unsafe { Pin::into_inner_unchecked(self) }).cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // SAFETY: `ptr` came from `into_foreign`, i.e. from a pinned box that was never unpinned.
        unsafe { Pin::new_unchecked(Box::from_raw(ptr.cast())) }
    }

    unsafe fn borrow<'a>(ptr: *mut c_void) -> Pin<&'a T> {
        // SAFETY: the value is pinned (it came from a pinned box) and alive for `'a`.
        unsafe { Pin::new_unchecked(&*ptr.cast::<T>()) }
    }
}

// SAFETY: `Arc::into_raw` is never null and keeps one strong count until `Arc::from_raw` takes it
// back; the borrow is a shared reference, which is all an `&Arc` gives.
unsafe impl<T: 'static> ForeignOwnable for Arc<T> {
    type Borrowed<'a> = &'a T;

    fn into_foreign(self) -> *mut c_void {
        Arc::into_raw(self).cast_mut().cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // SAFETY: by the caller's contract `ptr` came from `Arc::into_raw` and is reclaimed once.
        unsafe { Arc::from_raw(ptr.cast::<T>()) }
    }

    unsafe fn borrow<'a>(ptr: *mut c_void) -> &'a T {
        // SAFETY: the strong count owned by the foreign pointer keeps the value alive for `'a`.
        unsafe { &*ptr.cast::<T>() }
    }
}
