//! RCU field projection: the [`RcuProtected`] trait that `#[derive(RcuProtected)]` implements,
//! [`RcuMut`] (what the updater's projection gives for an `#[rcu]` field), and [`PinnedDrop`].
//!
//! # Why `#[rcu]` fields project to `RcuMut`, not `Pin<&mut Rcu<P>>`
//!
//! Inside an [`RcuMutex`](crate::RcuMutex), readers hold `&Rcu<P>` to an `#[rcu]` field while
//! the updater holds the lock, without any synchronization between them except the `Rcu`'s atomic
//! pointer. A `Pin<&mut Rcu<P>>` would let the updater call [`Pin::set`], which drops the `Rcu`
//! and writes a new one *in place* with a plain, non-atomic write: pinning allows that (the old
//! value is dropped before its memory is reused), but a reader loading the pointer at the same
//! time would race with the write, which is undefined behaviour. [`RcuMut`] offers everything
//! else `Pin<&mut Rcu<P>>` does (`replace`, `copy_update`, `take`, shared access) and nothing that
//! writes the `Rcu` other than through its atomic pointer. For the same reason
//! [`RcuMutexGuard::as_mut`](crate::RcuMutexGuard::as_mut), which gives `Pin<&mut T>` for the
//! whole value, is `unsafe`.

use core::pin::Pin;

#[cfg(doc)]
use crate::RcuMut;

use crate::__private::RawView;

