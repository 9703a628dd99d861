//! The intrusive RCU list: the kernel's `list_add_rcu` / `list_del_rcu` / `list_replace_rcu`
//! behind a safe API.

mod cursor;
mod drop_chain;
#[cfg_attr(not(loom), expect(unreachable_pub, reason = "public only for the loom models"))]
mod raw;

use core::fmt;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};

pub use cursor::Cursor;
pub use raw::RcuLinks;

use self::drop_chain::Chain;
use self::raw::RawList;
use crate::engine::sync::{AtomicUsize, Ordering};
use crate::writer_lock::{WriterGuard, WriterLock};
use crate::{Guard, RcuOld};

/// A struct with embedded [`RcuLinks`], so that it can be a node of an [`RcuList`].
///
/// The shape mirrors [`HasRcuHead`](crate::HasRcuHead). `#[derive(RcuProtected)]` implements it
/// for a struct with a `#[rcu_links]` field, on top of that field's [`HasField`](crate::HasField)
/// impl, and checks that the field is an `RcuLinks` (see [`RcuList`]'s example). By hand, the
/// same two impls:
///
/// ```
/// use rcu_runtime::{Field, HasField, HasRcuLinks, RcuLinks};
///
/// struct Route { prefix: u32, links: RcuLinks }
///
/// // SAFETY: `Type` and `OFFSET` are those of `Route::links`.
/// unsafe impl HasField<Field<1>> for Route {
///     type Type = RcuLinks;
///     const OFFSET: usize = core::mem::offset_of!(Route, links);
/// }
///
/// // SAFETY: both methods go through the `HasField` impl of the `links` field.
/// unsafe impl HasRcuLinks for Route {
///     fn raw_get_rcu_links(this: *mut Self) -> *mut RcuLinks {
///         <Self as HasField<Field<1>>>::raw_get_field(this)
///     }
///     unsafe fn rcu_links_container_of(links: *mut RcuLinks) -> *mut Self {
///         // SAFETY: forwarded from the caller.
///         unsafe { <Self as HasField<Field<1>>>::field_container_of(links) }
///     }
/// }
/// ```
///
/// # Safety
///
/// [`HasRcuLinks::raw_get_rcu_links`] must return a pointer to an `RcuLinks` that is a field of
/// `*this` (same provenance), the same field on every call, and
/// [`HasRcuLinks::rcu_links_container_of`] must be its inverse.
pub unsafe trait HasRcuLinks: Sized {
    /// Projects a pointer to the struct to a pointer to its `RcuLinks`, dereferencing nothing.
    fn raw_get_rcu_links(this: *mut Self) -> *mut RcuLinks;

    /// Goes back from a pointer to the embedded `RcuLinks` to the struct that contains it.
    ///
    /// # Safety
    ///
    /// `links` must have been returned by [`HasRcuLinks::raw_get_rcu_links`] for a value that is
    /// still alive, with provenance over the whole value.
    unsafe fn rcu_links_container_of(links: *mut RcuLinks) -> *mut Self;
}

impl RcuLinks {
    /// The derived `HasRcuLinks` impl's way to its `#[rcu_links]` field `F`: compiles only when
    /// the field is an `RcuLinks` (the `IsRcuLinks` bound, with the `#[rcu_links]` error message).
    ///
    /// An inherent item of `RcuLinks` because that is the one type the derived impl is sure is
    /// this crate's own: it appears in `HasRcuLinks`' signature, which the compiler checks the
    /// impl against, while any path the derive writes could be redirected by the user's crate.
    #[doc(hidden)]
    #[inline]
    #[must_use]
    pub const fn __field<T, F>() -> crate::__private::LinksField<T>
    where
        T: crate::HasField<F, Type: crate::__private::IsRcuLinks>,
    {
        crate::__private::LinksField::links::<F>()
    }
}

/// The writer's side of the list, behind its lock.
///
/// # Invariants
///
/// `last` is the links of the list's last node, or null when it is empty.
pub(super) struct Writer {
    pub(super) last: *mut RcuLinks,
}

