//! What `#[derive(RcuProtected)]` expands to, and nothing else: not part of the public API.
//!
//! The names and signatures here change without notice; user code must not use them.
//!
//! # Paths the user's crate cannot redirect
//!
//! A derive has no `$crate`: every path it emits is resolved in the user's crate, which may
//! shadow `core` (`extern crate self as core;`), declare items named like anything the
//! expansion names, or even hand the derive a fake runtime (`#[rcu_protected(crate = fake)]`, or
//! the real dependency renamed and `extern crate self as rcu_runtime;` in its place). So:
//!
//! - the expansion names the items of `core` it needs only through the re-exports below, never
//!   as `::core::..`, not even the primitive types (a user `struct u8;` shadows `u8`), and
//!   computes field places with native syntax (`&raw const (*p).field`);
//! - it declares no named item next to the user's tokens, so no user type can resolve to one;
//! - what this crate relies on is enforced by this crate's own signatures, not by paths the
//!   expansion writes. An impl of one of this crate's traits is checked against the trait's real
//!   signature, so the types in it are the real ones (`Pin` in `RcuProtected::project`, `RawView`
//!   in `RcuProtected::view`, `RcuHead` in `HasRcuHead`); from those, the expansion reaches this
//!   crate's functions by inherent items, which no path can replace: `RcuHead::__field`
//!   (the head is an `RcuHead`), `RcuLinks::__field` (the links are an `RcuLinks`, whose type is
//!   in `HasRcuLinks`' signature), `RawView::rcu_field` (only an `RcuField`, whose type
//!   `IsRcu` proves to be an `Rcu`), and `RawView::check_paths`, which proves that the
//!   remaining paths the `RcuProtected` impl depends on (`Unpin`, `Drop`, `RcuMut`, ..) name the
//!   real items.

use core::ptr::NonNull;

pub use core::clone::Clone;
pub use core::marker::{Copy, PhantomData, Unpin};
pub use core::mem::MaybeUninit;
pub use core::ops::Drop;
pub use core::pin::Pin;
pub use core::primitive::{u8, usize};

use crate::{ForeignOwnable, HasField, HasPinnedField, Rcu, RcuHead, RcuLinks, RcuMut, RcuProtected};

/// A pointer to a pinned `T` that readers share with an updater, from which only the fields
/// with an [`RcuField`] impl can be reached. [`RcuMutex::rcu`](crate::RcuMutex::rcu) makes one
/// and the derived view wraps it.
///
/// It never creates a `&T`: the updater may hold a `Pin<&mut T>` at the same time, and a shared
/// reference to the whole value would claim that nothing in it changes. Each field is reached by
/// offsetting the raw pointer ([`HasField::raw_get_field`]).
///
/// # Invariants
///
/// For all of `'a`, `ptr` points to a live `T` that does not move, and the fields `F` with
/// `T: RcuField<F>` are written only through their own interior mutability (see
/// [`RawView::new`]).
pub struct RawView<'a, T> {
    ptr: NonNull<T>,
    _borrow: PhantomData<&'a T>,
}

impl<'a, T> RawView<'a, T> {
    /// Makes a raw view of `*ptr`.
    ///
    /// # Safety
    ///
    /// For all of `'a`:
    /// - `ptr` points to a live `T` that is neither moved nor dropped nor deallocated;
    /// - no field `F` with `T: RcuField<F>` is moved, overwritten or mutably borrowed except
    ///   through its own `Pin<&mut _>` methods (as [`RcuMut`](crate::RcuMut) does), so shared
    ///   references to it stay valid.
    #[inline]
    pub unsafe fn new(ptr: NonNull<T>) -> Self {
        // INVARIANT: the caller's contract is the invariant.
        RawView { ptr, _borrow: PhantomData }
    }

