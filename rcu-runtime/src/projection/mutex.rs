//! [`RcuMutex`]: a writer lock around a struct whose `#[rcu]` fields readers reach without it.
//!
//! # The aliasing argument
//!
//! Readers and the updater use the same `T` at the same time, and the code relies on the
//! following to make that sound:
//!
//! 1. The `T` is boxed once by [`RcuMutex::new`] and never moves until [`RcuMutex::into_inner`]
//!    or the drop, both of which need the mutex by value (or `&mut`), hence no reader or guard.
//!    So handing out `Pin<&mut T>` and `Pin<&T>` is sound. The box is kept as a raw pointer, not
//!    a `Box`, so that no `Box` asserts unique ownership while readers alias its contents.
//! 2. Readers reach each `#[rcu]` field by raw-pointer projection
//!    ([`RawView`](crate::__private::RawView)), never through a `&T`; they get `&Rcu<P>` and
//!    nothing else.
//! 3. The updater's `Pin<&mut T>` (made only to call [`RcuProtected::project`], under the lock)
//!    is to a `!Unpin` `T` whenever `T` has an `#[rcu]` field (an `Rcu` is `!Unpin`, and the
//!    derive's `Unpin` impl requires every pinned field to be `Unpin`), so neither it nor the
//!    `&mut Rcu<P>` inside the projection asserts uniqueness: rustc emits no `noalias` for `&mut`
//!    to a `!Unpin` type. The `Rcu`'s only state is an atomic pointer, an `UnsafeCell`, which may
//!    change while readers hold `&Rcu<P>`.
//! 4. The projection gives `#[rcu]` fields as [`RcuMut`](crate::RcuMut), which publishes through
//!    the atomic but cannot overwrite the `Rcu` in place (no `Pin::set`), so no plain write ever
//!    races with a reader's atomic load. For the same reason [`RcuMutexGuard::as_mut`] is `unsafe`.
//! 5. Fields without `#[rcu]` are reached only by the lock holder.
//!
//! # Poisoning
//!
//! `RcuMutex` does not poison. A panic while a guard is held releases the lock, and the next
//! [`RcuMutex::lock`] succeeds and sees whatever the panicking updater left. Readers could not be
//! protected by poisoning anyway (they take no lock), and what they see is always consistent:
//! each publication is a single atomic store. Writer-only fields may hold a half-done update; an
//! updater that cares can record progress in them.

use core::cell::UnsafeCell;
use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use crate::__private::RawView;
use crate::RcuProtected;
use crate::writer_lock::{WriterGuard, WriterLock};

