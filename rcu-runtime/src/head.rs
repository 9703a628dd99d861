//! [`HasRcuHead`]: a struct with an embedded [`RcuHead`], which `call_rcu` can queue.

use crate::RcuHead;

/// A struct with an embedded [`RcuHead`], so that it can be freed through `call_rcu`.
///
/// `#[derive(RcuProtected)]` implements it for a struct with a `#[rcu_head]` field, on top of
/// that field's [`HasField`](crate::HasField) impl. By hand:
///
/// ```
/// use rcu_runtime::{Field, HasField, HasRcuHead, RcuHead};
///
/// struct Node { value: u64, head: RcuHead }
///
/// // SAFETY: `Type` and `OFFSET` are those of `Node::head`.
/// unsafe impl HasField<Field<1>> for Node {
///     type Type = RcuHead;
///     const OFFSET: usize = core::mem::offset_of!(Node, head);
/// }
///
/// // SAFETY: both methods go through the `HasField` impl of the `head` field.
/// unsafe impl HasRcuHead for Node {
///     fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
///         <Self as HasField<Field<1>>>::raw_get_field(this)
///     }
///     unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
///         // SAFETY: forwarded from the caller.
///         unsafe { <Self as HasField<Field<1>>>::field_container_of(head) }
///     }
/// }
/// ```
///
/// # Safety
///
/// [`HasRcuHead::raw_get_rcu_head`] must return a pointer to an `RcuHead` that is a field of
/// `*this` (same provenance), and [`HasRcuHead::rcu_head_container_of`] must be its inverse.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no embedded `RcuHead` for `call_rcu` to queue",
    label = "`drop_async` frees the box through its `RcuHead`",
    note = "add an `#[rcu_head] head: RcuHead` field to `{Self}` under `#[derive(RcuProtected)]` (or implement `HasRcuHead` by hand)",
    note = "or reclaim without a head: `defer_drop()` (one allocation), or drop the `RcuOld` (waits for a grace period)"
)]
pub unsafe trait HasRcuHead: Sized {
    /// Projects a pointer to the struct to a pointer to its `RcuHead`, dereferencing nothing.
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead;

    /// Goes back from a pointer to the embedded `RcuHead` to the struct that contains it.
    ///
    /// # Safety
    ///
    /// `head` must have been returned by [`HasRcuHead::raw_get_rcu_head`] for a value that is
    /// still alive, with provenance over the whole value.
    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self;
}

#[cfg(not(loom))]
impl RcuHead {
    /// The derived `HasRcuHead` impl's way to its `#[rcu_head]` field `F`: compiles only when the
    /// field is an `RcuHead` (the `IsRcuHead` bound, with the `#[rcu_head]` error message).
    ///
    /// An inherent item of `RcuHead` because that is the one type the derived impl is sure is
    /// this crate's own: it appears in `HasRcuHead`'s signature, which the compiler checks the
    /// impl against, while any path the derive writes could be redirected by the user's crate.
    #[doc(hidden)]
    #[inline]
    #[must_use]
    pub const fn __field<T, F>() -> crate::__private::HeadField<T>
    where
        T: crate::HasField<F, Type: crate::__private::IsRcuHead>,
    {
        crate::__private::HeadField::head::<F>()
    }
}
