//! The RCU-protected pointer.

use core::ffi::c_void;
use core::fmt;
use core::marker::{PhantomData, PhantomPinned};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::foreign::ForeignOwnableDeref;
use crate::{ForeignOwnable, Guard, RcuOld, RcuRef, Unchanged};

/// A pointer that readers follow without locks while an updater replaces what it points to.
///
/// Readers call [`dereference`](Rcu::dereference) with a [`Guard`] and get a borrow that lives as
/// long as the guard, even if the pointer is replaced meanwhile. The updater goes through
/// `Pin<&mut Rcu<P>>` ([`replace`](Rcu::replace), [`copy_update`](Rcu::copy_update),
/// [`take`](Rcu::take)) and gets the unpublished old value back as an [`RcuOld`], which frees it
/// only after a grace period.
///
/// Why `Pin<&mut Self>`: updaters must exclude each other (two updaters would both get the same
/// old value and free it twice), and a plain `&mut Rcu` would let safe code `mem::swap` two
/// `Rcu`s, a non-atomic move that readers reaching them through shared references would observe
/// half done. `Rcu` is therefore `!Unpin`, and a struct that contains one pins it structurally
/// (see `#[derive(RcuProtected)]` and [`RcuMutex`](crate::RcuMutex)).
///
/// `Rcu<P>` is `Send` when `P: Send + Sync` and `Sync` when `P: Sync`, like `Arc`: a borrow from
/// `dereference` lives as long as its guard, not as long as the `Rcu`, so a thread that sent the
/// `Rcu` away may still be reading the pointee (see the crate's
/// [thread-safety table](crate#thread-safety)).
///
/// ```
/// use rcu_runtime::{read_lock, Rcu};
/// use std::pin::pin;
///
/// let mut rcu = pin!(Rcu::new(Box::new(1)));
/// let guard = read_lock();
/// assert_eq!(rcu.dereference(&guard).copied(), Some(1));
/// drop(guard);
/// let old = rcu.as_mut().replace(Box::new(2)).unwrap();
/// assert_eq!(*old.wait(), 1); // a grace period, then the old box is ours again
/// assert_eq!(rcu.dereference(&read_lock()).copied(), Some(2));
/// ```
///
/// # Invariants
///
/// `ptr` is null or a pointer from `P::into_foreign` that this `Rcu` owns.
pub struct Rcu<P: ForeignOwnable> {
    ptr: AtomicPtr<c_void>,
    _owns: PhantomData<P>,
    _pinned: PhantomPinned,
}

// SAFETY: sending an `Rcu<P>` sends the `P` it owns, which the receiving thread may drop or take
// back (`P: Send`). It also shares the pointee: a borrow from `dereference` is tied to its guard,
// not to the `Rcu`, so the sending thread may still hold a `P::Borrowed` while the receiving
// thread makes its own, and two threads then use the pointee at once. A `Borrowed` gives no more
// than `&P` does (the `ForeignOwnable` contract), so `P: Sync` makes that sound. (The rule of
// `Arc<T>`, which needs `T: Send + Sync` to be `Send` for the same reason.)
unsafe impl<P: ForeignOwnable + Send + Sync> Send for Rcu<P> {}
// SAFETY: through `&Rcu<P>` other threads only get `P::Borrowed` (no more than `&P`, the
// `ForeignOwnable` contract), which `P: Sync` makes safe to have on several threads; replacing or
// dropping the `P` needs `Pin<&mut Rcu>` or ownership, which `&Rcu` does not give.
unsafe impl<P: ForeignOwnable + Sync> Sync for Rcu<P> {}

impl<P: ForeignOwnable> Rcu<P> {
    /// Creates a pointer that publishes `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rcu = rcu_runtime::Rcu::new(Box::new(1));
    /// assert!(!rcu.is_null());
    /// ```
    pub fn new(value: P) -> Self {
        // INVARIANT: `into_foreign` gives a non-null pointer that we now own.
        Self { ptr: AtomicPtr::new(value.into_foreign()), _owns: PhantomData, _pinned: PhantomPinned }
    }