/// A writer lock around a `T: RcuProtected` whose `#[rcu]` fields readers reach without the lock.
///
/// - Readers, on any thread: [`RcuMutex::rcu`] returns the derived view, with one method per
///   `#[rcu]` field returning `&Rcu<P>`; dereference it inside a read-side critical section.
/// - Updaters: [`RcuMutex::lock`] returns a guard whose [`RcuMutexGuard::project`] gives the
///   derived projection: [`RcuMut`](crate::RcuMut) for `#[rcu]` fields, `Pin<&mut F>` for
///   `#[pin]` fields, `&mut F` for the others.
///
/// The data is boxed internally and never moves, so it stays pinned for the mutex's whole life.
///
/// `RcuMutex<T>` is `Send` and `Sync` when `T: Send` and the pointees of the `#[rcu]` fields are
/// `Sync` (`T::ReaderFields: Sync`); fields without `#[rcu]` need not be `Sync`, since only the
/// lock holder reaches them. Borrows from the view live as long as their guard, not as long as
/// the mutex, so even sending the mutex needs the `#[rcu]` pointees to be `Sync`.
///
/// Readers and the updater use the data at the same time without aliasing violations: readers
/// reach each `#[rcu]` field by raw-pointer projection (never through `&T`), the data is `!Unpin`
/// whenever it has an `#[rcu]` field (so `Pin<&mut T>` asserts no uniqueness), an `Rcu` keeps its
/// state in an atomic, and the updater's projection cannot overwrite an `Rcu` in place
/// ([`RcuMut`](crate::RcuMut)).
///
/// ```
/// use std::thread;
/// use rcu_runtime::{read_lock, Rcu, RcuMutex, RcuProtected};
///
/// #[derive(RcuProtected)]
/// struct Stats {
///     #[rcu]
///     latest: Rcu<Box<u64>>,
///     updates: u64,
/// }
///
/// let stats = RcuMutex::new(Stats { latest: Rcu::new(Box::new(0)), updates: 0 });
/// thread::scope(|s| {
///     s.spawn(|| {
///         for i in 1..=100 {
///             let mut w = stats.lock();
///             let p = w.project();
///             *p.updates += 1;
///             if let Some(old) = p.latest.replace(Box::new(i)) {
///                 old.defer_drop();
///             }
///         }
///     });
///     s.spawn(|| {
///         let g = read_lock();
///         let seen = *stats.rcu().latest().dereference(&g).expect("always published");
///         assert!(seen <= 100);
///     });
/// });
/// assert_eq!(stats.lock().updates, 100);
/// ```
///
/// # Poisoning
///
/// `RcuMutex` does not poison. A panic while a guard is held releases the lock, and the next
/// [`RcuMutex::lock`] succeeds and sees whatever the panicking updater left. Readers take no lock,
/// so poisoning could not protect them, and what they see is always consistent (each publication
/// is one atomic store); writer-only fields may hold a half-done update.
///
/// # Invariants
///
/// - `data` comes from `Box::into_raw` of a `Box<UnsafeCell<T>>` and is released only by `Drop`
///   or [`RcuMutex::into_inner`]; the `T` never moves before that.
/// - The `T` is accessed mutably only by the holder of `lock` (through a guard) or through
///   `&mut self`, and in both cases only in ways that keep `RawView`'s contract for the fields
///   readers reach.
pub struct RcuMutex<T: RcuProtected> {
    data: NonNull<UnsafeCell<T>>,
    lock: WriterLock,
    /// The mutex owns a `T` (for the drop checker and the auto traits' sake).
    _owns: PhantomData<T>,
}

// SAFETY: sending the mutex sends the `T` it owns (`T: Send`). No view or lock guard can exist
// while it is being moved (they borrow it), but borrows *through* the `#[rcu]` fields can: a
// reader's `mutex.rcu().field().dereference(&guard)` is tied to its guard, not to the mutex, so
// the sending thread may still use the pointee while the receiving thread reads it too. The
// pointees must therefore be `Sync`, which `Rcu<P>: Sync` (needing `P: Sync`) for every `#[rcu]`
// field, i.e. `T::ReaderFields: Sync` (the `RcuProtected` contract), says. (`T: Send` already
// implies it for a derived `T`, whose `Rcu<P>` fields are `Send` only when `P: Sync`; the bound
// states it rather than relying on that.)
unsafe impl<T: RcuProtected + Send> Send for RcuMutex<T> where T::ReaderFields: Sync {}

// SAFETY: through `&RcuMutex<T>` a thread can
// - lock and use the `T` mutably or through `&T`, one thread at a time (the lock), which is a
//   transfer of the `T` between threads: `T: Send`;
// - read the `#[rcu]` fields through the view, as `&F`, concurrently with other readers and
//   with the lock holder (who may hold `&T`): each `F` must be `Sync`, which is what
//   `T::ReaderFields: Sync` says (the `RcuProtected` contract).
// Fields without `#[rcu]` are only ever touched by the lock holder, so they need not be `Sync`.
unsafe impl<T: RcuProtected + Send> Sync for RcuMutex<T> where T::ReaderFields: Sync {}

impl<T: RcuProtected> RcuMutex<T> {
    /// Moves `value` into a new mutex, where it is pinned from now on.
    pub fn new(value: T) -> Self {
        let data = Box::into_raw(Box::new(UnsafeCell::new(value)));
        // INVARIANT: `data` comes from `Box::into_raw`, and nothing has used the `T` yet.
        RcuMutex {
            // SAFETY: `Box::into_raw` never returns null.
            data: unsafe { NonNull::new_unchecked(data) },
            lock: WriterLock::new(()),
            _owns: PhantomData,
        }
    }