/// An intrusive, doubly linked list that readers traverse without locks while updaters add,
/// remove and replace nodes through `&self`: the kernel's `list_*_rcu`.
///
/// The node type `T` embeds its links ([`RcuLinks`], found through [`HasRcuLinks`]); the list
/// owns its nodes as `Box<T>`. Updaters serialize on the list's own writer lock:
/// [`push_front`](Self::push_front) and [`push_back`](Self::push_back) publish a node at once
/// (no grace period), [`remove`](Self::remove) unlinks the first node that matches and hands it
/// back as an [`RcuOld`] (freed after one grace period: drop it, `wait` for it, or free it
/// asynchronously with `defer_drop`, or `drop_async` when `T` also has an
/// [`RcuHead`](crate::RcuHead)), and a [`Cursor`] removes, replaces (`list_replace_rcu`) or
/// inserts in place. Readers call [`iter`](Self::iter) with a [`Guard`]: the borrows live as long
/// as the guard, and a reader standing on a node that is removed meanwhile goes on from it to the
/// rest of the list (a removed node keeps its `next` until a grace period has passed).
///
/// Readers see each change whole: a node is either linked with its fields initialized or not
/// reachable; a replaced node is seen as the old one or the new one. A traversal that runs while
/// nodes are added or removed sees every node that was in the list for the whole traversal, in
/// list order, once.
///
/// Dropping the list waits for one grace period (however long it is, with no recursion), then
/// drops the nodes; like dropping an [`Rcu`](crate::Rcu), it panics inside a read-side critical
/// section on the same thread, and defers instead of waiting on the callback worker.
///
/// # Send and Sync
///
/// `RcuList<T>` is `Send` and `Sync` when `T: Send + Sync`: readers borrow nodes for as long as
/// their guard, not as long as the list, so moving the list away (`Send`) or sharing it
/// (`Sync`) both leave `&T` on several threads, and nodes are added and dropped on any thread.
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
///
/// #[derive(RcuProtected)]
/// struct Route {
///     prefix: u32,
///     #[rcu_links] // emits `HasRcuLinks` through this field
///     links: RcuLinks,
/// }
///
/// let routes = RcuList::new();
/// routes.push_back(Box::new(Route { prefix: 10, links: RcuLinks::new() }));
/// routes.push_back(Box::new(Route { prefix: 20, links: RcuLinks::new() }));
///
/// // A reader, on any thread: no lock.
/// let guard = read_lock();
/// let prefixes: Vec<u32> = routes.iter(&guard).map(|r| r.prefix).collect();
/// assert_eq!(prefixes, [10, 20]);
/// drop(guard);
///
/// // An updater: unlink, then free after a grace period.
/// let old = routes.remove(|r| r.prefix == 10).expect("present");
/// drop(old); // waits for the readers that might still stand on it
/// assert_eq!(routes.len(), 1);
/// ```
///
/// # Invariants
///
/// - `raw` is a null-terminated chain of the links of nodes that this list owns, each a `T`
///   leaked from a `Box<T>`; the writer's `last` names its last node.
/// - `len` is the number of nodes; it changes only under the writer lock.
/// - A node unlinked from the chain is handed at once to an [`RcuOld`] (or, when the list is
///   dropped, to a `Chain`), and so freed only after a grace period that starts after the
///   unlinking.
pub struct RcuList<T: HasRcuLinks> {
    raw: RawList,
    writer: WriterLock<Writer>,
    len: AtomicUsize,
    _owns: PhantomData<Box<T>>,
}

// SAFETY: moving the list moves the ownership of its nodes (`T: Send`) while readers on the old
// thread may still hold `&T` for a grace period (`T: Sync`). The raw pointers inside are owned
// links, not shared state of the current thread.
unsafe impl<T: HasRcuLinks + Send + Sync> Send for RcuList<T> {}
// SAFETY: through `&RcuList`, any thread adds nodes and gets removed ones back (`T: Send`) and
// readers on several threads borrow the same nodes (`T: Sync`); the writer state is behind a
// mutex.
unsafe impl<T: HasRcuLinks + Send + Sync> Sync for RcuList<T> {}

/// What to do instead of locking a list re-entrantly.
const REENTRY_ADVICE: &str = "Collect what to change and do it after the call returns, or use the \
                              Cursor's own insert_before, replace_current and remove_current.";