    /// Creates a pointer that publishes nothing yet.
    ///
    /// Readers get `None` until an updater publishes a value with [`replace`](Self::replace) or
    /// [`copy_update`](Self::copy_update), which need `Pin<&mut Rcu>`: the `Rcu` must live in a
    /// pinned place its updater can reach mutably, such as a local pinned with [`pin!`], or a
    /// field of a struct behind an [`RcuMutex`](crate::RcuMutex). Publishing into a null `Rcu`
    /// retires nothing, so no grace period is waited for.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use rcu_runtime::{read_lock, Rcu};
    ///
    /// let mut latest = pin!(Rcu::<Box<String>>::null());
    /// assert!(latest.dereference(&read_lock()).is_none()); // nothing published yet
    /// let old = latest.as_mut().replace(Box::new(String::from("v1")));
    /// assert!(old.is_none()); // nothing was retired
    /// assert_eq!(latest.dereference(&read_lock()).map(|s| s.as_str()), Some("v1"));
    /// ```
    ///
    /// A field that starts out empty and is filled in later, under the lock:
    ///
    /// ```
    /// use rcu_runtime::{read_lock, Rcu, RcuMutex, RcuProtected};
    ///
    /// #[derive(RcuProtected)]
    /// struct Service {
    ///     #[rcu]
    ///     certificate: Rcu<Box<Vec<u8>>>, // none until the first one is loaded
    /// }
    ///
    /// let service = RcuMutex::new(Service { certificate: Rcu::null() });
    /// assert!(service.rcu().certificate().dereference(&read_lock()).is_none());
    ///
    /// let mut writer = service.lock();
    /// let old = writer.project().certificate.replace(Box::new(vec![0x30, 0x82]));
    /// assert!(old.is_none());
    /// drop(writer);
    /// assert_eq!(service.rcu().certificate().dereference(&read_lock()).map(|c| c.len()), Some(2));
    /// ```
    ///
    /// [`pin!`]: core::pin::pin
    pub const fn null() -> Self {
        // INVARIANT: null.
        Self { ptr: AtomicPtr::new(ptr::null_mut()), _owns: PhantomData, _pinned: PhantomPinned }
    }

