//! The writer's cursor: remove, replace or insert in place, under the writer lock.

use core::fmt;

use super::{HasRcuLinks, RcuLinks, RcuList, Writer};
use crate::RcuOld;
use crate::writer_lock::WriterGuard;

/// A position in an [`RcuList`] that holds the list's writer lock: it removes
/// (`list_del_rcu`), replaces (`list_replace_rcu`) and inserts nodes in place while readers go
/// on traversing.
///
/// Made by [`RcuList::cursor`], at the first node. It walks forward with
/// [`move_next`](Self::move_next); past the last node [`current`](Self::current) is `None` (the
/// end, where [`insert_before`](Self::insert_before) appends). Every method leaves the list
/// consistent, so a panic between calls (or in code that runs while the cursor lives) only
/// releases the lock. Updating the list through the list itself while the cursor lives panics
/// (it would deadlock); use the cursor's methods.
///
/// Never `Send`: it holds the list's writer lock, which is released on the thread that took it
/// (as a `MutexGuard` is). `Sync` when `T: Sync`: `&Cursor` gives only `&T` (`current`).
///
/// # Examples
///
/// ```
/// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
/// # #[derive(RcuProtected)]
/// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
/// let list = RcuList::new();
/// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 1 }));
/// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 3 }));
///
/// let mut cursor = list.cursor();
/// cursor.move_next(); // at 3
/// cursor.insert_before(Box::new(Item { links: RcuLinks::new(), n: 2 }));
/// let old = cursor.replace_current(Box::new(Item { links: RcuLinks::new(), n: 4 })).ok().unwrap();
/// drop(cursor);
/// old.defer_drop();
///
/// let g = read_lock();
/// assert_eq!(list.iter(&g).map(|i| i.n).collect::<Vec<_>>(), [1, 2, 4]);
/// ```
///
/// # Invariants
///
/// `writer` is `list`'s writer lock, held; `current` is null (the end) or the links of a node in
/// `list`.
pub struct Cursor<'a, T: HasRcuLinks + 'static> {
    list: &'a RcuList<T>,
    writer: WriterGuard<'a, Writer>,
    current: Position,
}

/// The cursor's position: the links of a node in the list, or null at the end.
///
/// A bare address that only its `Cursor` dereferences, under the list's lock. It is `Send` and
/// `Sync` so that it does not decide the cursor's auto traits (the lock guard and the `Sync` impl
/// below do), and the compiler names the held lock when a cursor is sent.
#[derive(Clone, Copy)]
struct Position(*mut RcuLinks);

// SAFETY: nothing is reached through a `Position` except by the `Cursor` that holds it, under
// that cursor's lock, on the thread where the cursor is; a cursor is never `Send`.
unsafe impl Send for Position {}
// SAFETY: as for `Send`: through `&Position` nothing is dereferenced.
unsafe impl Sync for Position {}

// SAFETY: through `&Cursor` safe code reads `current` (which changes only through `&mut`) and
// gets `&T` to a node that stays in the list while the cursor is borrowed (`current`), or a
// debug print; the writer state behind the lock is reached only through `&mut Cursor`. So
// sharing a cursor shares `&T`: `T: Sync`. (It is never `Send`: the lock guard inside is not.)
unsafe impl<T: HasRcuLinks + Sync + 'static> Sync for Cursor<'_, T> {}

