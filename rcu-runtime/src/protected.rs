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

use core::fmt;
use core::ops::Deref;
use core::pin::Pin;

use crate::__private::RawView;
use crate::{ForeignOwnable, Rcu, RcuOld};

/// A struct whose `#[rcu]` fields lock-free readers may read while an updater holds a pinned
/// projection of the rest: what [`RcuMutex`](crate::RcuMutex) protects.
///
/// Implement it with `#[derive(RcuProtected)]`, which also emits the three types named here
/// (by default `{Struct}View`, `{Struct}Projection`, `{Struct}ProjectionRef`), the inherent
/// `project`/`project_ref` methods, [`HasField`](crate::HasField) for every field,
/// [`HasPinnedField`](crate::HasPinnedField) for `#[rcu]` and `#[pin]` fields, and
/// [`HasRcuHead`](crate::HasRcuHead) for an `#[rcu_head]` field.
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
///   move, overwrite or get `&mut` to a field `F` for which `Self: RcuField<F>` (the fields the
///   view can reach): they project such fields to [`RcuMut`] or `Pin<&F>`;
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
    /// this is `Sync`.
    type ReaderFields: ?Sized;

    /// Projects a pinned mutable reference to the struct to its fields.
    fn project(self: Pin<&mut Self>) -> Self::Projection<'_>;

    /// Projects a pinned shared reference to the struct to its fields.
    fn project_ref(self: Pin<&Self>) -> Self::ProjectionRef<'_>;

    /// Builds the reader view from the runtime's raw view; called by
    /// [`RcuMutex::rcu`](crate::RcuMutex::rcu).
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

/// Pinned, exclusive access to an `Rcu<P>` that lock-free readers may be reading: what the
/// pinned projection of a `#[derive(RcuProtected)]` struct gives for an `#[rcu]` field.
///
/// It offers what `Pin<&mut Rcu<P>>` offers (publish with [`RcuMut::replace`],
/// [`RcuMut::copy_update`], [`RcuMut::take`]; read through `Deref<Target = Rcu<P>>`) except
/// writing the `Rcu` in place with [`Pin::set`]. Inside an [`RcuMutex`](crate::RcuMutex), readers
/// may be loading the `Rcu`'s pointer at any moment; `Pin::set` would drop the `Rcu` and write a
/// new one over it with a plain, non-atomic write (pinning allows that), racing with those loads.
///
/// Like a `Pin<&mut _>`, the publishing methods consume it; [`RcuMut::as_mut`] reborrows it for
/// several calls.
///
/// `R` is the field's type, always an `Rcu<P>` for the fields the derive projects.
///
/// # Invariants
///
/// `pin` is never used to write the `R` other than through `R`'s own `Pin<&mut R>` methods.
pub struct RcuMut<'a, R: ?Sized> {
    pin: Pin<&'a mut R>,
}

impl<'a, R: ?Sized> RcuMut<'a, R> {
    /// Wraps a pinned mutable reference, giving up `Pin::set` and `&mut` access.
    #[inline]
    pub fn new(pin: Pin<&'a mut R>) -> Self {
        // INVARIANT: nothing has been written through `pin` by this wrapper yet.
        RcuMut { pin }
    }

    /// Reborrows for a shorter time, so that the consuming methods can be called more than once.
    #[inline]
    pub fn as_mut(&mut self) -> RcuMut<'_, R> {
        // INVARIANT: the reborrow is again an `RcuMut`, which keeps the same promise.
        RcuMut { pin: self.pin.as_mut() }
    }

    /// A pinned shared reference to the field.
    #[inline]
    pub fn as_ref(&self) -> Pin<&R> {
        self.pin.as_ref()
    }
}

impl<P: ForeignOwnable> RcuMut<'_, Rcu<P>> {
    /// Publishes `new` and returns the old pointer, if any, as an [`RcuOld`] that waits for a
    /// grace period before freeing it. See [`Rcu::replace`].
    #[inline]
    pub fn replace(self, new: P) -> Option<RcuOld<P>> {
        Rcu::replace(self.pin, new)
    }

    /// Publishes what `f` makes of the current value (`None` unpublishes) and returns the old
    /// pointer. See [`Rcu::copy_update`].
    #[inline]
    pub fn copy_update<F>(self, f: F) -> Option<RcuOld<P>>
    where
        F: FnOnce(Option<P::Borrowed<'_>>) -> Option<P>,
    {
        Rcu::copy_update(self.pin, f)
    }

    /// Unpublishes the pointer (stores null) and returns it. See [`Rcu::take`].
    #[inline]
    pub fn take(self) -> Option<RcuOld<P>> {
        Rcu::take(self.pin)
    }
}

impl<R: ?Sized> Deref for RcuMut<'_, R> {
    type Target = R;

    #[inline]
    fn deref(&self) -> &R {
        &self.pin
    }
}

impl<R: ?Sized + fmt::Debug> fmt::Debug for RcuMut<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RcuMut").field(&&*self.pin).finish()
    }
}
