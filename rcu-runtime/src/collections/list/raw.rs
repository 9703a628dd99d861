//! The list's linking protocol on raw links: what readers follow and what the writer changes.
//!
//! This is the kernel's `list_add_rcu` / `list_del_rcu` / `list_replace_rcu` on a
//! null-terminated list whose first pointer lives in [`RawList`] (so the list itself may move:
//! no node points back to it). Readers follow `next` only; `prev` and the last pointer are the
//! writer's. It uses `crate::engine::sync`'s atomics so that `tests/loom_collections.rs` can check it.
//!
//! Every pointer that makes a node reachable is stored with Release and loaded by readers with
//! Acquire, also when the node was reachable before (unlinking stores its successor into its
//! predecessor): a reader that arrives through the new path synchronizes with that store, which
//! the writer made after (under the writer lock, or in program order) the node's initialization.

use core::cell::UnsafeCell;
use core::fmt;
use core::ptr;

use crate::engine::sync::{AtomicPtr, Ordering};

/// The two pointers that link a node into an [`RcuList`](crate::RcuList).
///
/// Embed one in the node type and mark it `#[rcu_links]` under `#[derive(RcuProtected)]`, which
/// implements [`HasRcuLinks`](crate::HasRcuLinks) through it (or write that impl by hand on top of
/// [`HasField`](crate::HasField), as shown there). The links belong to the list while the node is
/// in it; they have no public operation.
///
/// `RcuLinks` is `Send` and `Sync`: it gives access to nothing, so it never stands in the way of
/// the node type's own auto traits.
///
/// # Examples
///
/// ```
/// use rcu_runtime::RcuLinks;
/// assert_eq!(core::mem::size_of::<RcuLinks>(), 2 * core::mem::size_of::<usize>());
/// let links = RcuLinks::new();
/// assert_eq!(format!("{links:?}"), "RcuLinks { .. }");
/// ```
///
/// # Invariants
///
/// While the node is in a list: `next` is the next node's links (null for the last node) and
/// `prev` the previous node's (null for the first); both are written only under the list's
/// writer lock. After the node is unlinked, `next` keeps its last value (readers standing on the
/// node continue from it) and `prev` is null.
pub struct RcuLinks {
    next: AtomicPtr<RcuLinks>,
    prev: UnsafeCell<*mut RcuLinks>,
}

// SAFETY: `RcuLinks` has no public operation: its pointers are read and written only by the list
// that holds the node, under its protocol (readers: Acquire loads of `next`; the writer: under
// its lock). Moving or sharing links that no list holds gives access to nothing.
unsafe impl Send for RcuLinks {}
// SAFETY: as for `Send`: through `&RcuLinks` safe code can do nothing.
unsafe impl Sync for RcuLinks {}

impl RcuLinks {
    /// Links that are in no list.
    ///
    /// # Examples
    ///
    /// ```
    /// let links = rcu_runtime::RcuLinks::new();
    /// # drop(links);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self { next: AtomicPtr::new(ptr::null_mut()), prev: UnsafeCell::new(ptr::null_mut()) }
    }
}

impl Default for RcuLinks {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RcuLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuLinks").finish_non_exhaustive()
    }
}

/// What readers of a list start from: its first node.
///
/// # Invariants
///
/// `first` is null or the links of the first node of a null-terminated chain in which every
/// node's `prev` names its predecessor (null for the first) and `last` (the writer's, see
/// [`RawList::push_back`]) names the final node.
pub struct RawList {
    first: AtomicPtr<RcuLinks>,
}

impl RawList {
    /// An empty list.
    pub fn new() -> Self {
        // INVARIANT: empty.
        Self { first: AtomicPtr::new(ptr::null_mut()) }
    }

    /// The first node's links, for a reader (null when empty).
    #[inline]
    pub fn first(&self) -> *mut RcuLinks {
        // Acquire: pairs with the Release stores that make a node the first one (`push_front`,
        // `push_back` on an empty list, `unlink`, `replace`), so the node's fields are visible.
        self.first.load(Ordering::Acquire)
    }