impl<'a, T: HasRcuLinks + 'static> Cursor<'a, T> {
    /// A cursor at the first node of `list`, whose lock `writer` is.
    pub(super) fn new(list: &'a RcuList<T>, writer: WriterGuard<'a, Writer>) -> Self {
        // INVARIANT: `writer` is `list`'s lock (the caller's); the first node is in the list.
        let current = Position(list.raw.first_locked());
        Self { list, writer, current }
    }

    /// The node under the cursor, or `None` at the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 5 }));
    /// let cursor = list.cursor();
    /// assert_eq!(cursor.current().map(|i| i.n), Some(5));
    /// ```
    pub fn current(&self) -> Option<&T> {
        if self.current.0.is_null() {
            return None;
        }
        // SAFETY: `current` is the links of a node in the list (invariant), leaked from a
        // `Box<T>`; it stays in the list, and so alive, while `&self` is borrowed (unlinking it
        // takes `&mut self`), and the list only ever shares nodes.
        Some(unsafe { &*T::rcu_links_container_of(self.current.0) })
    }

    /// Moves to the next node (from the last one: to the end; at the end: stays there).
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new() }));
    /// let mut cursor = list.cursor();
    /// cursor.move_next();
    /// assert!(cursor.current().is_none());
    /// ```
    pub fn move_next(&mut self) {
        if !self.current.0.is_null() {
            // SAFETY: we hold the lock and `current` is in the list (invariant).
            // INVARIANT: its successor is in the list too, or null.
            self.current = Position(unsafe { super::RawList::next_locked(self.current.0) });
        }
    }

    /// Unlinks the node under the cursor (`list_del_rcu`) and moves to the next one. The node is
    /// handed back, to be freed after a grace period; readers standing on it go on to its
    /// successor. `None` at the end.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 1 }));
    /// let mut cursor = list.cursor();
    /// let old = cursor.remove_current().unwrap();
    /// assert!(cursor.current().is_none());
    /// drop(cursor);
    /// assert_eq!(old.wait().n, 1);
    /// ```
    pub fn remove_current(&mut self) -> Option<RcuOld<Box<T>>> {
        if self.current.0.is_null() {
            return None;
        }
        let links = self.current.0;
        // SAFETY: we hold the lock and `current` is in the list (invariant); the successor read
        // before unlinking is in the list.
        // INVARIANT: the successor of the removed node is in the list (or null).
        self.current = Position(unsafe { super::RawList::next_locked(links) });
        // SAFETY: `writer` is this list's lock and `links` is in the list (invariant).
        Some(unsafe { self.list.unlink(&mut self.writer, links) })
    }

    /// Puts `new` in the place of the node under the cursor (`list_replace_rcu`) and hands the
    /// old node back; the cursor stays on `new`. Readers see the old node or the new one, never
    /// neither. At the end, gives `new` back.
    ///
    /// # Errors
    ///
    /// `Err(new)` at the end, where there is nothing to replace.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// list.push_back(Box::new(Item { links: RcuLinks::new(), n: 1 }));
    /// let mut cursor = list.cursor();
    /// let old = cursor.replace_current(Box::new(Item { links: RcuLinks::new(), n: 2 })).ok().unwrap();
    /// assert_eq!(cursor.current().map(|i| i.n), Some(2));
    /// drop(cursor);
    /// old.defer_drop();
    /// assert_eq!(list.iter(&read_lock()).map(|i| i.n).collect::<Vec<_>>(), [2]);
    /// ```
    pub fn replace_current(&mut self, new: Box<T>) -> Result<RcuOld<Box<T>>, Box<T>> {
        if self.current.0.is_null() {
            return Err(new);
        }
        let old = self.current.0;
        let new = T::raw_get_rcu_links(Box::into_raw(new));
        // SAFETY: we hold the lock (invariant) and pass the list's `last`; `old` is in the list;
        // `new` belongs to a node we just leaked, in no list, owned by the list from now on.
        unsafe { self.list.raw.replace(&mut self.writer.last, old, new) };
        // INVARIANT: `new` is in the list.
        self.current = Position(new);
        // SAFETY: `old` was the list's node (a leaked `Box<T>`), unlinked just now.
        Ok(unsafe { RcuList::<T>::old_node(old) })
    }

    /// Links `new` before the node under the cursor (at the end: after the last node); the
    /// cursor stays where it is.
    ///
    /// # Examples
    ///
    /// ```
    /// # use rcu_runtime::{read_lock, RcuLinks, RcuList, RcuProtected};
    /// # #[derive(RcuProtected)]
    /// # struct Item { #[rcu_links] links: RcuLinks, n: u8 }
    /// let list = RcuList::new();
    /// let mut cursor = list.cursor(); // empty: at the end
    /// cursor.insert_before(Box::new(Item { links: RcuLinks::new(), n: 1 }));
    /// cursor.insert_before(Box::new(Item { links: RcuLinks::new(), n: 2 }));
    /// drop(cursor);
    /// assert_eq!(list.iter(&read_lock()).map(|i| i.n).collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn insert_before(&mut self, new: Box<T>) {
        let new = T::raw_get_rcu_links(Box::into_raw(new));
        // SAFETY: we hold the lock (invariant) and pass the list's `last`; `current` is null or in
        // the list; `new` belongs to a node we just leaked, owned by the list from now on.
        // INVARIANT: one node more, counted below; `current` is unchanged and still in the list.
        unsafe { self.list.raw.insert_before(&mut self.writer.last, self.current.0, new) };
        self.list.count(&self.writer, 1);
    }
}

impl<T: HasRcuLinks + 'static> fmt::Debug for Cursor<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cursor").field("at_end", &self.current.0.is_null()).finish_non_exhaustive()
    }
}
