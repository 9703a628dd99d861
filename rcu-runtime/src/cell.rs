//! [`RcuCell`]: one RCU-protected pointer that any thread updates through `&self`.

use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::engine;
use crate::foreign::ForeignOwnableDeref;
use crate::{ForeignOwnable, Guard, RcuOld, RcuRef, read_lock};

/// One RCU-protected pointer that readers follow without locks and that any thread replaces
/// through `&self`: the everyday job people use arc-swap for (a configuration, a routing table,
/// a certificate that is reloaded now and then).
///
/// - Readers, on any thread: [`dereference`](RcuCell::dereference) under a [`Guard`], or
///   [`read`](RcuCell::read) for a snapshot that carries its own guard. No atomic
///   read-modify-write, no reference count.
/// - Updaters, on any thread, lock-free: [`replace`](RcuCell::replace) (an atomic swap),
///   [`take`](RcuCell::take), [`copy_update`](RcuCell::copy_update) and
///   [`fetch_update`](RcuCell::fetch_update) (compare-and-exchange loops). Each returns the
///   unpublished value as an [`RcuOld`], which frees it after a grace period (dropping it waits;
///   `defer_drop` and `drop_async` do not).
///
/// It can be a `static` ([`RcuCell::null`] is `const`) or live inside an `Arc`, and it is
/// `Unpin`: unlike [`Rcu`](crate::Rcu), whose single updater is proved by `Pin<&mut Rcu>`,
/// updaters here exclude nothing but each other's lost updates, which the atomic operations
/// handle. An `RcuCell` is the right choice for one pointer; a struct of several pointers
/// updated together under a lock is an [`RcuMutex`](crate::RcuMutex)'s job.
///
/// # Compared with arc-swap
///
/// | arc-swap | `RcuCell<Arc<T>>` | |
/// |---|---|---|
/// | `ArcSwap::from_pointee(v)` | `RcuCell::new(Arc::new(v))` | also `RcuCell::null()`, `const` |
/// | `load()` | [`read()`](RcuCell::read) | an [`RcuRef`], which holds a read-side section, not a debt slot |
/// | `load()` in a loop | [`dereference(&guard)`](RcuCell::dereference) | one guard for many reads |
/// | `load_full()` | `dereference(&g)?.to_arc()` | one reference-count increment, as `load_full` ([`ArcBorrow`](crate::ArcBorrow)) |
/// | `store(v)` | `replace(v)` | gives back the old value as an `RcuOld`: choose how to free it |
/// | `swap(v)` | `replace(v)?.wait()` | the old `Arc`, once no reader borrows it |
/// | `rcu(f)` | [`copy_update(f)`](RcuCell::copy_update) | same retry loop; `f` sees `Option<ArcBorrow<T>>` |
/// | `compare_and_swap` | [`fetch_update`](RcuCell::fetch_update) | the closure decides, std's convention |
///
/// Beyond `Arc`, `RcuCell<Box<T>>` needs no reference counts at all: readers borrow under their
/// guard, and the box is freed after a grace period.
///
/// `RcuCell<P>` is `Send` and `Sync` when `P: Send + Sync`. `Sync` needs `P: Send` because an
/// updater on any thread may take the old `P` out through `&self` and drop it there, and
/// `P: Sync` because readers on every thread borrow the pointee at once; `Send` needs both
/// because a borrow from `dereference` lives as long as its guard, not as long as the cell (see
/// the crate's [thread-safety table](crate#thread-safety)).
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, RcuCell};
/// use std::thread;
///
/// static ROUTES: RcuCell<Box<Vec<&str>>> = RcuCell::null();
///
/// ROUTES.replace(Box::new(vec!["10.0.0.0/8"]));
/// thread::scope(|s| {
///     s.spawn(|| {
///         let guard = read_lock();
///         let routes = ROUTES.dereference(&guard).unwrap();
///         assert!(!routes.is_empty());
///     });
///     s.spawn(|| {
///         // Another thread reloads: the reader keeps whichever version it saw.
///         if let Some(old) = ROUTES.replace(Box::new(vec!["10.0.0.0/8", "192.168.0.0/16"])) {
///             old.defer_drop();
///         }
///     });
/// });
/// assert_eq!(ROUTES.read().unwrap().len(), 2);
/// ```
///
/// # Invariants
///
/// `ptr` is null or a pointer from `P::into_foreign` that this cell owns.
pub struct RcuCell<P: ForeignOwnable> {
    ptr: AtomicPtr<c_void>,
    _owns: PhantomData<P>,
}