    /// The `#[rcu]` field `F`, for readers.
    ///
    /// `T: RcuField<F>` implies that the field's type is an `Rcu<P>`: [`RcuField`] has the
    /// supertrait `HasField<F, Type: IsRcu>`, and only `Rcu` implements the sealed [`IsRcu`].
    /// This signature, not the code that calls it, is what keeps a reader from reading any other
    /// type.
    #[inline]
    pub fn rcu_field<F>(self) -> &'a <T as HasField<F>>::Type
    where
        T: RcuField<F>,
    {
        let field = <T as HasField<F>>::raw_get_field(self.ptr.as_ptr());
        // SAFETY: the aliasing argument of RCU field projection.
        // - `field` is the field `F` of the live `T` behind `ptr` (the `HasField` contract, same
        //   provenance), properly aligned and initialized, and it stays alive and in place for
        //   `'a` (invariant).
        // - No `&T` is made on the way, so an updater's `Pin<&mut T>` is not contradicted by a
        //   shared borrow of the whole value.
        // - The updater does hold `&mut` to this field (inside `Pin`, inside `RcuMut`) while the
        //   returned `&` lives. That is sound because the field is an `Rcu<P>` (the `IsRcu` bound
        //   of `RcuField`), which is `!Unpin` (so neither `&mut Rcu<P>` nor the `&mut T` around
        //   it is a uniqueness assertion: rustc emits no `noalias` for `&mut` to a `!Unpin`
        //   type), and keeps all its state in an atomic pointer, an `UnsafeCell` that may change
        //   under `&`. The `Pin<&mut Rcu<P>>` methods only use that atomic; overwriting the `Rcu`
        //   in place is ruled out (invariant: `RcuMut` offers no `Pin::set`).
        unsafe { &*field }
    }

    /// Compiles only when `P` is [`ExpansionPaths`] spelled with this crate's own items: the
    /// derive's `RcuProtected::view` calls it with the type spelled through its own paths.
    ///
    /// `self` is the argument of `view`, whose type the trait's signature fixes, so this is the
    /// real method even when every path the expansion writes leads elsewhere; the bound then
    /// fails unless `Unpin`, `Drop`, `UseRcuProtectedPinnedDropInsteadOfDrop`, `Pin` and
    /// `RcuMut`, as the expansion names them, are the real ones. The impls the
    /// `RcuProtected` contract relies on (the conflicting `Unpin` and no-`Drop` impls, the
    /// `RcuMut` projections) are written with those very paths.
    #[inline]
    pub const fn check_paths<P: IsExpansionPaths>(self) {}
}

impl<T> Clone for RawView<'_, T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for RawView<'_, T> {}

// SAFETY: a `RawView<'a, T>` gives exactly `&'a F` for the `#[rcu]` fields `F` of `T`, on whatever
// thread holds it: like a `&'a` to the tuple of those fields, it may be sent to another thread
// when they are all `Sync`, which `ReaderFields: Sync` says (the `RcuProtected` contract).
unsafe impl<T: RcuProtected> Send for RawView<'_, T> where T::ReaderFields: Sync {}

// SAFETY: `&RawView` only allows copying it, so it is as shareable as it is sendable (see `Send`).
unsafe impl<T: RcuProtected> Sync for RawView<'_, T> where T::ReaderFields: Sync {}

/// The field `F` is an `#[rcu]` field: readers reach it through [`RawView::rcu_field`].
///
/// The supertrait `HasField<F, Type: IsRcu>` makes the compiler check that the field is an
/// `Rcu<P>`; a derive that puts `#[rcu]` on another type gets this trait's `on_unimplemented`
/// error at the field's type.
///
/// # Safety
///
/// Every projection the implementor offers hands out the field only as `&`, `Pin<&_>` or
/// [`RcuMut`](crate::RcuMut), never as `Pin<&mut _>` or `&mut _`.
pub unsafe trait RcuField<F>: HasPinnedField<F> + HasField<F, Type: IsRcu> {}

mod sealed {
    /// Keeps [`IsRcu`](super::IsRcu), [`IsRcuHead`](super::IsRcuHead),
    /// [`IsRcuLinks`](super::IsRcuLinks) and [`IsExpansionPaths`](super::IsExpansionPaths) to the
    /// types below.
    pub trait Sealed {}

    impl<P: crate::ForeignOwnable> Sealed for crate::Rcu<P> {}
    impl Sealed for crate::RcuHead {}
    impl Sealed for crate::RcuLinks {}
    impl Sealed for super::ExpansionPaths {}
}

/// Implemented for `Rcu<P>` only: the type check behind `#[rcu]`.
#[diagnostic::on_unimplemented(
    message = "`#[rcu]` field of type `{Self}`, which is not an `Rcu<P>`",
    label = "`#[rcu]` needs an `Rcu<P>` here",
    note = "readers reach `#[rcu]` fields without the lock, which only an `Rcu`'s atomic pointer makes safe",
    note = "for another structurally pinned field use `#[pin]`; for a field only the updater uses, no attribute"
)]
pub trait IsRcu: sealed::Sealed {}

impl<P: ForeignOwnable> IsRcu for Rcu<P> {}