impl<T: HasRcuLinks> RcuList<T> {
    /// Creates an empty list.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Node { #[rcu_links] links: RcuLinks }
    /// let list: RcuList<Node> = RcuList::new();
    /// assert!(list.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        // INVARIANT: empty chain, no last node, no nodes counted.
        Self {
            raw: RawList::new(),
            writer: WriterLock::new(Writer { last: ptr::null_mut() }),
            len: AtomicUsize::new(0),
            _owns: PhantomData,
        }
    }

    /// Takes the writer lock for `what`.
    #[track_caller]
    fn lock(&self, what: &str) -> WriterGuard<'_, Writer> {
        self.writer.lock(what, REENTRY_ADVICE)
    }

    /// Counts one node more (`delta = 1`) or less (`usize::MAX`, i.e. -1), under the lock.
    fn count(&self, _lock: &WriterGuard<'_, Writer>, delta: usize) {
        // Relaxed: changed only under the writer lock; readers of `len` want a recent value, not
        // an ordering.
        let len = self.len.load(Ordering::Relaxed);
        self.len.store(len.wrapping_add(delta), Ordering::Relaxed);
    }

    /// Publishes `node` at the front; no grace period is needed.
    ///
    /// # Panics
    ///
    /// When called while this thread holds the list's writer lock (inside a [`remove`](Self::remove)
    /// predicate, or with a [`Cursor`] alive): it would deadlock.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// list.push_front(Box::new(Item { links: RcuLinks::new(), n: 2 }));
    /// list.push_front(Box::new(Item { links: RcuLinks::new(), n: 1 }));
    /// let g = read_lock();
    /// assert_eq!(list.iter(&g).map(|i| i.n).collect::<Vec<_>>(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn push_front(&self, node: Box<T>) {
        // Lock first: if locking panics (re-entrancy), the box is still ours and dropped.
        let mut writer = self.lock("RcuList::push_front");
        let links = T::raw_get_rcu_links(Box::into_raw(node));
        // SAFETY: we hold the writer lock and pass its `last`; `links` belongs to a node we just
        // leaked, which is in no list, and which the list owns from now on (freed only after a
        // grace period, see the invariants).
        // INVARIANT: one node more, counted below.
        unsafe { self.raw.push_front(&mut writer.last, links) };
        self.count(&writer, 1);
    }

    /// Publishes `node` at the back; no grace period is needed.
    ///
    /// # Panics
    ///
    /// As for [`push_front`](Self::push_front).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 1 }));
    /// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 2 }));
    /// let g = read_lock();
    /// assert_eq!(list.iter(&g).map(|i| i.n).collect::<Vec<_>>(), [1, 2]);
    /// ```
    #[track_caller]
    pub fn push_back(&self, node: Box<T>) {
        // Lock first: if locking panics (re-entrancy), the box is still ours and dropped.
        let mut writer = self.lock("RcuList::push_back");
        let links = T::raw_get_rcu_links(Box::into_raw(node));
        // SAFETY: as in `push_front`.
        // INVARIANT: as in `push_front`.
        unsafe { self.raw.push_back(&mut writer.last, links) };
        self.count(&writer, 1);
    }

    /// The number of nodes (exact when no update runs concurrently).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new() }));
    /// assert_eq!(list.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        // Relaxed: a count, not a synchronization point.
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the list has no node (exact when no update runs concurrently).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks }
    /// let list = RcuList::<Item>::new();
    /// assert!(list.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The nodes in list order, for a reader: no lock, and the borrows last as long as `guard`.
    ///
    /// Each step is one Acquire load (a plain load on x86-64 and a dependency on Arm). Nodes
    /// removed meanwhile keep their `next`, so the traversal never loses its way; see the type's
    /// docs for what it sees.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 7 }));
    /// let guard = read_lock();
    /// let first = list.iter(&guard).next().unwrap();
    /// list.remove(|_| true).unwrap().defer_drop(); // removed and queued for freeing...
    /// assert_eq!(first.n, 7); // ...but still readable under the guard
    /// ```
    pub fn iter<'g>(&self, _guard: &'g Guard) -> Iter<'g, T> {
        // INVARIANT: the first node (or null), reached inside `_guard`'s section.
        Iter { next: self.raw.first(), _borrows: PhantomData }
    }
}

