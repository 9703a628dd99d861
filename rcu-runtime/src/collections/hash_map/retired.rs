//! Freeing what the map unlinks: the nodes of a batch after its grace period (handed over by
//! `stripes.rs`) and their memory kept for reuse, replaced tables through `call_rcu`, and the
//! whole map at drop through one grace period.

use core::alloc::Layout;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use std::alloc;
use std::sync::{PoisonError, TryLockError};

use super::raw::{Header, RawNode, RawTable};
use super::stripes::Batch;
use crate::RcuHead;
use crate::engine::FirstPanic;
use crate::engine::sync::{self, Mutex};
use crate::{ForeignOwnable, RcuOld, call_rcu};

/// Node memory whose grace period has elapsed and whose key and value are dropped, kept for
/// inserts to reuse (see `stripes.rs`), in the batches it came back in.
///
/// # Invariants
///
/// Each pointer in `kept.batches` is the memory of a node leaked from a `Box<RawNode<K, V>>`,
/// with its key and value dropped, reachable by no reader, owned by this value; `kept.nodes`
/// counts them, at most [`MAX_SPARE_NODES`].
pub(super) struct Spare<K, V> {
    kept: Mutex<Kept<K, V>>,
}

/// What a [`Spare`] keeps.
struct Kept<K, V> {
    /// Boxed, as the stripes hold them: a batch moves between the two without being copied.
    #[expect(clippy::vec_box, reason = "batches move in and out of the list as the boxes stripes hold")]
    batches: Vec<Box<Batch<K, V>>>,
    nodes: usize,
}

// SAFETY: what is kept is memory only (the nodes' keys and values are dropped): any thread may
// reuse or free it.
unsafe impl<K, V> Send for Kept<K, V> {}

/// The most nodes whose memory a map keeps for reuse; the memory of more is freed. The callback
/// worker hands batches back in bursts, one per round of callbacks (a millisecond or more): the
/// limit is above what a round brings at ten million removals a second, and a map that only
/// shrinks keeps no more than this much memory it does not use (2 MiB for `u64 → u64`, whose
/// nodes take 32 bytes; dropping the map frees it).
const MAX_SPARE_NODES: usize = 65_536;

impl<K, V> Spare<K, V> {
    /// No memory kept.
    pub(super) fn new() -> Self {
        // INVARIANT: nothing kept.
        Self { kept: Mutex::new(Kept { batches: Vec::new(), nodes: 0 }) }
    }

    /// A batch of node memory to reuse, if there is one and nobody else is at the list (an
    /// updater does not wait here: it allocates instead); the caller owns that memory from now
    /// on.
    pub(super) fn take(&self) -> Option<Box<Batch<K, V>>> {
        let mut kept = match self.kept.try_lock() {
            Ok(kept) => kept,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        // INVARIANT: what leaves the list is the caller's, and no longer counted.
        let batch = kept.batches.pop()?;
        kept.nodes -= batch.len();
        Some(batch)
    }

    /// Keeps the node memory of `batch` for reuse, or frees it if enough is kept.
    ///
    /// # Safety
    ///
    /// Each pointer of `batch` is the memory of a node leaked from a `Box<RawNode<K, V>>` whose
    /// key and value are dropped, reachable by no reader, owned by the caller.
    unsafe fn put(&self, batch: Box<Batch<K, V>>) {
        let mut kept = sync::lock(&self.kept);
        if kept.nodes + batch.len() <= MAX_SPARE_NODES {
            // INVARIANT: the caller's contract; counted.
            kept.nodes += batch.len();
            kept.batches.push(batch);
            return;
        }
        drop(kept);
        for &memory in batch.as_slice() {
            // SAFETY: forwarded from the caller; freed once, here.
            unsafe { Self::dealloc(memory) };
        }
    }

    /// Frees the memory of a node whose contents are dropped.
    ///
    /// # Safety
    ///
    /// `memory` is the memory of a node leaked from a `Box<RawNode<K, V>>` whose key and value
    /// are dropped, reachable by no reader, owned by the caller; it is freed once, here.
    pub(super) unsafe fn dealloc(memory: NonNull<RawNode<K, V>>) {
        // SAFETY: the memory came from a `Box` of this type (so from the global allocator, with
        // this layout, not zero-sized: a node has a pointer), its contents are dropped, and it is
        // ours (the caller's contract).
        unsafe { alloc::dealloc(memory.as_ptr().cast(), Layout::new::<RawNode<K, V>>()) };
    }
}

impl<K, V> Drop for Spare<K, V> {
    fn drop(&mut self) {
        let kept = self.kept.get_mut().unwrap_or_else(PoisonError::into_inner);
        for batch in kept.batches.drain(..) {
            for &memory in batch.as_slice() {
                // SAFETY: the kept memory is ours (invariant), freed once, here.
                unsafe { Self::dealloc(memory) };
            }
        }
    }
}

/// Drops the keys and values of the nodes of `batch`, in order, and keeps their memory in
/// `spare` for reuse. If a key's or value's `Drop` panics, the other nodes are dropped all the
/// same ([`FirstPanic`]): a batch gathers nodes that unrelated updates removed, so two of them
/// panicking is no reason to abort the process (as a second panic while the first unwinds
/// would). The first panic goes on once the batch is done.
///
/// # Safety
///
/// Each node of `batch` is a node leaked from a `Box` that no reader can reach any more (a grace
/// period has elapsed since it was unlinked), owned by the caller, dropped once, here.
pub(super) unsafe fn recycle<K, V>(spare: &Spare<K, V>, batch: Box<Batch<K, V>>) {
    let mut panics = FirstPanic::new();
    if core::mem::needs_drop::<RawNode<K, V>>() {
        for &node in batch.as_slice() {
            // SAFETY: the node is alive, ours and unreachable (the caller's contract); its
            // contents are dropped once, here, and its memory kept. When a field's `Drop`
            // panics, the drop glue still drops the other fields while unwinding, so the
            // contents are dropped either way.
            panics.run(|| unsafe { ptr::drop_in_place(node.as_ptr()) });
        }
    }
    // SAFETY: the nodes' contents are dropped; their memory is ours.
    unsafe { spare.put(batch) };
    panics.resume();
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
    /// Drops every node and frees every table. If a key's or value's `Drop` panics, the other
    /// nodes are dropped all the same ([`FirstPanic`], as in [`recycle`]), and the first panic
    /// goes on once everything is freed.
    fn drop(&mut self) {
        let mut panics = FirstPanic::new();
        let mut table = Some(self.first);
        while let Some(current) = table {
            for index in 0..current.buckets() {
                // SAFETY: the table is ours and alive (invariant), `index` in bounds.
                let mut node = unsafe { current.bucket(index) }.load(crate::engine::sync::Ordering::Relaxed);
                while !node.is_null() {
                    // SAFETY: the node is ours (invariant); read its successor before freeing it.
                    let next = unsafe { RawNode::next_locked(node) };
                    // SAFETY: leaked from a `Box` and in exactly one chain (the map's invariant),
                    // so freed once (the box frees its memory also when a `Drop` inside panics).
                    let boxed = unsafe { Box::from_raw(node) };
                    panics.run(move || drop(boxed));
                    node = next;
                }
            }
            // SAFETY: as above; read the next table before freeing this one.
            table = unsafe { current.next_table() };
            // SAFETY: ours, reachable by nobody, freed once.
            unsafe { current.free() };
        }
        panics.resume();
    }
}