    /// The first node's links, for the writer (which holds the lock).
    pub fn first_locked(&self) -> *mut RcuLinks {
        // Relaxed: only the writer changes `first`, and the lock orders its earlier stores
        // before this load.
        self.first.load(Ordering::Relaxed)
    }

    /// The links after `links`, for a reader.
    ///
    /// # Safety
    ///
    /// `links` is the links of a node that is not reclaimed while this runs (the reader is in the
    /// read-side critical section in which it reached the node).
    #[inline]
    pub unsafe fn next(links: *mut RcuLinks) -> *mut RcuLinks {
        // Acquire: pairs with the Release store that linked the next node after this one.
        // SAFETY: the node is alive (the caller's contract).
        unsafe { (*links).next.load(Ordering::Acquire) }
    }

    /// The links after `links`, for the writer.
    ///
    /// # Safety
    ///
    /// The caller holds the writer lock and `links` is in the list.
    pub unsafe fn next_locked(links: *mut RcuLinks) -> *mut RcuLinks {
        // Relaxed: only the writer stores `next`, and the lock orders those stores before this.
        // SAFETY: a node in the list is alive (the caller's contract).
        unsafe { (*links).next.load(Ordering::Relaxed) }
    }

    /// Links `new` in front of the first node (`list_add_rcu` at the head).
    ///
    /// # Safety
    ///
    /// - The caller holds the writer lock; `last` is the writer's last pointer of this list.
    /// - `new` is the links of a live node in no list, which stays alive while it is linked.
    pub unsafe fn push_front(&self, last: &mut *mut RcuLinks, new: *mut RcuLinks) {
        let first = self.first_locked();
        // SAFETY: `new` is ours and unpublished, `first` is in the list (caller's contract): no
        // reader reads `new`'s fields yet, and `prev` is the writer's.
        unsafe {
            // Relaxed: `new` is published by the Release store below.
            (*new).next.store(first, Ordering::Relaxed);
            *(*new).prev.get() = ptr::null_mut();
            if first.is_null() {
                *last = new;
            } else {
                *(*first).prev.get() = new;
            }
        }
        // Release: pairs with the Acquire load in `first`, publishing `new`'s initialization.
        // INVARIANT: `new` is the first node, its successor the old first node (whose `prev` is
        // `new`), or it is also the last one.
        self.first.store(new, Ordering::Release);
    }

    /// Links `new` after the last node (`list_add_tail_rcu`).
    ///
    /// # Safety
    ///
    /// As for [`RawList::push_front`].
    pub unsafe fn push_back(&self, last: &mut *mut RcuLinks, new: *mut RcuLinks) {
        // SAFETY: as in `push_front`: `new` is ours and unpublished.
        unsafe { self.insert_after(last, *last, new) }
    }

    /// Links `new` right after `at`, or at the front when `at` is null.
    ///
    /// # Safety
    ///
    /// As for [`RawList::push_front`], and `at` is null or in the list.
    pub unsafe fn insert_after(&self, last: &mut *mut RcuLinks, at: *mut RcuLinks, new: *mut RcuLinks) {
        if at.is_null() {
            // SAFETY: forwarded from the caller.
            return unsafe { self.push_front(last, new) };
        }
        // SAFETY: `at` is in the list and `new` is ours (the caller's contract); `prev` fields
        // are the writer's.
        unsafe {
            let next = Self::next_locked(at);
            // Relaxed: `new` is published by the Release store below.
            (*new).next.store(next, Ordering::Relaxed);
            *(*new).prev.get() = at;
            if next.is_null() {
                *last = new;
            } else {
                *(*next).prev.get() = new;
            }
            // Release: pairs with the Acquire load in `next`, publishing `new`'s initialization.
            // INVARIANT: `new` sits between `at` and `next`, with both back pointers updated.
            (*at).next.store(new, Ordering::Release);
        }
    }