    /// The reader view of the data: one method per `#[rcu]` field, each returning `&Rcu<P>`.
    ///
    /// Needs no lock and works on any thread, concurrently with an updater. The view borrows the
    /// mutex; dereference its `Rcu`s inside a read-side critical section
    /// ([`read_lock`](crate::read_lock)).
    #[inline]
    pub fn rcu(&self) -> T::View<'_> {
        // SAFETY: `RawView::new`'s contract, for as long as `self` is borrowed:
        // - `data` points to a live `T` that neither moves nor goes away while the mutex is
        //   borrowed: only `Drop` and `into_inner` release it (invariant), and both need the
        //   mutex by value;
        // - the `T` is used mutably only by the lock holder through `RcuProtected::project`
        //   (whose contract forbids moving, overwriting or `&mut` to the fields the view reaches),
        //   through the `unsafe` `RcuMutexGuard::as_mut` (whose caller promises the same), or
        //   through `get_mut`, which needs `&mut self` and so cannot overlap with this borrow.
        let raw = unsafe { RawView::new(self.data_ptr()) };
        T::view(raw)
    }

    /// Locks the mutex for an updater, blocking until it is free.
    ///
    /// Readers are not blocked. The lock does not poison: after a panic while it was held, it is
    /// simply free again.
    ///
    /// # Panics
    ///
    /// If the current thread holds the lock already (a second `lock` while a guard lives, or a
    /// `lock` from inside a closure the lock holder runs, or from a `Drop` or `PinnedDrop` of a
    /// value it frees under the lock, such as the value of an `RcuOld` it drops): waiting would
    /// deadlock.
    ///
    /// A guard leaked with `mem::forget` keeps the lock held for good: the thread that leaked it
    /// gets this panic, other threads block for ever ([`try_lock`](Self::try_lock) returns
    /// `None`), while readers, [`get_mut`](Self::get_mut), [`into_inner`](Self::into_inner) and
    /// the mutex's drop still work. (A thread started after the leaking one ended may reuse its
    /// thread-local memory and get the panic too.)
    ///
    /// # Deadlocks with the callback worker
    ///
    /// A value freed on the callback worker ([`RcuOld::defer_drop`](crate::RcuOld::defer_drop),
    /// [`RcuOld::drop_async`](crate::RcuOld::drop_async), an [`RcuBox`](crate::RcuBox)) whose
    /// `Drop` or `PinnedDrop` locks this mutex makes the worker wait for the holder. The holder
    /// must then not wait for the worker: not [`rcu_barrier`](crate::rcu_barrier), not
    /// [`RcuOld::wait_async`](crate::RcuOld::wait_async) or a polled grace period, and not queue
    /// callbacks past [`max_pending_callbacks`](crate::config::max_pending_callbacks)
    /// (backpressure waits for the worker): both would wait for good. Grace periods waited for
    /// by the holder itself (`synchronize_rcu`, dropping an `RcuOld`) do not need the worker.
    ///
    /// ```
    /// use rcu_runtime::{Rcu, RcuMutex, RcuProtected};
    ///
    /// #[derive(RcuProtected)]
    /// struct Counter { #[rcu] value: Rcu<Box<u64>> }
    ///
    /// let counter = RcuMutex::new(Counter { value: Rcu::new(Box::new(0)) });
    /// let mut w = counter.lock();
    /// w.project().value.replace(Box::new(1)).unwrap().defer_drop();
    /// ```
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> RcuMutexGuard<'_, T> {
        let lock = self.lock.lock(
            "RcuMutex::lock()",
            "Finish the update under the first guard (or drop it) before locking again.",
        );
        RcuMutexGuard { mutex: self, _lock: lock, _shares_t: PhantomData }
    }

    /// Locks the mutex if it is free, without blocking; `None` if any thread holds it, the
    /// current one included.
    #[inline]
    pub fn try_lock(&self) -> Option<RcuMutexGuard<'_, T>> {
        let lock = self.lock.try_lock()?;
        Some(RcuMutexGuard { mutex: self, _lock: lock, _shares_t: PhantomData })
    }

    /// Pinned mutable access without locking: `&mut self` already proves that no reader and no
    /// guard exists.
    #[inline]
    pub fn get_mut(&mut self) -> Pin<&mut T> {
        // SAFETY: `data` points to a live `T` that never moves while the mutex exists (invariant),
        // so it may be pinned; `&mut self` excludes every view (they borrow `&self`) and every
        // guard, so this is the only reference to the `T` for its lifetime.
        unsafe { Pin::new_unchecked(&mut *self.data_ptr().as_ptr()) }
    }

    /// Takes the data out of the mutex, still pinned: moving it out of the box would break the
    /// promise that pinned fields never move.
    pub fn into_inner(self) -> Pin<Box<T>> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used again and its `Drop` does not run (`ManuallyDrop`), so
        // dropping the lock in place is its one and only drop.
        unsafe { ptr::drop_in_place(&raw mut this.lock) };
        // SAFETY: `data` comes from `Box::into_raw` of a `Box<UnsafeCell<T>>` and has not been
        // released (invariant; `Drop` will not run). `UnsafeCell<T>` is `repr(transparent)` over
        // `T`, so the same pointer is a valid `Box<T>` with the same layout; the box takes over
        // ownership from the mutex.
        let boxed = unsafe { Box::from_raw(this.data_ptr().as_ptr()) };
        // The `T` stays where it has been pinned since `new`.
        Box::into_pin(boxed)
    }

    /// The data as a raw pointer to `T`.
    #[inline]
    fn data_ptr(&self) -> NonNull<T> {
        // `UnsafeCell<T>` is `repr(transparent)`: the cast keeps the address and the provenance.
        self.data.cast()
    }
}

