//! Freeing what the map unlinks: single nodes and replaced tables through `call_rcu`, and the
//! whole map at drop through one grace period.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::raw::{Header, RawNode, RawTable};
use crate::RcuHead;
use crate::{ForeignOwnable, RcuOld, call_rcu};

/// Frees a node queued by the map's `retire`.
///
/// # Safety
///
/// `head` is the head of a `RawNode<K, V>` leaked from a `Box`, unlinked and owned by the
/// callback, passed here once.
pub(super) unsafe fn free_node<K, V>(head: NonNull<RcuHead>) {
    let offset = core::mem::offset_of!(RawNode<K, V>, head);
    // SAFETY: the head sits `offset` bytes into the leaked node (with the box's provenance),
    // which we own now.
    drop(unsafe { Box::from_raw(head.as_ptr().byte_sub(offset).cast::<RawNode<K, V>>()) });
}

/// Frees a table's memory once it is no longer reachable.
///
/// # Safety
///
/// `head` is the header head of a table that nobody can reach any more, passed here once.
pub(super) unsafe fn free_table<K, V>(head: NonNull<RcuHead>) {
    // SAFETY: by this function's contract the table is allocated and ours.
    unsafe { RawTable::<K, V>::from_rcu_head(head).free() };
}

/// The tables of a dropped map, from the current one on through `next_table`, with the nodes in
/// their buckets.
///
/// # Invariants
///
/// `first` names a live table that this value owns, with every table after it and every node
/// in their buckets; no new reader can reach them.
pub(super) struct Tables<K, V> {
    first: RawTable<K, V>,
    _owns: PhantomData<Box<RawNode<K, V>>>,
}

impl<K, V> Tables<K, V> {
    /// Takes over the tables from `tagged` on.
    ///
    /// # Safety
    ///
    /// `tagged` names the current table of a map that is being dropped.
    pub(super) unsafe fn new(tagged: *mut Header) -> Self {
        // SAFETY: the current table of a map is alive.
        let first = unsafe { RawTable::from_tagged(tagged) }.expect("the current table is never null");
        // INVARIANT: the dropped map's tables, reachable by no new reader.
        Self { first, _owns: PhantomData }
    }

    /// Frees the tables (which hold no node) after a grace period, without waiting.
    pub(super) fn retire_memory(self) {
        let mut table = Some(core::mem::ManuallyDrop::new(self).first);
        while let Some(current) = table {
            // SAFETY: the tables are ours and alive (invariant); read the next one before
            // queueing this one.
            table = unsafe { current.next_table() };
            // SAFETY: we own the table, reachable by no new reader; its head was never queued
            // (a table is queued only when it stops being current, and this one did not); the
            // callback frees only memory.
            unsafe { call_rcu(current.rcu_head(), free_table::<K, V>) };
        }
    }

    /// Wraps the tables and their nodes to be dropped after a grace period.
    pub(super) fn into_old(self) -> RcuOld<Self> {
        let ptr = NonNull::new(self.into_foreign()).expect("tables are non-null");
        // SAFETY: the pointer comes from `into_foreign`; we own the tables (invariant) and no new
        // reader can reach them.
        unsafe { RcuOld::from_unpublished(ptr) }
    }
}

// SAFETY: the foreign pointer is the first table's tagged pointer (non-null), and `from_foreign`
// rebuilds the same owner; `borrow` gives nothing.
unsafe impl<K, V> ForeignOwnable for Tables<K, V> {
    type Borrowed<'a> = ();

    fn into_foreign(self) -> *mut c_void {
        core::mem::ManuallyDrop::new(self).first.into_tagged().cast()
    }

    unsafe fn from_foreign(ptr: *mut c_void) -> Self {
        // SAFETY: `ptr` came from `into_foreign` of tables we own.
        unsafe { Self::new(ptr.cast()) }
    }

    unsafe fn borrow<'a>(_ptr: *mut c_void) -> Self::Borrowed<'a> {}
}

impl<K, V> Drop for Tables<K, V> {
    fn drop(&mut self) {
        let mut table = Some(self.first);
        while let Some(current) = table {
            for index in 0..current.buckets() {
                // SAFETY: the table is ours and alive (invariant), `index` in bounds.
                let mut node = unsafe { current.bucket(index) }.load(crate::engine::sync::Ordering::Relaxed);
                while !node.is_null() {
                    // SAFETY: the node is ours (invariant); read its successor before freeing it.
                    let next = unsafe { RawNode::next_locked(node) };
                    // SAFETY: leaked from a `Box` and in exactly one chain (the map's invariant),
                    // so freed once.
                    drop(unsafe { Box::from_raw(node) });
                    node = next;
                }
            }
            // SAFETY: as above; read the next table before freeing this one.
            table = unsafe { current.next_table() };
            // SAFETY: ours, reachable by nobody, freed once.
            unsafe { current.free() };
        }
    }
}