    /// Links `new` right before `at` (at the end when `at` is null).
    ///
    /// # Safety
    ///
    /// As for [`RawList::insert_after`].
    pub unsafe fn insert_before(&self, last: &mut *mut RcuLinks, at: *mut RcuLinks, new: *mut RcuLinks) {
        let before = if at.is_null() {
            *last
        } else {
            // SAFETY: `at` is in the list; `prev` is the writer's.
            unsafe { *(*at).prev.get() }
        };
        // SAFETY: forwarded from the caller; `before` is null or in the list.
        unsafe { self.insert_after(last, before, new) }
    }

    /// Unlinks `node` (`list_del_rcu`) and returns its successor. Its `next` is left as it was,
    /// so readers standing on it go on to the rest of the list.
    ///
    /// # Safety
    ///
    /// The caller holds the writer lock; `last` is this list's; `node` is in the list. The node
    /// must then stay alive until a grace period has elapsed.
    pub unsafe fn unlink(&self, last: &mut *mut RcuLinks, node: *mut RcuLinks) -> *mut RcuLinks {
        // SAFETY: `node` and its neighbours are in the list (the caller's contract); `prev`
        // fields are the writer's.
        unsafe {
            let next = Self::next_locked(node);
            let prev = *(*node).prev.get();
            // Release: pairs with the Acquire loads in `first`/`next`; `next` was published
            // before, but a reader arriving through this new path must synchronize with a store
            // that the writer made after `next`'s initialization.
            if prev.is_null() {
                self.first.store(next, Ordering::Release);
            } else {
                (*prev).next.store(next, Ordering::Release);
            }
            if next.is_null() {
                *last = prev;
            } else {
                *(*next).prev.get() = prev;
            }
            // INVARIANT: the chain skips `node`; `node.next` keeps its value for the readers on
            // it, its `prev` is cleared.
            *(*node).prev.get() = ptr::null_mut();
            next
        }
    }

    /// Puts `new` in the place of `old` (`list_replace_rcu`). Readers see one or the other; the
    /// ones standing on `old` go on to its successor.
    ///
    /// # Safety
    ///
    /// As for [`RawList::unlink`] for `old`, and `new` as for [`RawList::push_front`].
    pub unsafe fn replace(&self, last: &mut *mut RcuLinks, old: *mut RcuLinks, new: *mut RcuLinks) {
        // SAFETY: `old` and its neighbours are in the list, `new` is ours and unpublished (the
        // caller's contract); `prev` fields are the writer's.
        unsafe {
            let next = Self::next_locked(old);
            let prev = *(*old).prev.get();
            // Relaxed: `new` is published by the Release store below.
            (*new).next.store(next, Ordering::Relaxed);
            *(*new).prev.get() = prev;
            // Release: pairs with the Acquire loads in `first`/`next`, publishing `new`.
            if prev.is_null() {
                self.first.store(new, Ordering::Release);
            } else {
                (*prev).next.store(new, Ordering::Release);
            }
            if next.is_null() {
                *last = new;
            } else {
                *(*next).prev.get() = new;
            }
            // INVARIANT: `new` took `old`'s place with both back pointers; `old.next` stays.
            *(*old).prev.get() = ptr::null_mut();
        }
    }

    /// Empties the list and returns its former first node (the chain stays linked through
    /// `next`, null-terminated), for the owner that drops the list.
    pub fn take_all(&mut self, last: &mut *mut RcuLinks) -> *mut RcuLinks {
        *last = ptr::null_mut();
        // Relaxed: `&mut self` excludes every other access to the list.
        // INVARIANT: empty.
        self.first.swap(ptr::null_mut(), Ordering::Relaxed)
    }
}

impl Default for RawList {
    fn default() -> Self {
        Self::new()
    }
}
