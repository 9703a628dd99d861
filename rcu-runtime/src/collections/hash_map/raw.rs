//! The hash table's memory layout and its protocol steps: bucket chains that readers walk, the
//! updaters' link/replace/unlink, and the migration of one bucket to a resized table.
//!
//! Written against `crate::engine::sync`'s atomics so that `tests/loom_collections.rs` can check the
//! migration against a concurrent lookup. The argument that a lookup never misses a key that is
//! present for its whole duration is in [`migrate_bucket`]; the rest of the map (locking,
//! resizing policy, reclamation) is in `hash_map.rs`.
//!
//! Layout. A table is one allocation: a [`Header`] (aligned to 64 bytes) followed by
//! `1 << log2` bucket heads, each an `AtomicPtr` to the first node of a null-terminated chain.
//! Tables are named by a *tagged* pointer whose low 6 bits hold `64 - log2`, the shift that turns
//! a 64-bit hash into a bucket index (its high bits: `hash >> shift`). So a lookup loads the
//! tagged pointer, then the bucket head, then the nodes: a hash and two dependent loads before
//! the first key compare.
//!
//! Orderings. Every store that makes a node reachable from a bucket head or from another node
//! is Release; readers load them with Acquire. As in the list, that holds also when the stored
//! node was reachable before (unlinking, migrating): a reader arriving through the new path
//! synchronizes with a store made after the node's initialization.

use core::alloc::Layout;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};

use crate::RcuHead;
use crate::engine::sync::{AtomicPtr, AtomicUsize, Ordering};

/// `log2` of the number of lock stripes; also the smallest table's `log2`, so that every bucket
/// of every table lies in exactly one stripe, given by the top `STRIPE_BITS` bits of the hash.
pub const STRIPE_BITS: u32 = 5;
/// The smallest table: one bucket per stripe.
pub const MIN_LOG2: u32 = STRIPE_BITS;
/// The largest table (`log2`), far beyond any memory.
pub const MAX_LOG2: u32 = 58;
/// The low bits of a table pointer that hold its shift.
const TAG_MASK: usize = 63;

/// The stripe of a hash: its top `STRIPE_BITS` bits, the same in every table.
#[inline]
pub fn stripe_of(hash: u64) -> usize {
    (hash >> (64 - STRIPE_BITS)) as usize
}

/// A node of a bucket chain: one entry of the map: its link, its key and its value, nothing
/// else (unlinked nodes go to a grace period in batches, see `batch.rs`, so a node needs no
/// callback head of its own).
///
/// # Invariants
///
/// `next` is null or the next node of the chain the node is (or was last) in; it is written
/// only under the stripe lock of the node's bucket, and never after the node is unlinked
/// (except while the unlinked node is still being migrated, see [`migrate_bucket`]).
#[repr(C)]
pub struct RawNode<K, V> {
    next: AtomicPtr<RawNode<K, V>>,
    /// The entry's key.
    pub key: K,
    /// The entry's value.
    pub value: V,
}

impl<K, V> RawNode<K, V> {
    /// A node in no chain.
    pub fn new(key: K, value: V) -> Self {
        // INVARIANT: in no chain yet.
        Self { next: AtomicPtr::new(ptr::null_mut()), key, value }
    }

    /// The next node, for a reader.
    ///
    /// # Safety
    ///
    /// `node` is alive for the duration of the call.
    #[inline]
    pub unsafe fn next(node: *const Self) -> *mut Self {
        // Acquire: pairs with the Release stores that link a node after this one
        // (`link_front`, `replace_at`, `unlink_at`, `migrate_bucket`).
        // SAFETY: the node is alive (the caller's contract).
        unsafe { (*node).next.load(Ordering::Acquire) }
    }

    /// The next node, for the holder of the stripe lock.
    ///
    /// # Safety
    ///
    /// `node` is alive, and the caller holds the stripe lock of its chain (or owns the node).
    #[inline]
    pub unsafe fn next_locked(node: *const Self) -> *mut Self {
        // Relaxed: only the stripe lock's holder stores `next`, and the lock orders those stores
        // before this load.
        // SAFETY: the node is alive (the caller's contract).
        unsafe { (*node).next.load(Ordering::Relaxed) }
    }
}