impl<T: HasRcuLinks + 'static> RcuList<T> {
    /// A cursor at the first node that holds the writer lock until it is dropped, for removing,
    /// replacing or inserting in place.
    ///
    /// # Panics
    ///
    /// As for [`push_front`](Self::push_front).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// for n in 1..=4 {
    ///     list.push_back(Box::new(Item { links: RcuLinks::new(), n }));
    /// }
    /// let mut removed = Vec::new();
    /// let mut cursor = list.cursor();
    /// while let Some(item) = cursor.current() {
    ///     if item.n % 2 == 0 {
    ///         removed.push(cursor.remove_current().unwrap());
    ///     } else {
    ///         cursor.move_next();
    ///     }
    /// }
    /// drop(cursor); // unlock before waiting
    /// drop(removed); // one grace period for the first, none left for the others
    /// let g = read_lock();
    /// assert_eq!(list.iter(&g).map(|i| i.n).collect::<Vec<_>>(), [1, 3]);
    /// ```
    #[track_caller]
    pub fn cursor(&self) -> Cursor<'_, T> {
        Cursor::new(self, self.lock("RcuList::cursor"))
    }

    /// Unlinks the first node for which `pred` returns true and hands it back; it is freed after
    /// a grace period.
    ///
    /// `pred` runs under the writer lock. If it panics, the list is unchanged and unlocked; if it
    /// updates this list, that update panics (it would deadlock).
    ///
    /// # Panics
    ///
    /// As for [`push_front`](Self::push_front), and when `pred` panics.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 1 }));
    /// let old = list.remove(|i| i.n == 1).unwrap();
    /// assert_eq!(old.wait().n, 1); // after a grace period the box is ours again
    /// assert!(list.remove(|i| i.n == 1).is_none());
    /// ```
    #[track_caller]
    pub fn remove(&self, mut pred: impl FnMut(&T) -> bool) -> Option<RcuOld<Box<T>>> {
        let mut cursor = Cursor::new(self, self.lock("RcuList::remove"));
        while let Some(node) = cursor.current() {
            if pred(node) {
                return cursor.remove_current();
            }
            cursor.move_next();
        }
        None
    }

    /// Unlinks `links` under the lock `writer` and wraps its node for freeing after a grace
    /// period.
    ///
    /// # Safety
    ///
    /// `writer` is this list's lock and `links` is in the list.
    pub(super) unsafe fn unlink(
        &self,
        writer: &mut WriterGuard<'_, Writer>,
        links: *mut RcuLinks,
    ) -> RcuOld<Box<T>> {
        // SAFETY: we hold the lock (the caller's contract) and `links` is in the list; the node is
        // handed to an `RcuOld` below, which frees it only after a grace period.
        // INVARIANT: one node less, counted below.
        unsafe { self.raw.unlink(&mut writer.last, links) };
        self.count(writer, usize::MAX);
        // SAFETY: `links` belongs to a node that the list owned as a leaked `Box<T>` (invariant),
        // so `container_of` gives the pointer `Box::into_raw` returned; it is unlinked now, so no
        // new reader can reach it, and the ownership passes to the `RcuOld`.
        unsafe { Self::old_node(links) }
    }

    /// Wraps the unlinked node of `links` for freeing after a grace period.
    ///
    /// # Safety
    ///
    /// `links` belongs to a node leaked from a `Box<T>` that the caller owns and that no new
    /// reader can reach.
    pub(super) unsafe fn old_node(links: *mut RcuLinks) -> RcuOld<Box<T>> {
        // SAFETY: forwarded from the caller; `container_of` inverts `raw_get_rcu_links` on the
        // pointer from `Box::into_raw`.
        let node = unsafe { NonNull::new_unchecked(T::rcu_links_container_of(links)) };
        // SAFETY: the pointer is what `<Box<T> as ForeignOwnable>::into_foreign` would have
        // returned (`Box::into_raw`, cast), owned by the caller and unpublished.
        unsafe { RcuOld::from_unpublished(node.cast()) }
    }
}

