//! [`RcuRef`]: a snapshot that carries its own read-side critical section.

use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

use crate::foreign::ForeignOwnableDeref;
use crate::{Guard, read_lock};

/// A borrow of an RCU-protected value together with the [`Guard`] that keeps it valid: what
/// [`RcuCell::read`](crate::RcuCell::read) and [`Rcu::read`](crate::Rcu::read) return (arc-swap's
/// `load()`).
///
/// It dereferences to the value for as long as it lives; the read-side critical section ends
/// when it is dropped. It suits one-liners and functions that return what they looked up,
/// where a separate guard would have to be passed in. Like a guard, it holds up grace periods
/// while it lives: keep it short, and do not hold it across an `.await` or a blocking call (use
/// an owned snapshot such as [`ArcBorrow::to_arc`](crate::ArcBorrow::to_arc) there).
///
/// Dropping the owner it was read from (the `RcuCell`, the `Rcu`) while it lives would wait for
/// a grace period that waits for this very section, so the `'a` borrow of the owner prevents it.
///
/// `RcuRef` is neither `Send` nor `Sync`: its critical section belongs to the thread that
/// entered it, as the guard's does.
///
/// # Examples
///
/// ```
/// use rcu_runtime::{RcuCell, RcuRef};
///
/// struct Config { name: String, port: u16 }
///
/// static CONFIG: RcuCell<Box<Config>> = RcuCell::null();
///
/// /// Looks the name up and returns it, critical section included.
/// fn name() -> Option<RcuRef<'static, str>> {
///     Some(RcuRef::map(CONFIG.read()?, |c| c.name.as_str()))
/// }
///
/// assert!(CONFIG.read().is_none());
/// CONFIG.replace(Box::new(Config { name: "edge".into(), port: 8080 }));
/// assert_eq!(CONFIG.read().map(|c| c.port), Some(8080)); // a one-liner
/// assert_eq!(name().as_deref(), Some("edge"));
/// ```
///
/// # Invariants
///
/// `value` points to a value that stays valid and unchanged for as long as `guard`'s critical
/// section lasts.
#[must_use = "the snapshot's read-side critical section ends as soon as it is dropped"]
pub struct RcuRef<'a, T: ?Sized> {
    value: NonNull<T>,
    guard: Guard,
    /// Borrows the owner the value was read from (see the type's documentation).
    _owner: PhantomData<&'a T>,
}

impl<'a, T: ?Sized> RcuRef<'a, T> {
    /// Builds the snapshot from a borrow made under `guard`, turned into a pointer.
    ///
    /// # Safety
    ///
    /// `value` came from a borrow tied to `guard` (valid until the guard's critical section
    /// ends, as what `dereference(&guard)` returns), and `'a` borrows the owner it was read from.
    pub(crate) unsafe fn from_parts(guard: Guard, value: NonNull<T>) -> Self {
        // INVARIANT: by the caller's contract, and the guard moves in with it.
        Self { value, guard, _owner: PhantomData }
    }

    /// Narrows the snapshot to a part of the value (a field, an element), keeping its critical
    /// section. An associated function, as `std::cell::Ref::map`, so that it does not hide a
    /// method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{RcuCell, RcuRef};
    ///
    /// let cell = RcuCell::new(Box::new((1, String::from("one"))));
    /// let name: RcuRef<'_, String> = RcuRef::map(cell.read().unwrap(), |pair| &pair.1);
    /// assert_eq!(*name, "one");
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&T) -> &U) -> RcuRef<'a, U> {
        // INVARIANT: `f` returns a borrow derived from the value's, which is valid as long as the
        // guard (moved into the result) lives; if `f` panics, `this` (and its guard) is dropped.
        // SAFETY: the value is valid while `this.guard` lives (invariant), which outlives this
        // borrow.
        let part = NonNull::from(f(unsafe { this.value.as_ref() }));
        RcuRef { value: part, guard: this.guard, _owner: PhantomData }
    }

    /// The guard of the snapshot's critical section, for reading more RCU-protected pointers
    /// under it.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{RcuCell, RcuRef};
    ///
    /// let a = RcuCell::new(Box::new(1));
    /// let b = RcuCell::new(Box::new(2));
    /// let first = a.read().unwrap();
    /// let second = b.dereference(RcuRef::guard(&first)).unwrap(); // same section
    /// assert_eq!(*first + *second, 3);
    /// ```
    pub fn guard(this: &Self) -> &Guard {
        &this.guard
    }
}

impl<T: ?Sized> Deref for RcuRef<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the value stays valid while `self.guard` lives (invariant), hence for as long
        // as `&self` is borrowed.
        unsafe { self.value.as_ref() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RcuRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RcuRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// What `Rcu::read` and `RcuCell::read` return: what `dereference` gives under a read-side
/// critical section of its own, which the snapshot keeps until it is dropped.
///
/// The caller's signature ties `'a` to the owner that `dereference` reads (its `&self`).
pub(crate) fn snapshot<'a, P: ForeignOwnableDeref>(
    dereference: impl for<'g> FnOnce(&'g Guard) -> Option<P::Borrowed<'g>>,
) -> Option<RcuRef<'a, P::Target>> {
    let guard = read_lock();
    let value = NonNull::from(P::borrowed_ref(dereference(&guard)?));
    // SAFETY: `value` was borrowed under `guard` and is valid until its section ends; the guard
    // moves into the snapshot, and the caller ties `'a` to the owner it read.
    Some(unsafe { RcuRef::from_parts(guard, value) })
}
