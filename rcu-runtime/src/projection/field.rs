//! Per-field metadata: the type and the offset of one field of a struct.
//!
//! [`HasField`] is the one trait from which the other per-field capabilities are built:
//! [`HasRcuHead`](crate::HasRcuHead) for a struct with an embedded [`RcuHead`](crate::RcuHead),
//! and the pinned projections that `#[derive(RcuProtected)]` emits. A field is named by its
//! position, [`Field<INDEX>`], so the derive needs to invent no new type names that could collide
//! with the user's.

/// Names one field of a struct by its position in the declaration.
///
/// Positions count from 0 over the fields of the struct as the compiler sees it: a field that a
/// `cfg` removes is gone before any derive runs, so it takes no position.
///
/// This type is never constructed: it only appears as the parameter of [`HasField`]. It is `Send`
/// and `Sync` (it holds nothing).
///
/// # Examples
///
/// ```
/// use rcu_runtime::{Field, HasField, Rcu, RcuProtected};
///
/// #[derive(RcuProtected)]
/// struct Pair { first: u8, #[rcu] second: Rcu<Box<u16>> }
///
/// fn field_type<T: HasField<F, Type = X>, F, X>() {}
/// field_type::<Pair, Field<1>, Rcu<Box<u16>>>(); // `second` is field 1
/// ```
pub struct Field<const INDEX: usize>(());

/// A struct that has a field, named by the marker `F` (usually a [`Field<INDEX>`]), of type
/// [`HasField::Type`] at byte offset [`HasField::OFFSET`].
///
/// `#[derive(RcuProtected)]` implements it for every field. By hand:
///
/// ```
/// use rcu_runtime::{Field, HasField};
///
/// struct Point { x: u32, y: u64 }
///
/// // SAFETY: `Type` is the type of `Point::y` and `OFFSET` is its offset, both read from the field.
/// unsafe impl HasField<Field<1>> for Point {
///     type Type = u64;
///     const OFFSET: usize = core::mem::offset_of!(Point, y);
/// }
///
/// let mut p = Point { x: 1, y: 2 };
/// let y = <Point as HasField<Field<1>>>::raw_get_field(&mut p);
/// // SAFETY: `y` points into the live `p`, and no other reference to `p.y` is in use.
/// unsafe { *y = 5 };
/// assert_eq!(p.y, 5);
/// ```
///
/// # Safety
///
/// Implementors guarantee that every value of `Self` holds, at byte offset `OFFSET` from its
/// start, a properly aligned field of type `Type`, and that the field stays inside `Self`
/// (it is a real field, not a computed location).
pub unsafe trait HasField<F>: Sized {
    /// The type of the field.
    type Type;

    /// The byte offset of the field from the start of `Self`.
    const OFFSET: usize;

    /// Projects a pointer to a struct to a pointer to the field, without dereferencing anything.
    ///
    /// The result is valid to use exactly when `this` is: it has the same provenance.
    #[inline]
    fn raw_get_field(this: *mut Self) -> *mut Self::Type {
        this.wrapping_byte_add(Self::OFFSET).cast()
    }

    /// Goes back from a pointer to the field to a pointer to the struct that contains it.
    ///
    /// # Safety
    ///
    /// `field` must point to the field `F` of a value of type `Self` (for example, a pointer
    /// obtained from [`HasField::raw_get_field`]), with provenance over that whole value.
    #[inline]
    unsafe fn field_container_of(field: *mut Self::Type) -> *mut Self {
        // SAFETY: by the caller's contract `field` lies `OFFSET` bytes into a value of `Self`
        // whose allocation it may access, so stepping back `OFFSET` bytes stays in bounds; the
        // trait's contract says the field is at that offset.
        unsafe { field.byte_sub(Self::OFFSET).cast() }
    }
}

/// A [`HasField`] whose field is *structurally pinned*: a `Pin<&mut Self>` only ever hands out
/// `Pin<&mut Type>` to it, never `&mut Type`, so the field never moves while `Self` is pinned.
///
/// `#[derive(RcuProtected)]` implements it for `#[rcu]` and `#[pin]` fields, and proves the
/// claim with the compiler (no `Drop` or `Unpin` impl that could move the field, no
/// `repr(packed)`). [`RcuMutex`](crate::RcuMutex)'s reader view relies on it: readers reach an
/// `Rcu` field through a shared reference while the updater holds `Pin<&mut Self>`, which is
/// sound only because that pinned reference cannot be turned into a move of the `Rcu`.
///
/// # Safety
///
/// Implementors guarantee that no safe code can obtain `&mut Self::Type` for this field from a
/// `Pin<&mut Self>`, and that `Self` cannot be moved once pinned while the field is in use
/// (so `Self` has no `Drop` that moves the field out and no unconditional `Unpin`).
///
/// # Examples
///
/// ```
/// use rcu_runtime::{Field, HasPinnedField, Rcu, RcuProtected};
///
/// #[derive(RcuProtected)]
/// struct Shared { #[rcu] value: Rcu<Box<u32>>, plain: u32 }
///
/// fn pinned<T: HasPinnedField<F>, F>() {}
/// pinned::<Shared, Field<0>>(); // `#[rcu]` fields are structurally pinned
/// ```
pub unsafe trait HasPinnedField<F>: HasField<F> {}