/// A struct whose `#[rcu]` fields lock-free readers may read while an updater holds a pinned
/// projection of the rest: what [`RcuMutex`](crate::RcuMutex) protects.
///
/// Implement it with `#[derive(RcuProtected)]`, not by hand: the trait is `unsafe` because
/// `RcuMutex`'s soundness rests on what the implementation promises (see *Safety*), and the
/// derive proves those promises at compile time.
///
/// # The derive's attributes
///
/// Each field of the struct gets at most one:
///
/// | field attribute | the field | readers, through [`RcuMutex::rcu`](crate::RcuMutex::rcu) | the updater, through `project()` |
/// |---|---|---|---|
/// | `#[rcu]` | an [`Rcu<P>`](crate::Rcu); structurally pinned | a method returning `&Rcu<P>` | [`RcuMut<'_, Rcu<P>>`](crate::RcuMut) |
/// | `#[pin]` | any type; structurally pinned | nothing | `Pin<&mut F>` |
/// | `#[rcu_head]` | the struct's [`RcuHead`](crate::RcuHead), at most one; lets a `Box` of the struct be freed by [`call_rcu`](crate::call_rcu) | nothing | `&mut RcuHead` |
/// | `#[rcu_links]` | the struct's [`RcuLinks`](crate::RcuLinks), at most one; lets a `Box` of the struct be a node of an [`RcuList`](crate::RcuList) | nothing | `&mut RcuLinks` |
/// | none | writer-only | nothing: reaching it without the lock does not compile | `&mut F` |
///
/// On the struct, `#[rcu_protected(..)]` takes `view = Name`, `project = Name` and
/// `project_ref = Name` (rename the generated types below), `PinnedDrop` (a plain `impl Drop`
/// never compiles on a derived struct, since it could move a pinned field; with this option the
/// derive emits a destructor that calls your [`PinnedDrop`] impl) and `crate = path` (where
/// `rcu_runtime` is, if renamed).
///
/// # What the derive generates
///
/// For a `struct Config`, next to it and with its visibility (so they show in your crate's
/// documentation):
///
/// - `ConfigView<'a>`, the reader view, which [`RcuMutex::rcu`](crate::RcuMutex::rcu) returns
///   (the trait's [`View`](RcuProtected::View)): `Copy`, with one method per `#[rcu]` field,
///   named after it (`field_0()`, `field_1()`, … in a tuple struct), that returns the field's
///   `&'a Rcu<P>`. It has no method for any other field.
/// - `ConfigProjection<'a>`, the updater's view, which the lock guard's `project()` and
///   `Config::project(self: Pin<&mut Self>)` return (the trait's
///   [`Projection`](RcuProtected::Projection)): a struct with one field per field of `Config`,
///   of the types in the table above.
/// - `ConfigProjectionRef<'a>`, the same through `Pin<&Config>` (`project_ref()`; the trait's
///   [`ProjectionRef`](RcuProtected::ProjectionRef)): `Pin<&F>` for `#[rcu]` and `#[pin]`
///   fields, `&F` for the others.
///
/// It also implements [`HasField`](crate::HasField) for every field,
/// [`HasPinnedField`](crate::HasPinnedField) for `#[rcu]` and `#[pin]` fields,
/// [`HasRcuHead`](crate::HasRcuHead) through an `#[rcu_head]` field,
/// [`HasRcuLinks`](crate::HasRcuLinks) through an `#[rcu_links]` field, and this trait. Those impls,
/// a hidden struct used as [`ReaderFields`](RcuProtected::ReaderFields) and the compile-time
/// checks (no `Drop`, no `repr(packed)`, `Unpin` only when every pinned field is `Unpin`) sit in
/// an anonymous `const _: () = { .. };` block, where nothing can name them. The repository's
/// book shows one complete expansion, annotated, in its chapter "What the derive generates"
/// (`book/src/derive-expanded.md`).
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, Rcu, RcuHead, RcuMutex, RcuProtected};
///
/// struct RouteTable {
///     routes: Vec<(&'static str, u16)>,
/// }
///
/// #[derive(RcuProtected)]
/// struct Config {
///     #[rcu]
///     routes: Rcu<Box<RouteTable>>, // lock-free for readers, pinned for updaters
///     reloads: u64,                  // writer-only: reachable only under the lock
///     #[rcu_head]
///     head: RcuHead,                 // lets a `Box<Config>` be freed by `call_rcu`
/// }
///
/// let table = RouteTable { routes: vec![("/", 80)] };
/// let cfg = RcuMutex::new(Config {
///     routes: Rcu::new(Box::new(table)),
///     reloads: 0,
///     head: RcuHead::new(),
/// });
///
/// // Reader: any thread, no lock.
/// {
///     let g = read_lock();
///     let table = cfg.rcu().routes().dereference(&g).expect("published");
///     assert_eq!(table.routes[0], ("/", 80));
/// }
///
/// // Updater: under the lock, through the pinned projection.
/// let mut w = cfg.lock();
/// let p = w.project();
/// *p.reloads += 1;
/// if let Some(old) = p.routes.replace(Box::new(RouteTable { routes: vec![("/", 443)] })) {
///     old.defer_drop();
/// }
/// assert_eq!(w.reloads, 1);
/// ```
///
/// The generated types follow the fields they reach: the view (`{Struct}View`) is `Send` and
/// `Sync` when [`ReaderFields`](RcuProtected::ReaderFields) is `Sync`, i.e. when the pointee of
/// every `#[rcu]` field is `Sync`; the projections are `Send`/`Sync` when each projected field
/// is (an [`RcuMut`](crate::RcuMut) of `Rcu<P>` is `Send` when `P: Send + Sync`, a `&mut F` when `F: Send`, a
/// `Pin<&F>` or `&F` when `F: Sync`), as structs of those references would be.
///
/// Reaching a field without `#[rcu]` through the view does not compile:
///
/// ```compile_fail
/// use rcu_runtime::{RcuMutex, RcuProtected};
///
/// #[derive(RcuProtected)]
/// struct Counter {
///     hits: u64,
/// }
///
/// let c = RcuMutex::new(Counter { hits: 0 });
/// let _ = c.rcu().hits(); // no such method: `hits` is writer-only
/// ```
///
/// # Safety
///
/// [`RcuMutex`](crate::RcuMutex) hands the implementation's projections to the updater while
/// readers use [`RcuProtected::view`]; implementors guarantee that this is sound:
///
/// - [`RcuProtected::project`] and [`RcuProtected::project_ref`] never give safe code a way to
///   move, overwrite or get `&mut` to a field the view can reach (an `#[rcu]` field, which the
///   derive marks with a hidden trait): they project such fields to [`RcuMut`](crate::RcuMut) or `Pin<&F>`;
/// - if `Self` has such a field, `Self` is not `Unpin`;
/// - if [`RcuProtected::ReaderFields`] is `Sync`, so is the type of every such field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `RcuProtected`",
    label = "`RcuMutex` needs a type with `#[derive(RcuProtected)]`",
    note = "add `#[derive(RcuProtected)]` to the struct and mark the fields readers use `#[rcu]`"
)]
pub unsafe trait RcuProtected: Sized {
    /// The reader view: a `Copy` handle with one method per `#[rcu]` field, each returning the
    /// field's `&'a Rcu<P>`. What [`RcuMutex::rcu`](crate::RcuMutex::rcu) returns.
    type View<'a>: Copy
    where
        Self: 'a;