    /// Reads the pointer inside a read-side critical section.
    ///
    /// The borrow lives as long as the guard, not as long as `&self`: whatever the updater does
    /// meanwhile, the value is freed only after a grace period, which waits for this guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, Rcu};
    ///
    /// let rcu = Rcu::new(Box::new(String::from("hello")));
    /// let guard = read_lock();
    /// let s: Option<&String> = rcu.dereference(&guard);
    /// assert_eq!(s.map(String::len), Some(5));
    /// ```
    #[inline]
    pub fn dereference<'rcu>(&self, _guard: &'rcu Guard) -> Option<P::Borrowed<'rcu>> {
        // Acquire: pairs with the Release store that published the pointer, so the pointee's
        // initialization is visible. (The kernel relies on address dependencies with a Relaxed
        // load; the Rust memory model offers no such guarantee in userspace.)
        let ptr = self.ptr.load(Ordering::Acquire);
        if ptr.is_null() {
            return None;
        }
        // SAFETY: `ptr` came from `P::into_foreign` (invariant). `from_foreign` is called on it
        // only by `RcuOld` or `Rcu::drop`, both after a grace period that starts after the pointer
        // was unpublished, so after this guard's critical section, which outlives `'rcu`.
        Some(unsafe { P::borrow(ptr) })
    }

    /// A snapshot of the current value that carries its own read-side critical section, for
    /// one-liners and for functions that return what they looked up; see [`RcuCell::read`].
    ///
    /// # Examples
    ///
    /// ```
    /// let rcu = rcu_runtime::Rcu::new(Box::new(String::from("hello")));
    /// assert_eq!(rcu.read().map(|s| s.len()), Some(5));
    /// ```
    ///
    /// [`RcuCell::read`]: crate::RcuCell::read
    #[inline]
    pub fn read(&self) -> Option<RcuRef<'_, P::Target>>
    where
        P: ForeignOwnableDeref,
    {
        crate::rcu_ref::snapshot::<P>(|guard| self.dereference(guard))
    }

    /// Whether the pointer publishes nothing right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// let mut rcu = pin!(rcu_runtime::Rcu::new(Box::new(1)));
    /// assert!(!rcu.is_null());
    /// drop(rcu.as_mut().take());
    /// assert!(rcu.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        self.ptr.load(Ordering::Relaxed).is_null()
    }

    /// Publishes what `f` makes of the current value (`None` unpublishes) and returns the old one.
    ///
    /// `f` sees the current value, borrowed; it typically copies it, changes the copy and returns
    /// it. Readers see either the old value or the new one, never a mix. `f` runs once: this is
    /// the only updater. To leave the value as it is when `f` decides so, use
    /// [`fetch_update`](Rcu::fetch_update), whose `None` means "no change" (std's convention).
    ///
    /// ```
    /// use rcu_runtime::Rcu;
    /// use std::pin::pin;
    ///
    /// let mut list = pin!(Rcu::new(Box::new(vec![1, 2])));
    /// let old = list.as_mut().copy_update(|cur| {
    ///     let mut next = cur.cloned().unwrap_or_default();
    ///     next.push(3);
    ///     Some(Box::new(next))
    /// });
    /// assert_eq!(*old.unwrap().wait(), vec![1, 2]);
    /// ```
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    pub fn copy_update<F>(self: Pin<&mut Self>, f: F) -> Option<RcuOld<P>>
    where
        F: FnOnce(Option<P::Borrowed<'_>>) -> Option<P>,
    {
        match self.update(|current| Some(f(current))) {
            Ok(old) => old,
            Err(Unchanged) => unreachable!("the closure always returns a new value"),
        }
    }

    /// Publishes what `f` makes of the current value, unless `f` returns `None`, which leaves the
    /// value as it is (std's `fetch_update` convention).
    ///
    /// Returns `Ok` with the old value (`Ok(None)` if nothing was published) when `f` returned a
    /// new value, `Err(Unchanged)` when it returned `None`. To unpublish, use
    /// [`copy_update`](Rcu::copy_update) or [`take`](Rcu::take).
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{Rcu, Unchanged};
    /// use std::pin::pin;
    ///
    /// let mut limit = pin!(Rcu::new(Box::new(10_u32)));
    /// // Raise the limit, never lower it.
    /// assert!(matches!(limit.as_mut().fetch_update(|cur| (cur.copied() < Some(5)).then(|| Box::new(5))), Err(Unchanged)));
    /// let old = limit.as_mut().fetch_update(|cur| (cur.copied() < Some(20)).then(|| Box::new(20)));
    /// assert_eq!(old.unwrap().map(|old| *old.wait()), Some(10));
    /// ```
    pub fn fetch_update<F>(self: Pin<&mut Self>, f: F) -> Result<Option<RcuOld<P>>, Unchanged>
    where
        F: FnOnce(Option<P::Borrowed<'_>>) -> Option<P>,
    {
        self.update(|current| f(current).map(Some))
    }

    /// The update of `copy_update` and `fetch_update`: `f` returns `None` to leave the value as
    /// it is, `Some(new)` to publish `new` (`Some(None)` unpublishes).
    fn update<F>(self: Pin<&mut Self>, f: F) -> Result<Option<RcuOld<P>>, Unchanged>
    where
        F: FnOnce(Option<P::Borrowed<'_>>) -> Option<Option<P>>,
    {
        let this = self.into_ref().get_ref();
        // Relaxed: `Pin<&mut Self>` makes us the only updater, and earlier updates by other
        // threads happen before ours through whatever gave us the `Pin<&mut Self>`.
        let old = this.ptr.load(Ordering::Relaxed);
        let current = if old.is_null() {
            None
        } else {
            // SAFETY: `old` came from `P::into_foreign` (invariant) and is reclaimed by no one
            // while `f` runs: only this updater could, and it is busy here.
            Some(unsafe { P::borrow(old) })
        };
        let new = f(current).ok_or(Unchanged)?.map_or(ptr::null_mut(), P::into_foreign);
        // Release: pairs with the Acquire load in `dereference`, publishing the new value's
        // initialization.
        // INVARIANT: `new` is null or fresh from `P::into_foreign`; ownership of `old` moves to
        // the `RcuOld` below.
        this.ptr.store(new, Ordering::Release);
        // SAFETY: `old` is unpublished by the store above and owned by us; `from_unpublished`
        // records the grace-period state after that store.
        Ok(NonNull::new(old).map(|old| unsafe { RcuOld::from_unpublished(old) }))
    }

    /// Publishes `new` and returns the old value, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, Rcu};
    /// use std::pin::pin;
    ///
    /// let mut rcu = pin!(Rcu::new(Box::new(1)));
    /// let old = rcu.as_mut().replace(Box::new(2));
    /// assert_eq!(old.map(|old| *old.wait()), Some(1));
    /// assert_eq!(rcu.dereference(&read_lock()).copied(), Some(2));
    /// ```
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    pub fn replace(self: Pin<&mut Self>, new: P) -> Option<RcuOld<P>> {
        self.copy_update(|_| Some(new))
    }

    /// Unpublishes the value and returns it, if any.
    ///
    /// ```
    /// use rcu_runtime::{read_lock, Rcu};
    /// use std::pin::pin;
    ///
    /// let mut rcu = pin!(Rcu::new(Box::new("gone")));
    /// rcu.as_mut().take().unwrap().defer_drop();
    /// assert!(rcu.dereference(&read_lock()).is_none());
    /// ```
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    pub fn take(self: Pin<&mut Self>) -> Option<RcuOld<P>> {
        self.copy_update(|_| None)
    }
}

impl<P: ForeignOwnable> Drop for Rcu<P> {
    /// Waits for a grace period, then drops the value (on the callback worker: see [`RcuOld`]).
    ///
    /// # Panics
    ///
    /// When non-null, inside a read-side critical section on the same thread (see [`RcuOld`]).
    fn drop(&mut self) {
        let ptr = *self.ptr.get_mut();
        if let Some(ptr) = NonNull::new(ptr) {
            // Readers that dereferenced this `Rcu` through a shared reference may still hold
            // borrows of the value: it must wait for a grace period like any unpublished value.
            // SAFETY: we own `ptr` (invariant), and nobody can publish it again.
            drop(unsafe { RcuOld::<P>::from_unpublished(ptr) });
        }
    }
}

/// Not an iterator: this impl exists only for its error message.
///
/// `rcu.take()` on a `&Rcu` would otherwise resolve to `Iterator::take` and say "`&Rcu<..>` is not
/// an iterator", which hides the real mistake (updating through a shared reference). With this
/// impl, whose bound nothing satisfies (a sealed trait without impls), the compiler reports that
/// bound instead, with a message that names `Pin<&mut Rcu>` and `RcuCell`. The body never runs.
#[doc(hidden)]
impl<P: ForeignOwnable + update_needs::PinMutRcuOrRcuCell> Iterator for &Rcu<P> {
    type Item = core::convert::Infallible;

    fn next(&mut self) -> Option<Self::Item> {
        P::unreachable()
    }
}

/// See the same for `&Rcu`: `rcu.take()` on an `Rcu` that is not pinned.
#[doc(hidden)]
impl<P: ForeignOwnable + update_needs::PinMutRcuOrRcuCell> Iterator for Rcu<P> {
    type Item = core::convert::Infallible;

    fn next(&mut self) -> Option<Self::Item> {
        P::unreachable()
    }
}

mod update_needs {
    /// Implemented by no type: see the `Iterator` impls of `Rcu`. Its path is what the compiler
    /// quotes when `take` is called on a `&Rcu`: "`Box<u32>: rcu_runtime::rcu::update_needs::
    /// PinMutRcuOrRcuCell` ... required by `&Rcu<Box<u32>>: Iterator`".
    #[diagnostic::on_unimplemented(
        message = "an `Rcu<{Self}>` is not an iterator, and it is updated only through `Pin<&mut Rcu<{Self}>>`",
        label = "not an iterator; `Rcu::take` and the other updates need `Pin<&mut Rcu>`",
        note = "`Rcu::take`, `replace`, `copy_update` and `fetch_update` take `self: Pin<&mut Self>`, which proves there is one updater: pin the `Rcu` (`std::pin::pin!`, or a field of an `RcuMutex`) and call `rcu.as_mut().take()`",
        note = "for a pointer that any thread updates through `&self`, use `RcuCell<{Self}>`: `cell.take()`"
    )]
    pub trait PinMutRcuOrRcuCell {
        /// Never called: nothing implements the trait.
        fn unreachable<R>() -> R;
    }
}

impl<P: ForeignOwnable> Default for Rcu<P> {
    fn default() -> Self {
        Self::null()
    }
}

impl<P: ForeignOwnable> fmt::Debug for Rcu<P>
where
    for<'a> P::Borrowed<'a>: fmt::Debug,
{
    /// Shows the current value, read inside a critical section of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = crate::read_lock();
        f.debug_tuple("Rcu").field(&self.dereference(&guard)).finish()
    }
}
