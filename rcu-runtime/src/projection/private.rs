//! What `#[derive(RcuProtected)]` expands to, and nothing else: not part of the public API.
//!
//! The names and signatures here change without notice; user code must not use them.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::{ForeignOwnable, HasField, HasPinnedField, Rcu, RcuHead, RcuProtected};

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
        //   returned `&` lives. That is sound because the field is an `Rcu<P>` (the `RcuField`
        //   contract), which is `!Unpin` (so neither `&mut Rcu<P>` nor the `&mut T` around it is
        //   a uniqueness assertion: rustc emits no `noalias` for `&mut` to a `!Unpin` type), and
        //   keeps all its state in an atomic pointer, an `UnsafeCell` that may change under `&`.
        //   The `Pin<&mut Rcu<P>>` methods only use that atomic; overwriting the `Rcu` in place
        //   is ruled out (invariant: `RcuMut` offers no `Pin::set`).
        unsafe { &*field }
    }
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
/// # Safety
///
/// - The field's type is `Rcu<P>` for some `P`.
/// - Every projection the implementor offers hands out the field only as `&`, `Pin<&_>` or
///   [`RcuMut`](crate::RcuMut), never as `Pin<&mut _>` or `&mut _`.
pub unsafe trait RcuField<F>: HasPinnedField<F> {}

mod sealed {
    /// Keeps [`IsRcu`](super::IsRcu) and [`IsRcuHead`](super::IsRcuHead) to the types below.
    pub trait Sealed {}

    impl<P: crate::ForeignOwnable> Sealed for crate::Rcu<P> {}
    impl Sealed for crate::RcuHead {}
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
pub trait IsRcuHead: sealed::Sealed {}

impl IsRcuHead for RcuHead {}

/// Compiles only when `T` is an `Rcu<P>`; the derive calls it on each `#[rcu]` field's type.
#[inline]
pub const fn assert_rcu_field<T: IsRcu + ?Sized>() {}

/// Compiles only when `T` is `RcuHead`; the derive calls it on the `#[rcu_head]` field's type.
#[inline]
pub const fn assert_rcu_head_field<T: IsRcuHead + ?Sized>() {}

/// A field that uses the generic parameters of a struct (and `'a`) while being `Send`, `Sync`
/// and `Unpin` whatever they are: the hidden structs behind `Unpin` and `ReaderFields` must have
/// only the auto traits of the fields they list.
pub struct PhantomGenerics<'a, T: ?Sized>(PhantomData<&'a ()>, PhantomData<fn() -> PhantomData<T>>);

/// The associated types of the stub `RcuProtected` impl emitted next to a derive error. Never
/// constructed: the crate does not compile while the error is there.
pub struct Unexpanded<'a, T: ?Sized>(PhantomData<&'a T>);

impl<T: ?Sized> Clone for Unexpanded<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Unexpanded<'_, T> {}