    /// The pinned mutable projection: one field per struct field, `#[rcu]` fields as
    /// [`RcuMut`], `#[pin]` fields as `Pin<&mut F>`, the others as `&mut F`.
    type Projection<'a>
    where
        Self: 'a;

    /// The pinned shared projection: `#[rcu]` and `#[pin]` fields as `Pin<&F>`, the others as `&F`.
    type ProjectionRef<'a>
    where
        Self: 'a;

    /// A type that is `Sync` exactly when the types of all `#[rcu]` fields are: what readers on
    /// other threads share. [`RcuMutex<Self>`](crate::RcuMutex) is `Sync` when `Self: Send` and
    /// this is `Sync`. The derive sets it to a hidden struct with one field per `#[rcu]` field's
    /// type.
    type ReaderFields: ?Sized;

    /// Projects a pinned mutable reference to the struct to its fields.
    fn project(self: Pin<&mut Self>) -> Self::Projection<'_>;

    /// Projects a pinned shared reference to the struct to its fields.
    fn project_ref(self: Pin<&Self>) -> Self::ProjectionRef<'_>;

    /// Builds the reader view; called by [`RcuMutex::rcu`](crate::RcuMutex::rcu) only, not by
    /// user code.
    ///
    /// Its argument is a hidden runtime type: a pointer to the pinned value that reaches the
    /// `#[rcu]` fields by raw-pointer projection and never creates a `&Self`, since the updater
    /// may hold a `Pin<&mut Self>` at the same time.
    fn view<'a>(raw: RawView<'a, Self>) -> Self::View<'a>;
}

/// The destructor of a struct with `#[rcu_protected(PinnedDrop)]`, which receives the value
/// pinned, since its structurally pinned fields must not move even while it is being dropped.
///
/// Without the option the derive forbids `Drop` when the struct has an `#[rcu]` or `#[pin]`
/// field (a user `impl Drop` does not compile; without such a field nothing is pinned and
/// `impl Drop` is allowed) and implements this trait itself as a no-op, so a stray
/// `impl PinnedDrop` does not compile either. With the option the derive emits a `Drop` impl that calls this method once, when the
/// value is dropped.
///
/// The method is safe and can also be called like any other: it must not assume it runs only
/// once.
///
/// ```
/// use std::pin::Pin;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use rcu_runtime::{PinnedDrop, Rcu, RcuProtected};
///
/// static CLOSED: AtomicUsize = AtomicUsize::new(0);
///
/// #[derive(RcuProtected)]
/// #[rcu_protected(PinnedDrop)]
/// struct Session {
///     #[rcu]
///     name: Rcu<Box<String>>,
/// }
///
/// impl PinnedDrop for Session {
///     fn drop(self: Pin<&mut Self>) {
///         // `self.project()` is available here; the `Rcu` is dropped after this returns.
///         CLOSED.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// drop(Session { name: Rcu::new(Box::new("a".to_owned())) });
/// assert_eq!(CLOSED.load(Ordering::Relaxed), 1);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` asks for `#[rcu_protected(PinnedDrop)]` but does not implement `PinnedDrop`",
    label = "the derived `Drop` calls `PinnedDrop::drop` here",
    note = "implement `rcu_runtime::PinnedDrop` for `{Self}`, or remove the `PinnedDrop` option"
)]
pub trait PinnedDrop {
    /// Runs when the value is dropped, before its fields are dropped.
    fn drop(self: Pin<&mut Self>);
}