/// The header of a table, followed in the same allocation by its bucket heads.
///
/// # Invariants
///
/// - `shift` is `64 - log2` for the table's `1 << log2` buckets.
/// - `next_table` is null, or the tagged pointer of the table this one is being (or was)
///   migrated into; once set it never changes.
/// - `progress` counts the buckets already migrated into `next_table`, from bucket 0 up: bucket
///   `i` is migrated (empty for good) exactly when `i < progress`. It changes only under the
///   stripe lock of the bucket just migrated.
#[repr(C, align(64))]
pub struct Header {
    next_table: AtomicPtr<Header>,
    progress: AtomicUsize,
    head: RcuHead,
    shift: usize,
}

/// A table, named by its tagged pointer (see the module docs).
///
/// A `RawTable` is a copyable name, not an owner: the map decides when a table is freed.
///
/// # Invariants
///
/// `tagged` is the address of a live table allocation whose low 6 bits hold the table's shift.
pub struct RawTable<K, V> {
    tagged: NonNull<Header>,
    _nodes: PhantomData<*mut RawNode<K, V>>,
}

impl<K, V> Clone for RawTable<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K, V> Copy for RawTable<K, V> {}

impl<K, V> PartialEq for RawTable<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.tagged == other.tagged
    }
}

impl<K, V> RawTable<K, V> {
    /// The allocation's layout for `1 << log2` buckets, and the offset of the buckets.
    fn layout(log2: u32) -> (Layout, usize) {
        let buckets = Layout::array::<AtomicPtr<RawNode<K, V>>>(1 << log2).expect("table size overflows");
        let (layout, offset) = Layout::new::<Header>().extend(buckets).expect("table size overflows");
        (layout.pad_to_align(), offset)
    }

    /// The offset of the buckets from the header, the same for every size.
    #[inline]
    fn buckets_offset() -> usize {
        // The header is 64-aligned and bucket heads are pointers: they start right after it.
        core::mem::size_of::<Header>()
    }

    /// Allocates an empty table of `1 << log2` buckets.
    ///
    /// # Panics
    ///
    /// When `log2` is outside `MIN_LOG2..=MAX_LOG2`; aborts when the allocation fails.
    pub fn alloc(log2: u32) -> Self {
        assert!((MIN_LOG2..=MAX_LOG2).contains(&log2), "table size out of range");
        let (layout, offset) = Self::layout(log2);
        debug_assert_eq!(offset, Self::buckets_offset());
        // SAFETY: the layout has a non-zero size (a header at least).
        let raw = unsafe { std::alloc::alloc(layout) }.cast::<Header>();
        let Some(raw) = NonNull::new(raw) else { std::alloc::handle_alloc_error(layout) };
        let shift = 64 - log2 as usize;
        // SAFETY: `raw` is a fresh allocation of `layout`, which starts with a `Header` and then
        // holds `1 << log2` bucket heads at `offset`; we initialize each exactly once.
        unsafe {
            raw.as_ptr().write(Header {
                next_table: AtomicPtr::new(ptr::null_mut()),
                progress: AtomicUsize::new(0),
                head: RcuHead::new(),
                shift,
            });
            let buckets = raw.as_ptr().byte_add(offset).cast::<AtomicPtr<RawNode<K, V>>>();
            for i in 0..1_usize << log2 {
                buckets.add(i).write(AtomicPtr::new(ptr::null_mut()));
            }
        }
        // INVARIANT: a live allocation, 64-aligned (the header's alignment), tagged with its
        // shift (at most 59, which fits the 6 bits).
        Self { tagged: raw.map_addr(|addr| addr | shift), _nodes: PhantomData }
    }

    /// Frees the table's memory (not its nodes).
    ///
    /// # Safety
    ///
    /// The table is no longer reachable by anyone, and freed once.
    pub unsafe fn free(self) {
        let log2 = self.log2();
        let (layout, _) = Self::layout(log2);
        // SAFETY: the header pointer is the allocation from `alloc` with this layout (same
        // `log2`); the caller guarantees that nobody uses it any more.
        unsafe { std::alloc::dealloc(self.header().cast(), layout) };
    }

    /// The tagged pointer, to store in an `AtomicPtr<Header>`.
    pub fn into_tagged(self) -> *mut Header {
        self.tagged.as_ptr()
    }

    /// The table named by a tagged pointer from [`RawTable::into_tagged`], or `None` for null.
    ///
    /// # Safety
    ///
    /// `tagged` is null or came from `into_tagged` of a table that is still alive.
    #[inline]
    pub unsafe fn from_tagged(tagged: *mut Header) -> Option<Self> {
        // INVARIANT: by the caller's contract.
        NonNull::new(tagged).map(|tagged| Self { tagged, _nodes: PhantomData })
    }