impl<T: RcuProtected> Drop for RcuMutex<T> {
    fn drop(&mut self) {
        // SAFETY: `data` comes from `Box::into_raw` and has not been released (invariant: only
        // here or in `into_inner`, which skips this `Drop`); `&mut self` proves that no view or
        // guard still borrows it. The `T` is dropped in place, as its pinning requires.
        drop(unsafe { Box::from_raw(self.data.as_ptr()) });
    }
}

impl<T: RcuProtected + Default> Default for RcuMutex<T> {
    fn default() -> Self {
        RcuMutex::new(T::default())
    }
}

impl<T: RcuProtected> From<T> for RcuMutex<T> {
    fn from(value: T) -> Self {
        RcuMutex::new(value)
    }
}

impl<T: RcuProtected + fmt::Debug> fmt::Debug for RcuMutex<T> {
    /// Shows the whole data if the lock is free, as `std::sync::Mutex` does: `RcuMutex { data: .. }`
    /// (the `#[rcu]` fields through `Rcu`'s `Debug`, each read inside a critical section of its
    /// own), else `RcuMutex { data: <locked>, .. }`. It never blocks: the writer-only fields may
    /// be half-way through an update while another thread holds the lock, so they are not shown
    /// then (and the current thread may be the holder, which `try_lock` refuses too).
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{Rcu, RcuMutex, RcuProtected};
    ///
    /// #[derive(RcuProtected, Debug)]
    /// struct Config { #[rcu] name: Rcu<Box<&'static str>>, reloads: u32 }
    ///
    /// let config = RcuMutex::new(Config { name: Rcu::new(Box::new("edge")), reloads: 1 });
    /// assert_eq!(format!("{config:?}"), r#"RcuMutex { data: Config { name: Rcu(Some("edge")), reloads: 1 } }"#);
    /// let writer = config.lock();
    /// assert_eq!(format!("{config:?}"), "RcuMutex { data: <locked>, .. }");
    /// # drop(writer);
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RcuMutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard).finish(),
            None => d.field("data", &format_args!("<locked>")).finish_non_exhaustive(),
        }
    }
}