// SAFETY: sending the cell sends the `P` it owns (`P: Send`), and shares the pointee: a borrow
// from `dereference` is tied to its guard, not to the cell, so the sending thread may still use
// a `P::Borrowed` while the receiving thread makes its own. A `Borrowed` gives no more than `&P`
// does (the `ForeignOwnable` contract), so `P: Sync` makes that sound.
unsafe impl<P: ForeignOwnable + Send + Sync> Send for RcuCell<P> {}
// SAFETY: through `&RcuCell<P>` a thread may
// - borrow the pointee (`P::Borrowed`, no more than `&P`) concurrently with other threads:
//   `P: Sync`;
// - replace or take the value and so get the old `P` (through `RcuOld`) and drop it, or publish
//   a `P` made on this thread that another thread will take and drop: `P: Send`.
unsafe impl<P: ForeignOwnable + Send + Sync> Sync for RcuCell<P> {}

/// The value that [`RcuCell::fetch_update`], [`Rcu::fetch_update`](crate::Rcu::fetch_update) and
/// [`RcuMut::fetch_update`](crate::RcuMut::fetch_update) return when their closure returned `None`
/// ("leave it as it is"): nothing was published or retired.
///
/// Plain data: `Send` and `Sync`.
///
/// # Examples
///
/// ```
/// use rcu_runtime::{RcuCell, Unchanged};
///
/// let cell = RcuCell::new(Box::new(3));
/// assert!(matches!(cell.fetch_update(|_| None), Err(Unchanged)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Unchanged;

impl fmt::Display for Unchanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the update closure left the value unchanged")
    }
}

impl std::error::Error for Unchanged {}

impl<P: ForeignOwnable> RcuCell<P> {
    /// Creates a cell that publishes `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuCell;
    /// use std::sync::Arc;
    ///
    /// let shared = Arc::new(RcuCell::new(Box::new(1)));
    /// let other = Arc::clone(&shared);
    /// std::thread::spawn(move || drop(other.replace(Box::new(2)))).join().unwrap();
    /// assert_eq!(*shared.read().unwrap(), 2);
    /// ```
    pub fn new(value: P) -> Self {
        // INVARIANT: `into_foreign` gives a non-null pointer that we now own.
        Self { ptr: AtomicPtr::new(value.into_foreign()), _owns: PhantomData }
    }

    /// Creates a cell that publishes nothing yet; `const`, so it can initialize a `static`.
    ///
    /// Readers get `None` until an updater publishes a value.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuCell};
    ///
    /// static CERTIFICATE: RcuCell<Box<Vec<u8>>> = RcuCell::null();
    ///
    /// assert!(CERTIFICATE.dereference(&read_lock()).is_none());
    /// assert!(CERTIFICATE.replace(Box::new(vec![0x30, 0x82])).is_none()); // nothing retired
    /// assert_eq!(CERTIFICATE.read().map(|c| c.len()), Some(2));
    /// ```
    pub const fn null() -> Self {
        // INVARIANT: null.
        Self { ptr: AtomicPtr::new(ptr::null_mut()), _owns: PhantomData }
    }