    /// The header, untagged.
    #[inline]
    fn header(self) -> *mut Header {
        self.tagged.as_ptr().map_addr(|addr| addr & !TAG_MASK)
    }

    /// The shift that turns a hash into a bucket index.
    #[inline]
    fn shift(self) -> u32 {
        (self.tagged.as_ptr().addr() & TAG_MASK) as u32
    }

    /// `log2` of the number of buckets.
    pub fn log2(self) -> u32 {
        64 - self.shift()
    }

    /// The number of buckets.
    pub fn buckets(self) -> usize {
        1 << self.log2()
    }

    /// The bucket of `hash`: its top `log2` bits.
    #[inline]
    pub fn index(self, hash: u64) -> usize {
        (hash >> self.shift()) as usize
    }

    /// The head of bucket `index`.
    ///
    /// # Safety
    ///
    /// The table stays alive for `'a`; `index < self.buckets()`.
    #[inline]
    pub unsafe fn bucket<'a>(self, index: usize) -> &'a AtomicPtr<RawNode<K, V>> {
        debug_assert!(index < self.buckets());
        // SAFETY: the buckets follow the header in the live allocation (invariant), and `index`
        // is in bounds (the caller's contract); the provenance of the tagged pointer covers the
        // whole allocation, and clearing the tag stays inside it.
        unsafe {
            &*self.header().byte_add(Self::buckets_offset()).cast::<AtomicPtr<RawNode<K, V>>>().add(index)
        }
    }

    /// The table this one is being (or was) migrated into, for a reader or an updater.
    ///
    /// # Safety
    ///
    /// The table is alive for the duration of the call.
    #[inline]
    pub unsafe fn next_table(self) -> Option<Self> {
        // Acquire: pairs with the Release store in `set_next_table`, so the new table's
        // initialization is visible.
        // SAFETY: the header is alive (the caller's contract).
        let next = unsafe { (*self.header()).next_table.load(Ordering::Acquire) };
        // SAFETY: a set `next_table` is a live table for as long as this one is reachable (the
        // map frees a table only after a grace period that follows the unpublication of every
        // table that names it).
        unsafe { Self::from_tagged(next) }
    }

    /// Announces the migration of this table into `next`.
    ///
    /// # Safety
    ///
    /// The table is alive, the caller is the one resizer, and `next` was not set before.
    pub unsafe fn set_next_table(self, next: Self) {
        // Release: pairs with the Acquire load in `next_table`.
        // SAFETY: the header is alive (the caller's contract).
        // INVARIANT: set once, by the resizer.
        unsafe { (*self.header()).next_table.store(next.into_tagged(), Ordering::Release) };
    }

    /// How many buckets are migrated (see [`Header`]).
    ///
    /// # Safety
    ///
    /// The table is alive. The answer for bucket `i` is exact only under its stripe lock.
    pub unsafe fn progress(self) -> usize {
        // Relaxed: changed only under the stripe lock of the bucket just migrated, which the
        // caller holds for the bucket it asks about, so the lock orders the change before this.
        // SAFETY: the header is alive (the caller's contract).
        unsafe { (*self.header()).progress.load(Ordering::Relaxed) }
    }

    /// Records that buckets `..done` are migrated.
    ///
    /// # Safety
    ///
    /// The table is alive; the caller is the resizer and holds the stripe lock of bucket
    /// `done - 1`, which it has just migrated.
    pub unsafe fn set_progress(self, done: usize) {
        // Relaxed: see `progress`.
        // SAFETY: the header is alive (the caller's contract).
        // INVARIANT: buckets `..done` are empty for good (the caller migrated them in order).
        unsafe { (*self.header()).progress.store(done, Ordering::Relaxed) };
    }

    /// The callback head used to free the table after a grace period.
    ///
    /// # Safety
    ///
    /// The table is alive.
    pub unsafe fn rcu_head(self) -> NonNull<RcuHead> {
        // SAFETY: the header is alive (the caller's contract); the projection creates no
        // reference.
        unsafe { NonNull::new_unchecked(&raw mut (*self.header()).head) }
    }

