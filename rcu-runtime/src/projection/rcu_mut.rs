//! [`RcuMut`]: what the updater's pinned projection gives for an `#[rcu]` field.
//!
//! See the module documentation of `protected.rs` for why it is not `Pin<&mut Rcu<P>>`.

use core::fmt;
use core::ops::Deref;
use core::pin::Pin;

use crate::{ForeignOwnable, Rcu, RcuOld, Unchanged};

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
/// several calls. A second update through the same field without it is "use of moved value:
/// `p.field`" (the compiler suggests `as_mut()` for `Pin` only):
///
/// ```
/// use rcu_runtime::{Rcu, RcuMutex, RcuProtected};
///
/// #[derive(RcuProtected)]
/// struct Config { #[rcu] routes: Rcu<Box<u32>> }
///
/// let config = RcuMutex::new(Config { routes: Rcu::null() });
/// let mut writer = config.lock();
/// let mut p = writer.project();
/// assert!(p.routes.as_mut().replace(Box::new(1)).is_none()); // reborrowed: `p.routes` lives on
/// p.routes.replace(Box::new(2)).unwrap().defer_drop();       // the last use may consume it
/// ```
///
/// `R` is the field's type, always an `Rcu<P>` for the fields the derive projects.
///
/// `RcuMut<'_, R>` is `Send` when `R: Send` and `Sync` when `R: Sync`, as `Pin<&mut R>`; for
/// `R = Rcu<P>` that is `P: Send + Sync` and `P: Sync`, since the updater's borrows of the current
/// value (through `Deref`) are tied to a guard and outlive a hand-over of the `RcuMut`.
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
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    #[inline]
    pub fn replace(self, new: P) -> Option<RcuOld<P>> {
        Rcu::replace(self.pin, new)
    }

    /// Publishes what `f` makes of the current value (`None` unpublishes) and returns the old
    /// pointer. See [`Rcu::copy_update`]; to leave the value as it is when `f` returns `None`,
    /// use [`RcuMut::fetch_update`].
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    #[inline]
    pub fn copy_update<F>(self, f: F) -> Option<RcuOld<P>>
    where
        F: FnOnce(Option<P::Borrowed<'_>>) -> Option<P>,
    {
        Rcu::copy_update(self.pin, f)
    }

    /// Publishes what `f` makes of the current value unless `f` returns `None`, which leaves it
    /// as it is (std's convention). See [`Rcu::fetch_update`].
    #[inline]
    pub fn fetch_update<F>(self, f: F) -> Result<Option<RcuOld<P>>, Unchanged>
    where
        F: FnOnce(Option<P::Borrowed<'_>>) -> Option<P>,
    {
        Rcu::fetch_update(self.pin, f)
    }

    /// Unpublishes the pointer (stores null) and returns it. See [`Rcu::take`].
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
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