/// Implemented for `RcuHead` only: the type check behind `#[rcu_head]`.
#[diagnostic::on_unimplemented(
    message = "`#[rcu_head]` field of type `{Self}`, which is not `RcuHead`",
    label = "`#[rcu_head]` needs an `rcu_runtime::RcuHead` here",
    note = "`HasRcuHead` lets `call_rcu` queue the struct through this field, so it must be the two-word `RcuHead`"
)]
pub trait IsRcuHead: sealed::Sealed {
    /// The head itself, typed as what it is.
    fn as_rcu_head(this: *mut Self) -> *mut RcuHead;

    /// The inverse of [`IsRcuHead::as_rcu_head`].
    fn from_rcu_head(head: *mut RcuHead) -> *mut Self;
}

impl IsRcuHead for RcuHead {
    #[inline]
    fn as_rcu_head(this: *mut Self) -> *mut RcuHead {
        this
    }

    #[inline]
    fn from_rcu_head(head: *mut RcuHead) -> *mut Self {
        head
    }
}

/// Implemented for `RcuLinks` only: the type check behind `#[rcu_links]`.
#[diagnostic::on_unimplemented(
    message = "`#[rcu_links]` field of type `{Self}`, which is not `RcuLinks`",
    label = "`#[rcu_links]` needs an `rcu_runtime::RcuLinks` here",
    note = "`HasRcuLinks` lets an `RcuList` link the struct through this field, so it must be the two-pointer `RcuLinks`"
)]
pub trait IsRcuLinks: sealed::Sealed {
    /// The links themselves, typed as what they are.
    fn as_rcu_links(this: *mut Self) -> *mut RcuLinks;

    /// The inverse of [`IsRcuLinks::as_rcu_links`].
    fn from_rcu_links(links: *mut RcuLinks) -> *mut Self;
}

impl IsRcuLinks for RcuLinks {
    #[inline]
    fn as_rcu_links(this: *mut Self) -> *mut RcuLinks {
        this
    }

    #[inline]
    fn from_rcu_links(links: *mut RcuLinks) -> *mut Self {
        links
    }
}

/// A field of a `T` known to be an `H` (the `#[rcu_head]` field, an [`RcuHead`], or the
/// `#[rcu_links]` field, an [`RcuLinks`]): what the derived `HasRcuHead` and `HasRcuLinks` impls
/// go through. Made only by [`RcuHead::__field`] and [`RcuLinks::__field`], whose bounds are
/// checked where they are called; the token carries the two functions, so using it needs no bound
/// again (and a wrong field type is reported once).
///
/// # Invariants
///
/// `get` is `HasField::raw_get_field` of one field of `T` whose type is `H` (typed as such by
/// [`IsRcuHead`] or [`IsRcuLinks`]), and `back` is its `field_container_of`.
pub struct TypedField<T, H> {
    get: fn(*mut T) -> *mut H,
    back: unsafe fn(*mut H) -> *mut T,
}

/// The `#[rcu_head]` field of a `T`, known to be an `RcuHead`.
pub type HeadField<T> = TypedField<T, RcuHead>;

/// The `#[rcu_links]` field of a `T`, known to be an `RcuLinks`.
pub type LinksField<T> = TypedField<T, RcuLinks>;

impl<T> TypedField<T, RcuHead> {
    /// The token for the field `F` of `T`; `RcuHead::__field` checks the bound where it is called.
    #[inline]
    pub(crate) const fn head<F>() -> Self
    where
        T: HasField<F, Type: IsRcuHead>,
    {
        fn get<T: HasField<F, Type: IsRcuHead>, F>(this: *mut T) -> *mut RcuHead {
            IsRcuHead::as_rcu_head(T::raw_get_field(this))
        }
        /// # Safety
        ///
        /// As for [`TypedField::container_of`].
        unsafe fn back<T: HasField<F, Type: IsRcuHead>, F>(head: *mut RcuHead) -> *mut T {
            // SAFETY: by the caller's contract `head` was returned by `get`, that is by
            // `raw_get_field` of a live `T` (typed as the `RcuHead` the field is, which
            // `from_rcu_head` types back), which is `field_container_of`'s contract.
            unsafe { T::field_container_of(IsRcuHead::from_rcu_head(head)) }
        }
        // INVARIANT: `get` and `back` are those of the field `F`, which the bound proves an `RcuHead`.
        TypedField { get: get::<T, F>, back: back::<T, F> }
    }
}