    /// The table whose header is `head`'s, for the callback that frees it.
    ///
    /// # Safety
    ///
    /// `head` came from [`RawTable::rcu_head`] of a table that is still allocated.
    pub unsafe fn from_rcu_head(head: NonNull<RcuHead>) -> Self {
        let offset = core::mem::offset_of!(Header, head);
        // SAFETY: the head sits `offset` bytes into the header of a live table, with the
        // allocation's provenance.
        let header = unsafe { head.byte_sub(offset).cast::<Header>() };
        // SAFETY: as above: the header is alive.
        let shift = unsafe { (*header.as_ptr()).shift };
        // INVARIANT: the live table, tagged with its shift.
        Self { tagged: header.map_addr(|addr| addr | shift), _nodes: PhantomData }
    }
}

/// Looks up, as a reader: in `table`'s bucket for `hash`, then in the tables it is being
/// migrated into, the first node whose key `eq` accepts.
///
/// # Safety
///
/// `table` is alive and so are the nodes reachable from it, for `'a`: the caller is in a
/// read-side critical section that lasts `'a` (tables and nodes are freed only a grace period
/// after they become unreachable).
#[inline]
pub unsafe fn lookup<'a, K, V>(
    mut table: RawTable<K, V>,
    hash: u64,
    mut eq: impl FnMut(&K) -> bool,
) -> Option<&'a RawNode<K, V>> {
    loop {
        // SAFETY: the table is alive for `'a` and `index` is in bounds.
        let mut node = unsafe { table.bucket(table.index(hash)) }.load(Ordering::Acquire);
        // Acquire above: pairs with the Release stores that put a node at a bucket's head.
        while !node.is_null() {
            // SAFETY: a node reached inside the section is alive for `'a`; nodes are only
            // shared (interior mutability covers `next`).
            let found = unsafe { &*node };
            if eq(&found.key) {
                return Some(found);
            }
            // SAFETY: as above.
            node = unsafe { RawNode::next(node) };
        }
        // Not here: if a migration started, the key may have moved on (see `migrate_bucket`).
        // SAFETY: the table is alive; its next table too (see `next_table`).
        table = unsafe { table.next_table() }?;
    }
}

/// Finds, under the stripe lock, the first node of `bucket`'s chain that `eq` accepts, and the
/// link that points to it (the bucket head or the previous node's `next`). Without a match,
/// returns the chain's final (null) link and null.
///
/// # Safety
///
/// The caller holds the stripe lock of the bucket, whose table is alive while `bucket` is
/// borrowed.
pub unsafe fn find_locked<K, V>(
    bucket: &AtomicPtr<RawNode<K, V>>,
    mut eq: impl FnMut(&K) -> bool,
) -> (&AtomicPtr<RawNode<K, V>>, *mut RawNode<K, V>) {
    let mut link = bucket;
    loop {
        // Relaxed: only the stripe lock's holder stores links, and the lock orders those stores
        // before this load.
        let node = link.load(Ordering::Relaxed);
        if node.is_null() {
            return (link, node);
        }
        // SAFETY: a node in a chain is alive while it is linked, and only the lock's holder
        // (us) can unlink it.
        let found = unsafe { &*node };
        if eq(&found.key) {
            return (link, node);
        }
        link = &found.next;
    }
}

/// Links `node` at the head of `bucket`.
///
/// # Safety
///
/// The caller holds the stripe lock of the bucket; `node` is alive, in no chain, and owned by
/// the map from now on.
pub unsafe fn link_front<K, V>(bucket: &AtomicPtr<RawNode<K, V>>, node: NonNull<RawNode<K, V>>) {
    // Relaxed: the head is the lock holder's to read; `node` is published by the store below.
    let first = bucket.load(Ordering::Relaxed);
    // SAFETY: `node` is ours and unpublished.
    unsafe { node.as_ref() }.next.store(first, Ordering::Relaxed);
    // Release: pairs with the Acquire loads of readers (`lookup`), publishing the node.
    bucket.store(node.as_ptr(), Ordering::Release);
}

/// Puts `new` in the place of `old`, which `link` points to.
///
/// # Safety
///
/// The caller holds the stripe lock; `link` points to `old` (from [`find_locked`]); `new` is as
/// for [`link_front`]. `old` must then be freed only after a grace period.
pub unsafe fn replace_at<K, V>(
    link: &AtomicPtr<RawNode<K, V>>,
    old: *mut RawNode<K, V>,
    new: NonNull<RawNode<K, V>>,
) {
    // SAFETY: `old` is linked, so alive; we hold its lock.
    let next = unsafe { RawNode::next_locked(old) };
    // SAFETY: `new` is ours and unpublished.
    unsafe { new.as_ref() }.next.store(next, Ordering::Relaxed);
    // Release: pairs with the Acquire loads of readers, publishing `new`; readers on `old` go on
    // through its unchanged `next`.
    link.store(new.as_ptr(), Ordering::Release);
}