impl<T: HasRcuLinks> Default for RcuList<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: HasRcuLinks> Drop for RcuList<T> {
    /// Waits for one grace period, then drops every node, front to back (on the callback worker:
    /// queues them instead of waiting).
    ///
    /// # Panics
    ///
    /// When the list is not empty, inside a read-side critical section on the same thread (the
    /// grace period would wait for the caller).
    fn drop(&mut self) {
        let first = self.raw.take_all(&mut self.writer.get_mut().last);
        *self.len.get_mut() = 0;
        if let Some(first) = NonNull::new(first) {
            // Readers that borrowed nodes under a guard may outlive the list: the whole chain
            // waits for one grace period, as one unpublished value.
            // SAFETY: the chain is the list's own (invariant), detached above, so reachable by no
            // new reader; `Chain` frees each node once.
            drop(unsafe { Chain::<T>::old(first) });
        }
    }
}

impl<T: HasRcuLinks + fmt::Debug> fmt::Debug for RcuList<T> {
    /// Shows the nodes, read inside a read-side critical section of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = crate::read_lock();
        f.debug_list().entries(self.iter(&guard)).finish()
    }
}

/// The nodes of an [`RcuList`] in order, borrowed for a read-side critical section
/// ([`RcuList::iter`]).
///
/// # Examples
///
/// ```
/// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
/// # #[derive(RcuProtected)]
/// # struct Item { #[rcu_links] links: RcuLinks }
/// let list = RcuList::<Item>::new();
/// let g = read_lock();
/// let iter: rcu_runtime::ListIter<'_, Item> = list.iter(&g);
/// assert_eq!(iter.count(), 0);
/// ```
///
/// # Send and Sync
///
/// Like `&'g T` (and std's `slice::Iter`), an `Iter` is `Send` and `Sync` when `T: Sync`: it
/// gives `&'g T` on whatever thread walks it, and it lives no longer than the guard's borrow,
/// so a scoped thread may finish the walk while the guard's section keeps the nodes alive.
///
/// # Invariants
///
/// `next` is null or the links of a node reached inside the read-side critical section that
/// `'g` borrows, which is therefore not freed before `'g` ends.
pub struct Iter<'g, T: HasRcuLinks> {
    next: *mut RcuLinks,
    _borrows: PhantomData<&'g T>,
}

// SAFETY: an `Iter` gives `&'g T` and otherwise only loads the `next` pointers of nodes (atomics)
// that stay alive for `'g` (invariant); which thread loads them does not matter, since a thread
// that walks the iterator does so within `'g`, that is before the guard's section ends, and the
// grace period that frees a node waits for that end. So it may move to another thread when
// `&'g T` may: `T: Sync`.
unsafe impl<T: HasRcuLinks + Sync> Send for Iter<'_, T> {}
// SAFETY: `&Iter` gives a clone of it (`Clone`), which is as sendable as the iterator (above).
unsafe impl<T: HasRcuLinks + Sync> Sync for Iter<'_, T> {}

impl<T: HasRcuLinks> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        // INVARIANT: the same node, reached in the same section.
        Self { next: self.next, _borrows: PhantomData }
    }
}

impl<'g, T: HasRcuLinks> Iterator for Iter<'g, T> {
    type Item = &'g T;

    #[inline]
    fn next(&mut self) -> Option<&'g T> {
        let links = self.next;
        if links.is_null() {
            return None;
        }
        // SAFETY: the node is alive for `'g` (invariant): it was reached inside the section, and
        // a node is freed only a grace period after it is unlinked.
        // INVARIANT: its successor, reached in the same section.
        self.next = unsafe { RawList::next(links) };
        // SAFETY: `links` came from `raw_get_rcu_links` on a live node leaked from a `Box<T>`,
        // with the box's provenance; the node is only ever shared once published (the list never
        // creates `&mut T` to a node, and its links are interior-mutable).
        Some(unsafe { &*T::rcu_links_container_of(links) })
    }
}

impl<T: HasRcuLinks> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListIter").finish_non_exhaustive()
    }
}
