//! A detached chain of list nodes, freed as one unpublished value: one grace period for the
//! whole list, then an iterative walk (no recursion, whatever the length).

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem;
use core::ptr::NonNull;

use super::raw::RawList;
use super::{HasRcuLinks, RcuLinks};
use crate::engine::FirstPanic;
use crate::{ForeignOwnable, RcuOld};

/// The nodes of a dropped list, from `first` on through `next`, each a leaked `Box<T>`.
///
/// # Invariants
///
/// `first` starts a null-terminated chain of links of nodes leaked from `Box<T>`, all owned by
/// this value and reachable by no new reader.
pub(super) struct Chain<T: HasRcuLinks> {
    first: NonNull<RcuLinks>,
    _owns: PhantomData<Box<T>>,
}

impl<T: HasRcuLinks> Chain<T> {
    /// Wraps the chain from `first` on, to be dropped after a grace period.
    ///
    /// # Safety
    ///
    /// `first` starts a null-terminated chain of nodes leaked from `Box<T>`, which the caller
    /// owns and no new reader can reach.
    pub(super) unsafe fn old(first: NonNull<RcuLinks>) -> RcuOld<Self> {
        // SAFETY: the pointer is `Chain::into_foreign` of the chain the caller owns, unpublished.
        unsafe { RcuOld::from_unpublished(first.cast()) }
    }
}

// SAFETY: the foreign pointer is the non-null `first` link, and `from_foreign` rebuilds the same
// owner from it; `borrow` gives nothing, so no access outlives the ownership.
unsafe impl<T: HasRcuLinks> ForeignOwnable for Chain<T> {
    type Borrowed<'a> = ();

    fn into_foreign(self) -> *mut c_void {
        mem::ManuallyDrop::new(self).first.as_ptr().cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // SAFETY: `ptr` came from `into_foreign`, which never returns null.
        // INVARIANT: the chain that `into_foreign` gave up.
        Self { first: unsafe { NonNull::new_unchecked(ptr.cast()) }, _owns: PhantomData }
    }

    unsafe fn borrow<'a>(_ptr: *mut c_void) -> Self::Borrowed<'a> {}
}

impl<T: HasRcuLinks> Drop for Chain<T> {
    fn drop(&mut self) {
        // SAFETY: we own the chain (invariant), and are dropped once.
        unsafe { free_from::<T>(self.first.as_ptr()) };
    }
}

/// Drops the nodes from `links` on, front to back. If a node's `Drop` panics, the rest are
/// dropped all the same ([`FirstPanic`]: a second panic while the first unwinds would abort the
/// process, and a list may be dropped on the callback worker); the first panic goes on once
/// every node is dropped.
///
/// # Safety
///
/// `links` is null or starts a null-terminated chain of nodes leaked from `Box<T>`, owned by the
/// caller, that no reader can reach any more.
unsafe fn free_from<T: HasRcuLinks>(mut links: *mut RcuLinks) {
    let mut panics = FirstPanic::new();
    while !links.is_null() {
        let node = links;
        // SAFETY: the node is alive and ours (the caller's contract); read its successor before
        // freeing it. No other thread writes its links any more.
        links = unsafe { RawList::next_locked(node) };
        // SAFETY: the node was leaked from a `Box<T>` (`container_of` inverts the projection of
        // the box's pointer) and is freed once, here (the box frees its memory also when `T`'s
        // `Drop` panics).
        let node = unsafe { Box::from_raw(T::rcu_links_container_of(node)) };
        panics.run(move || drop(node));
    }
    panics.resume();
}