/// The updater's access to an [`RcuMutex`]: the lock is held until the guard is dropped.
///
/// [`RcuMutexGuard::project`] gives the pinned projection; `Deref` gives `&T` (reading is fine);
/// there is no `DerefMut`, since `&mut T` would let safe code move the pinned fields. So
/// `guard.count += 1` does not compile ("cannot assign to data in dereference of
/// `RcuMutexGuard`"; the compiler's text cannot be changed from here): write
/// `*guard.project().count += 1`.
///
/// ```
/// use rcu_runtime::{Rcu, RcuMutex, RcuProtected};
///
/// #[derive(RcuProtected)]
/// struct Config { #[rcu] name: Rcu<Box<String>>, reloads: u32 }
///
/// let config = RcuMutex::new(Config { name: Rcu::null(), reloads: 0 });
/// let mut guard = config.lock();
/// let p = guard.project();
/// *p.reloads += 1; // not `guard.reloads += 1`
/// assert!(p.name.replace(Box::new("edge".into())).is_none());
/// assert_eq!(guard.reloads, 1); // reading through the guard is fine
/// ```
///
/// The guard is never `Send` (the lock is released on the thread that took it, as
/// `std::sync::MutexGuard`), and `Sync` when `T: Sync` and `RcuMutex<T>: Sync`, since `&guard`
/// gives `&T`.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RcuMutexGuard<'a, T: RcuProtected> {
    mutex: &'a RcuMutex<T>,
    _lock: WriterGuard<'a>,
    /// `&RcuMutexGuard` gives `&T`, so the guard may be shared between threads only if `T: Sync`.
    _shares_t: PhantomData<&'a T>,
}

impl<T: RcuProtected> RcuMutexGuard<'_, T> {
    /// The pinned mutable projection of the data: `#[rcu]` fields as
    /// [`RcuMut`](crate::RcuMut), `#[pin]` fields as `Pin<&mut F>`, the others as `&mut F`.
    #[inline]
    pub fn project(&mut self) -> T::Projection<'_> {
        // SAFETY: the caller of `as_mut` must use the `Pin<&mut T>` only in ways that keep the
        // fields readers reach intact: `RcuProtected::project` is such a use by its contract.
        let pinned = unsafe { self.as_mut() };
        T::project(pinned)
    }

    /// The pinned shared projection of the data: `#[rcu]` and `#[pin]` fields as `Pin<&F>`,
    /// the others as `&F`.
    #[inline]
    pub fn project_ref(&self) -> T::ProjectionRef<'_> {
        T::project_ref(self.as_ref())
    }

    /// The data, pinned and shared.
    #[inline]
    pub fn as_ref(&self) -> Pin<&T> {
        // SAFETY: the `T` never moves while the mutex exists (`RcuMutex` invariant), so a
        // reference to it may be pinned.
        unsafe { Pin::new_unchecked(&**self) }
    }

    /// The data, pinned and mutable, for calling the struct's own `self: Pin<&mut Self>` methods.
    ///
    /// Prefer [`RcuMutexGuard::project`], which is safe.
    ///
    /// # Safety
    ///
    /// Readers may be using the `#[rcu]` fields right now. While the returned reference (or
    /// anything derived from it) is in use, the caller must not move or overwrite those fields,
    /// nor the whole value: in particular no [`Pin::set`] on the value or on a
    /// `Pin<&mut Rcu<P>>` field (publish with `Rcu::replace` and friends instead), and no
    /// `&mut` to an `#[rcu]` field obtained by `unsafe` means.
    #[inline]
    pub unsafe fn as_mut(&mut self) -> Pin<&mut T> {
        // SAFETY:
        // - the lock is held (this guard owns it) and `&mut self` makes this the only use of the
        //   guard, so no other updater can reach the `T`;
        // - the `T` never moves while the mutex exists (`RcuMutex` invariant), so it may be pinned;
        // - readers may hold `&F` to `#[rcu]` fields; making a `&mut T` does not invalidate them
        //   because `T` is `!Unpin` whenever it has such a field (`RcuProtected` contract), and
        //   the caller promises not to overwrite or move them (see the module documentation,
        //   "The aliasing argument").
        unsafe { Pin::new_unchecked(&mut *self.mutex.data_ptr().as_ptr()) }
    }
}

impl<T: RcuProtected> Deref for RcuMutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the lock is held by this guard, so no other updater uses the `T`; this guard
        // hands out `&mut` access only through `&mut self`, which cannot overlap with the
        // returned borrow of `&self`. Readers only read `#[rcu]` fields, which is compatible with
        // a shared reference to the whole value (their state is an `UnsafeCell`).
        unsafe { &*self.mutex.data_ptr().as_ptr() }
    }
}

impl<T: RcuProtected + fmt::Debug> fmt::Debug for RcuMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