impl<T> TypedField<T, RcuLinks> {
    /// The token for the field `F` of `T`; `RcuLinks::__field` checks the bound where it is
    /// called.
    #[inline]
    pub(crate) const fn links<F>() -> Self
    where
        T: HasField<F, Type: IsRcuLinks>,
    {
        fn get<T: HasField<F, Type: IsRcuLinks>, F>(this: *mut T) -> *mut RcuLinks {
            IsRcuLinks::as_rcu_links(T::raw_get_field(this))
        }
        /// # Safety
        ///
        /// As for [`TypedField::container_of`].
        unsafe fn back<T: HasField<F, Type: IsRcuLinks>, F>(links: *mut RcuLinks) -> *mut T {
            // SAFETY: by the caller's contract `links` was returned by `get`, that is by
            // `raw_get_field` of a live `T` (typed as the `RcuLinks` the field is, which
            // `from_rcu_links` types back), which is `field_container_of`'s contract.
            unsafe { T::field_container_of(IsRcuLinks::from_rcu_links(links)) }
        }
        // INVARIANT: `get` and `back` are those of the field `F`, which the bound proves an
        // `RcuLinks`.
        TypedField { get: get::<T, F>, back: back::<T, F> }
    }
}

impl<T, H> TypedField<T, H> {
    /// `HasRcuHead::raw_get_rcu_head` or `HasRcuLinks::raw_get_rcu_links`: the field of `*this`,
    /// same provenance, dereferencing nothing.
    #[inline]
    pub fn raw_get(self, this: *mut T) -> *mut H {
        (self.get)(this)
    }

    /// `HasRcuHead::rcu_head_container_of` or `HasRcuLinks::rcu_links_container_of`: the `T`
    /// whose field `field` is.
    ///
    /// # Safety
    ///
    /// `field` was returned by [`TypedField::raw_get`] for a `T` that is still alive, with
    /// provenance over the whole value.
    #[inline]
    pub unsafe fn container_of(self, field: *mut H) -> *mut T {
        // SAFETY: `back` is `field_container_of` of the field `get` projects to (invariant), and
        // the caller passes what `get` returned for a live `T`.
        unsafe { (self.back)(field) }
    }
}

impl<T, H> Clone for TypedField<T, H> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, H> Copy for TypedField<T, H> {}

/// The type that [`RawView::check_paths`] accepts: every item that the derive names by path
/// and that the `RcuProtected` contract depends on, each in a position where a different item
/// would make a different type. `dyn Trait` stands for a trait, `[_; 0]` makes it a type
/// without a value to build.
#[allow(dyn_drop, reason = "`dyn Drop` names the trait, it is never used as a bound")]
pub type ExpansionPaths =
    [fn(&dyn Unpin, &dyn Drop, &dyn UseRcuProtectedPinnedDropInsteadOfDrop, Pin<&mut ()>, RcuMut<'_, ()>); 0];

/// Implemented for [`ExpansionPaths`] only.
#[diagnostic::on_unimplemented(
    message = "the paths `#[derive(RcuProtected)]` wrote do not all lead to `rcu_runtime`'s own items",
    label = "the crate path (`::rcu_runtime`, or `crate = ..`) leads to a crate that replaces some of them",
    note = "the derive names `Unpin`, `Drop`, `Pin` and `RcuMut` through the runtime crate's path; \
            the guarantees of `RcuProtected` hold only for the real ones"
)]
pub trait IsExpansionPaths: sealed::Sealed {}

impl IsExpansionPaths for ExpansionPaths {}

/// Conflicts with a user `impl Drop` for a derived struct that has structurally pinned fields.
///
/// The derive implements it for the struct; every `T: Drop` has it through the blanket impl
/// below, so a struct with both gets "conflicting implementations of trait
/// `UseRcuProtectedPinnedDropInsteadOfDrop`". A `Drop` impl receives `&mut self` and could move
/// a pinned field out; `#[rcu_protected(PinnedDrop)]` with an `impl PinnedDrop` is the pinned
/// alternative.
pub trait UseRcuProtectedPinnedDropInsteadOfDrop {}

#[expect(drop_bounds, reason = "the bound is the point: it makes a user `impl Drop` conflict")]
impl<T: Drop + ?Sized> UseRcuProtectedPinnedDropInsteadOfDrop for T {}

/// The associated types of the stub `RcuProtected` impl emitted next to a derive error. Never
/// constructed: the crate does not compile while the error is there.
pub struct Unexpanded<'a, T: ?Sized>(PhantomData<&'a T>);

impl<T: ?Sized> Clone for Unexpanded<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Unexpanded<'_, T> {}
