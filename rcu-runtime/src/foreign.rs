//! Ownership as one pointer: what an [`Rcu`](crate::Rcu) or a container stores.

use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::NonNull;
use std::sync::Arc;

/// A type whose ownership can be turned into one non-null pointer and back.
///
/// [`Rcu<P>`](crate::Rcu) stores `P` this way, so that readers can load it with one atomic load
/// and borrow the pointee without owning it. Implemented for [`Box<T>`], [`Arc<T>`],
/// [`Pin<Box<T>>`] and [`RcuBox<T>`](crate::RcuBox).
///
/// A `Borrowed` gives no more than `&Self` does (`&T` for `Box<T>` and `RcuBox<T>`, `Pin<&T>` for
/// `Pin<Box<T>>`, [`ArcBorrow<T>`] for `Arc<T>`, which can also make an `Arc` the way
/// `Arc::clone(&arc)` would), so whether
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an owning pointer that RCU can publish",
    label = "wrap it in `Box::new(..)` (or `Arc::new`, `RcuBox::new`)",
    note = "an `Rcu`, `RcuCell` or `RcuMap` stores one owning pointer (`Box<T>`, `Arc<T>`, `Pin<Box<T>>`, `RcuBox<T>`), so that readers load it with one atomic load and updaters swap it whole"
)]
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

/// A [`ForeignOwnable`] whose borrow is, in the end, a shared reference to one `Target`: what
/// the snapshots of [`RcuCell::read`](crate::RcuCell::read) and [`Rcu::read`](crate::Rcu::read)
/// dereference to.
///
/// Implemented for every pointer of the crate: `Box<T>` and [`RcuBox<T>`](crate::RcuBox) (whose
/// borrow is `&T`), `Pin<Box<T>>` (`Pin<&T>`) and `Arc<T>` ([`ArcBorrow<T>`]), all with
/// `Target = T`. It is a separate trait because a `ForeignOwnable`'s borrow may be anything
/// (a handle, a pair); the snapshot needs a plain `&Target` it can keep next to its guard.
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, ForeignOwnableDeref, RcuCell};
/// use std::sync::Arc;
///
/// fn length<P: ForeignOwnableDeref<Target = String>>(cell: &RcuCell<P>) -> usize {
///     cell.read().map_or(0, |s| s.len())
/// }
/// assert_eq!(length(&RcuCell::new(Box::new(String::from("abc")))), 3);
/// assert_eq!(length(&RcuCell::new(Arc::new(String::from("ab")))), 2);
/// ```
pub trait ForeignOwnableDeref: ForeignOwnable {
    /// What the borrow refers to.
    type Target: ?Sized;

    /// The borrow as a shared reference, for as long as the borrow was valid.
    fn borrowed_ref<'a>(borrowed: Self::Borrowed<'a>) -> &'a Self::Target;
}

impl<T: 'static> ForeignOwnableDeref for Box<T> {
    type Target = T;

    fn borrowed_ref<'a>(borrowed: Self::Borrowed<'a>) -> &'a T {
        borrowed
    }
}

impl<T: 'static> ForeignOwnableDeref for Pin<Box<T>> {
    type Target = T;

    fn borrowed_ref<'a>(borrowed: Self::Borrowed<'a>) -> &'a T {
        borrowed.get_ref()
    }
}

impl<T: 'static> ForeignOwnableDeref for Arc<T> {
    type Target = T;

    fn borrowed_ref<'a>(borrowed: Self::Borrowed<'a>) -> &'a T {
        borrowed.into_ref()
    }
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
// back. The borrow is an `ArcBorrow`, which gives `&T` and a new `Arc` (a strong count of its
// own): what an `&Arc<T>` gives through `Deref` and `Clone`.
unsafe impl<T: 'static> ForeignOwnable for Arc<T> {
    type Borrowed<'a> = ArcBorrow<'a, T>;

    fn into_foreign(self) -> *mut c_void {
        Arc::into_raw(self).cast_mut().cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // SAFETY: by the caller's contract `ptr` came from `Arc::into_raw` and is reclaimed once.
        unsafe { Arc::from_raw(ptr.cast::<T>()) }
    }

    unsafe fn borrow<'a>(ptr: *mut c_void) -> ArcBorrow<'a, T> {
        // SAFETY: `ptr` came from `Arc::into_raw` (never null), and the caller keeps the strong
        // count it owns alive for `'a` (`from_foreign` is not called before `'a` ends).
        unsafe { ArcBorrow::from_raw(NonNull::new_unchecked(ptr.cast::<T>())) }
    }
}