    /// Reads the pointer inside a read-side critical section.
    ///
    /// The borrow lives as long as the guard, not as long as `&self`: whatever updaters do
    /// meanwhile, the value is freed only after a grace period, which waits for this guard.
    /// For `P = Arc<T>` the borrow is an [`ArcBorrow`](crate::ArcBorrow), which can make an
    /// owned `Arc<T>` that outlives the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuCell};
    ///
    /// let cell = RcuCell::new(Box::new(String::from("hello")));
    /// let guard = read_lock();
    /// let s: Option<&String> = cell.dereference(&guard);
    /// assert_eq!(s.map(String::len), Some(5));
    /// ```
    #[inline]
    pub fn dereference<'g>(&self, _guard: &'g Guard) -> Option<P::Borrowed<'g>> {
        // Acquire: pairs with the Release half of the swap or compare-exchange that published the
        // pointer, so the pointee's initialization is visible.
        let ptr = self.ptr.load(Ordering::Acquire);
        if ptr.is_null() {
            return None;
        }
        // SAFETY: `ptr` came from `P::into_foreign` (invariant). `from_foreign` is called on it
        // only through an `RcuOld` (or this cell's drop), after a grace period that started after
        // it was unpublished, so after this guard's critical section, which outlives `'g`.
        Some(unsafe { P::borrow(ptr) })
    }

    /// A snapshot of the current value that carries its own read-side critical section: for
    /// one-liners, and for functions that return what they looked up (arc-swap's `load()`).
    ///
    /// The [`RcuRef`] dereferences to the value (`&T` for `Box<T>`, `Arc<T>`, `Pin<Box<T>>` and
    /// `RcuBox<T>`; see [`ForeignOwnableDeref`](crate::ForeignOwnableDeref)); the section ends
    /// when it is dropped. To read several pointers, take one guard and
    /// [`dereference`](RcuCell::dereference) them under it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuCell;
    ///
    /// static GREETING: RcuCell<Box<String>> = RcuCell::null();
    /// GREETING.replace(Box::new(String::from("hello")));
    /// assert_eq!(GREETING.read().map(|s| s.len()), Some(5));
    /// ```
    #[inline]
    pub fn read(&self) -> Option<RcuRef<'_, P::Target>>
    where
        P: ForeignOwnableDeref,
    {
        crate::rcu_ref::snapshot::<P>(|guard| self.dereference(guard))
    }

    /// Whether the cell publishes nothing right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let cell = rcu_runtime::RcuCell::new(Box::new(1));
    /// assert!(!cell.is_null());
    /// cell.take().unwrap().defer_drop();
    /// assert!(cell.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        // Relaxed: a snapshot that orders nothing; `dereference` is the way to read the value.
        self.ptr.load(Ordering::Relaxed).is_null()
    }

    /// Publishes `new` and returns the old value, if any: one atomic swap, from any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuCell;
    ///
    /// let cell = RcuCell::new(Box::new(1));
    /// let old = cell.replace(Box::new(2)).unwrap();
    /// assert_eq!(*old.wait(), 1); // after a grace period, the old box is ours again
    /// assert_eq!(*cell.read().unwrap(), 2);
    /// ```
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    pub fn replace(&self, new: P) -> Option<RcuOld<P>> {
        // INVARIANT: `new` is fresh from `P::into_foreign`; the old pointer's ownership moves to
        // the `RcuOld` below.
        // AcqRel: Release publishes the new value's initialization to `dereference`'s Acquire
        // load; Acquire pairs with the Release of the update that published the old value, which
        // we now own and will drop.
        let old = self.ptr.swap(new.into_foreign(), Ordering::AcqRel);
        // SAFETY: `old` is unpublished by the swap above (no new reader can load it) and owned
        // by us; `from_unpublished` records the grace-period state after that.
        NonNull::new(old).map(|old| unsafe { RcuOld::from_unpublished(old) })
    }

    /// Unpublishes the value and returns it, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuCell;
    ///
    /// let cell = RcuCell::new(Box::new("gone"));
    /// cell.take().unwrap().defer_drop();
    /// assert!(cell.read().is_none());
    /// ```
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    pub fn take(&self) -> Option<RcuOld<P>> {
        // AcqRel, as in `replace`.
        let old = self.ptr.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `replace`.
        NonNull::new(old).map(|old| unsafe { RcuOld::from_unpublished(old) })
    }

    /// Publishes what `f` makes of the current value (`None` empties the cell) and returns the
    /// old value: arc-swap's `rcu`, lock-free, from any thread.
    ///
    /// `f` sees the current value, borrowed (`None` when the cell is empty); it typically copies
    /// it, changes the copy and returns it. The cell is then updated with a compare-and-exchange.
    /// If another updater changed the cell in between, **`f` runs again** with the newer value,
    /// and the value `f` built in the losing round is dropped (on this thread, after the round's
    /// read-side section): `f` must be cheap enough to repeat and free of side effects that must
    /// happen once. Each round runs `f` inside a read-side critical section of its own, which
    /// keeps the borrowed value valid (it cannot be freed, nor its address reused, until the
    /// round is over); so `f` must not wait for a grace period (that would panic).
    ///
    /// To leave the value as it is when `f` decides so, use [`fetch_update`](RcuCell::fetch_update),
    /// whose `None` means "no change". To retire the old value without waiting, call
    /// `defer_drop`, `drop_async` or `wait_async` on the result.
    ///
    /// If `f` panics, nothing is published; the values of earlier losing rounds have been
    /// dropped already.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuCell;
    /// use std::thread;
    ///
    /// let hits = RcuCell::new(Box::new(vec![]));
    /// thread::scope(|s| {
    ///     for t in 0..2 {
    ///         let hits = &hits;
    ///         s.spawn(move || {
    ///             for i in 0..50 {
    ///                 let old = hits.copy_update(|cur| {
    ///                     let mut next = cur.cloned().unwrap_or_default();
    ///                     next.push(t * 100 + i);
    ///                     Some(Box::new(next))
    ///                 });
    ///                 old.unwrap().defer_drop();
    ///             }
    ///         });
    ///     }
    /// });
    /// assert_eq!(hits.read().unwrap().len(), 100); // no update lost
    /// ```
    #[must_use = "the old value is returned as an RcuOld: dropping it right away waits for a grace \
                  period; use `.defer_drop()`, `.drop_async()` or `.wait_async()` not to wait"]
    pub fn copy_update<F>(&self, mut f: F) -> Option<RcuOld<P>>
    where
        F: FnMut(Option<P::Borrowed<'_>>) -> Option<P>,
    {
        match self.update_loop(|current| Some(f(current))) {
            Ok(old) => old,
            Err(Unchanged) => unreachable!("the closure always returns a new value"),
        }
    }

    /// Publishes what `f` makes of the current value, unless `f` returns `None`, which leaves the
    /// value as it is (std's `fetch_update` convention); lock-free, from any thread.
    ///
    /// Returns `Ok` with the old value (`Ok(None)` if the cell was empty) when `f` returned a new
    /// one and it was published, `Err(Unchanged)` when `f` returned `None`. As with
    /// [`copy_update`](RcuCell::copy_update), `f` runs again if another updater changed the cell
    /// in between, a value built in a losing round is dropped, and each round runs inside a
    /// read-side critical section of its own. To empty the cell, use `copy_update` or `take`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{RcuCell, Unchanged};
    ///
    /// let version = RcuCell::new(Box::new(3_u32));
    /// // Only ever move forward.
    /// let bump_to = |v: u32| version.fetch_update(|cur| (cur.copied() < Some(v)).then(|| Box::new(v)));
    /// assert_eq!(bump_to(5).unwrap().map(|old| *old.wait()), Some(3));
    /// assert!(matches!(bump_to(4), Err(Unchanged))); // 5 stays
    /// assert_eq!(*version.read().unwrap(), 5);
    /// ```
    pub fn fetch_update<F>(&self, mut f: F) -> Result<Option<RcuOld<P>>, Unchanged>
    where
        F: FnMut(Option<P::Borrowed<'_>>) -> Option<P>,
    {
        self.update_loop(|current| f(current).map(Some))
    }

    /// The compare-and-exchange loop of `copy_update` and `fetch_update` (`engine::publish`):
    /// `f` returns `None` to leave the cell as it is, `Some(new)` to publish `new` (`Some(None)`
    /// empties the cell).
    fn update_loop<F>(&self, mut f: F) -> Result<Option<RcuOld<P>>, Unchanged>
    where
        F: FnMut(Option<P::Borrowed<'_>>) -> Option<Option<P>>,
    {
        let borrow_and_build = |current: *mut c_void| {
            let borrowed = if current.is_null() {
                None
            } else {
                // SAFETY: `current` came from `P::into_foreign` (invariant) and was loaded inside
                // the round's read-side section, which lasts until after this closure returns
                // (`publish::update`): an updater that unpublishes it meanwhile frees it only
                // after a grace period, which waits for that section.
                Some(unsafe { P::borrow(current) })
            };
            f(borrowed).map(|new| new.map_or(ptr::null_mut(), P::into_foreign))
        };
        // The losing round's value was never published: it is dropped as an ordinary value,
        // outside the round's read-side section (its drop may wait for a grace period).
        // SAFETY: `lost` came from `P::into_foreign` in the round that lost; no one else has seen it.
        let discard = |lost: *mut c_void| drop(unsafe { P::from_foreign(lost) });
        // SAFETY: every pointer published in the cell is freed only after a grace period that
        // starts after its unpublication (through `RcuOld`, or the cell's drop), and `read_lock`
        // enters a section of the same (process-wide) domain; what `f` returns is ours until
        // published.
        let outcome = unsafe { engine::publish::update(&self.ptr, read_lock, borrow_and_build, discard) };
        let old = outcome.ok_or(Unchanged)?;
        // INVARIANT: the exchange published a null or fresh `P::into_foreign` pointer; the
        // ownership of `old` moves to the `RcuOld`.
        // SAFETY: `old` is unpublished by the exchange and owned by us.
        Ok(NonNull::new(old).map(|old| unsafe { RcuOld::from_unpublished(old) }))
    }
}

impl<P: ForeignOwnable> Drop for RcuCell<P> {
    /// Waits for a grace period, then drops the value (on the callback worker: see [`RcuOld`]).
    ///
    /// # Panics
    ///
    /// When non-null, inside a read-side critical section on the same thread (see [`RcuOld`]).
    fn drop(&mut self) {
        let ptr = *self.ptr.get_mut();
        if let Some(ptr) = NonNull::new(ptr) {
            // Readers that dereferenced this cell may still hold borrows of the value (they are
            // tied to their guards, not to the cell): it waits for a grace period like any
            // unpublished value.
            // SAFETY: we own `ptr` (invariant), and nobody can publish or reach it through the
            // cell again (`&mut self`).
            drop(unsafe { RcuOld::<P>::from_unpublished(ptr) });
        }
    }
}

impl<P: ForeignOwnable> Default for RcuCell<P> {
    fn default() -> Self {
        Self::null()
    }
}

impl<P: ForeignOwnable> From<P> for RcuCell<P> {
    fn from(value: P) -> Self {
        Self::new(value)
    }
}

impl<P: ForeignOwnable> fmt::Debug for RcuCell<P>
where
    for<'a> P::Borrowed<'a>: fmt::Debug,
{
    /// Shows the current value, read inside a critical section of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = read_lock();
        f.debug_tuple("RcuCell").field(&self.dereference(&guard)).finish()
    }
}