/// Unlinks `old`, which `link` points to. Its `next` stays, for the readers standing on it.
///
/// # Safety
///
/// As for [`replace_at`] (without `new`).
pub unsafe fn unlink_at<K, V>(link: &AtomicPtr<RawNode<K, V>>, old: *mut RawNode<K, V>) {
    // SAFETY: `old` is linked, so alive; we hold its lock.
    let next = unsafe { RawNode::next_locked(old) };
    // Release: pairs with the Acquire loads of readers: `next` was published before, but a
    // reader arriving through this link must synchronize with a store made after its
    // initialization (see the module docs).
    link.store(next, Ordering::Release);
}

/// Moves every node of bucket `index` of `old` into the buckets of `new` that `dest` gives
/// (computed for every node *before* anything moves, so a panicking `dest` changes nothing).
///
/// `scratch` is working space, left empty.
///
/// **Why a concurrent lookup never misses a key that is present throughout.** Nodes move one at
/// a time, from the tail of the old chain: for the tail node `x` (predecessor link `p`), (1)
/// `x.next` is pointed at the head of its destination chain, (2) `x` is published at that head,
/// (3) `p` is set to null, cutting `x` from the old chain. A reader in the old chain that had
/// reached `x` before (3) follows `x.next` into the destination chain: extra nodes, harmless,
/// and `x` was the tail, so nothing of the old chain lies beyond. A reader that misses `x` in
/// the old chain does so because it read a link value written at or after (3) (there is no other
/// way to skip the tail): that load is Acquire and the store Release, so the reader also sees (2)
/// and the Release store of `old.next_table` made before the migration began. It then looks in
/// `new` (`lookup` goes on to `next_table` after a miss) and finds `x` in its destination
/// chain, where later changes only add nodes at the head or unlink other nodes, unless `x` was
/// migrated again into a newer table, to which the same argument applies. Removal of `x` itself
/// would contradict "present throughout".
///
/// # Safety
///
/// - The caller is the resizer, holds the stripe lock of bucket `index` of `old`, and every
///   destination bucket lies in the same stripe; `old.next_table` is `new`, set before.
/// - Both tables are alive; `dest` returns indices of `new`'s buckets.
pub unsafe fn migrate_bucket<K, V>(
    old: RawTable<K, V>,
    index: usize,
    new: RawTable<K, V>,
    scratch: &mut Vec<(*mut RawNode<K, V>, usize)>,
    mut dest: impl FnMut(&K) -> usize,
) {
    scratch.clear();
    // SAFETY: the table is alive and `index` in bounds (the caller's contract).
    let bucket = unsafe { old.bucket(index) };
    // Relaxed: we hold the stripe lock, which orders every earlier store to this chain.
    let mut node = bucket.load(Ordering::Relaxed);
    while !node.is_null() {
        // SAFETY: a linked node is alive; only we (holding the lock) can unlink it.
        let to = dest(unsafe { &(*node).key });
        debug_assert!(to < new.buckets());
        scratch.push((node, to));
        // SAFETY: as above.
        node = unsafe { RawNode::next_locked(node) };
    }
    while let Some((node, to)) = scratch.pop() {
        // SAFETY: `to` is a bucket of `new`, alive (the caller's contract).
        let target = unsafe { new.bucket(to) };
        // (1) Relaxed load: the destination is in our stripe, so its links are ours to read.
        // Release store: pairs with readers' Acquire loads of `next`; a reader on `node` goes on
        // into the destination chain, whose nodes' initialization this makes visible.
        // SAFETY: `node` is alive (linked in the old chain).
        unsafe { (*node).next.store(target.load(Ordering::Relaxed), Ordering::Release) };
        // (2) Release: pairs with the Acquire loads of readers of `new`, publishing the node
        // there (and, by cumulativity, everything the resizer did before).
        target.store(node, Ordering::Release);
        // (3) Release: cuts the node (the tail) from the old chain; pairs with the Acquire load
        // of a reader of the old chain, which then sees (2) too.
        let link = match scratch.last() {
            // SAFETY: the predecessor is alive (linked).
            Some(&(prev, _)) => unsafe { &(*prev).next },
            None => bucket,
        };
        link.store(ptr::null_mut(), Ordering::Release);
    }
}