/// A borrow of a value owned by an [`Arc`], without a reference count of its own: what an
/// [`Rcu<Arc<T>>`](crate::Rcu) or an [`RcuCell<Arc<T>>`](crate::RcuCell) lends its readers (the
/// Linux kernel's `ArcBorrow`).
///
/// It is `Copy` and dereferences to `T`, at the cost of a plain pointer. When the value must
/// outlive the read-side critical section (kept across an `.await`, sent to another task, stored),
/// [`to_arc`](ArcBorrow::to_arc) or `Arc::from(borrow)` makes an owned `Arc<T>`: one reference-count
/// increment, what arc-swap's `load_full` costs.
///
/// `ArcBorrow<'_, T>` is `Send` and `Sync` when `T: Send + Sync`, as `&Arc<T>` is: it gives `&T`,
/// and an `Arc<T>` that may be dropped (and drop the `T`) on whichever thread holds it.
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, ArcBorrow, RcuCell};
/// use std::sync::Arc;
///
/// let config = RcuCell::new(Arc::new(String::from("v1")));
/// let snapshot: Arc<String> = {
///     let guard = read_lock();
///     let borrow: ArcBorrow<'_, String> = config.dereference(&guard).unwrap();
///     assert_eq!(borrow.len(), 2); // Deref: no reference count touched
///     borrow.to_arc() // one increment: the snapshot outlives the guard
/// };
/// config.replace(Arc::new(String::from("v2"))).unwrap().defer_drop();
/// assert_eq!(*snapshot, "v1"); // still ours
/// ```
///
/// # Invariants
///
/// `ptr` came from `Arc::into_raw` (or points to the value of a live `Arc`), and some `Arc`
/// keeps the value alive (a strong count is held) for all of `'a`.
pub struct ArcBorrow<'a, T> {
    /// A raw pointer rather than `&'a T`: `to_arc` reaches the reference count next to the value,
    /// which a pointer derived from `&T` has no permission to touch.
    ptr: NonNull<T>,
    /// Lends like `&'a Arc<T>`: the same variance and drop-check behaviour.
    _borrows: PhantomData<&'a Arc<T>>,
}

// SAFETY: an `ArcBorrow` gives what `&Arc<T>` gives: `&T` (sound to use on another thread when
// `T: Sync`) and a new `Arc<T>`, which the receiving thread may drop last, dropping the `T` there
// (`T: Send`). `&Arc<T>` is `Send` under exactly these bounds.
unsafe impl<T: Send + Sync> Send for ArcBorrow<'_, T> {}
// SAFETY: `&ArcBorrow` gives the same as `ArcBorrow` (it is `Copy`), so as for `Send`.
unsafe impl<T: Send + Sync> Sync for ArcBorrow<'_, T> {}

impl<'a, T> ArcBorrow<'a, T> {
    /// Borrows the value of a foreign-owned `Arc`.
    ///
    /// # Safety
    ///
    /// `ptr` came from `Arc::<T>::into_raw`, and a strong count stays held for all of `'a`.
    unsafe fn from_raw(ptr: NonNull<T>) -> Self {
        // INVARIANT: by the caller's contract.
        Self { ptr, _borrows: PhantomData }
    }

    /// Borrows the value of `arc` for as long as `arc` is borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::ArcBorrow;
    /// use std::sync::Arc;
    ///
    /// let arc = Arc::new(5);
    /// let borrow = ArcBorrow::from_arc(&arc);
    /// assert_eq!(*borrow, 5);
    /// assert!(Arc::ptr_eq(&borrow.to_arc(), &arc));
    /// ```
    pub fn from_arc(arc: &'a Arc<T>) -> Self {
        // INVARIANT: `Arc::as_ptr` points to the value of `arc`, whose strong count the borrow
        // of `arc` keeps held for `'a`.
        // SAFETY: `Arc::as_ptr` is never null.
        Self { ptr: unsafe { NonNull::new_unchecked(Arc::as_ptr(arc).cast_mut()) }, _borrows: PhantomData }
    }

    /// An owned `Arc<T>` of the same value: one reference-count increment. Unlike the borrow, it
    /// may outlive the read-side critical section, cross an `.await` and move to other threads.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuCell};
    /// use std::sync::Arc;
    ///
    /// let cell = RcuCell::new(Arc::new(vec![1, 2, 3]));
    /// let owned: Arc<Vec<i32>> = cell.dereference(&read_lock()).unwrap().to_arc();
    /// assert_eq!(Arc::strong_count(&owned), 2); // the cell's and ours
    /// ```
    #[must_use = "this makes a new Arc (a reference-count increment); use the borrow itself to only read"]
    pub fn to_arc(self) -> Arc<T> {
        // SAFETY: `ptr` points to the value of a live `Arc<T>` that was made by `Arc::into_raw`
        // or is borrowed (invariant): incrementing its strong count and then taking ownership of
        // the new count with `from_raw` is `Arc::clone`.
        unsafe {
            Arc::increment_strong_count(self.ptr.as_ptr());
            Arc::from_raw(self.ptr.as_ptr())
        }
    }

    /// The borrow as a plain reference, valid for as long as the borrow was.
    pub(crate) fn into_ref(self) -> &'a T {
        // SAFETY: a strong count keeps the value alive for `'a` (invariant); shared only.
        unsafe { self.ptr.as_ref() }
    }

    /// Whether two borrows point to the same allocation (as `Arc::ptr_eq`).
    pub fn ptr_eq(this: Self, other: Self) -> bool {
        this.ptr == other.ptr
    }
}

impl<'a, T> Deref for ArcBorrow<'a, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a strong count keeps the value alive for `'a` (invariant), which outlives
        // `&self`; the value is only ever shared.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Clone for ArcBorrow<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ArcBorrow<'_, T> {}

impl<T> From<ArcBorrow<'_, T>> for Arc<T> {
    /// The same as [`ArcBorrow::to_arc`].
    fn from(borrow: ArcBorrow<'_, T>) -> Self {
        borrow.to_arc()
    }
}

impl<T: fmt::Debug> fmt::Debug for ArcBorrow<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for ArcBorrow<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
