//! A hash map whose readers look up without locks or atomic read-modify-writes, that grows and
//! shrinks by itself without stopping them: after the kernel's rhashtable and liburcu's
//! rculfhash.
//!
//! The memory layout and the protocol steps (lookup, link, unlink, bucket migration, and the
//! argument that a lookup never misses a key present throughout) are in `hash_map/raw.rs`; the
//! stripes, and the batches in which they hand unlinked nodes to a grace period, in
//! `hash_map/stripes.rs`; this file adds the locking, the resize policy and the reclamation.

#[cfg_attr(not(loom), expect(unreachable_pub, reason = "public only for the loom models"))]
mod raw;
mod retired;
mod stripes;

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use std::collections::hash_map::RandomState;
use std::sync::TryLockError;

use self::raw::{Header, MIN_LOG2, RawNode, RawTable, STRIPE_BITS, stripe_of};
use self::retired::{Spare, Tables, free_table};
use self::stripes::{Local, REENTRY_ADVICE, Shared};
use crate::engine::sync::{Arc, AtomicPtr, AtomicUsize, Mutex, Ordering};
use crate::writer_lock::WriterGuard;
use crate::{Guard, call_rcu, read_lock};

/// Buckets migrated per acquisition of a stripe lock during a resize: long enough to amortize
/// the lock, short enough that updaters of that stripe wait a few microseconds at most.
const MIGRATION_CHUNK: usize = 64;

/// A concurrent hash map for read-mostly data: lookups take no lock and do no atomic
/// read-modify-write, updates lock one stripe of the table, and removed entries are freed after
/// a grace period, asynchronously.
///
/// Readers pass a [`Guard`] ([`get`](Self::get), [`contains_key`](Self::contains_key),
/// [`iter`](Self::iter)); the borrows they get live as long as the guard, even if the entry is
/// removed or replaced meanwhile. A lookup is a hash, a load of the table pointer, a load of the
/// bucket head and a walk of a short chain with key compares.
///
/// Updaters go through `&self` from any thread: [`insert`](Self::insert),
/// [`remove`](Self::remove), [`get_or_insert_with`](Self::get_or_insert_with). They lock one of
/// 32 stripes (by the top bits of the hash), so updates to different stripes run in parallel.
/// A replaced or removed entry is unlinked at once and dropped after a grace period on the
/// callback worker: the updater does not wait, and nothing is allocated per entry beyond the
/// node. The nodes a stripe unlinks are handed over in batches (64 nodes, one callback per
/// batch): a batch that fills goes to the worker at once, and one that does not is taken there
/// by a callback queued when it was started, so a removed entry is dropped within about two
/// grace periods even if its stripe sees no more updates ([`rcu_barrier`](crate::rcu_barrier)
/// waits for it). The worker drops the keys and values and gives the nodes' memory back to the
/// map (up to 65 536 nodes' worth), where inserts reuse it: a map that removes and inserts at
/// the same rate allocates almost nothing. Pending frees are bounded by the engine's
/// backpressure on callbacks, counted in batches (an updater that is not itself inside a
/// read-side critical section waits when too many are pending).
///
/// # Resizing
///
/// The table doubles (or more) when it holds more than ¾ entry per bucket and shrinks when it
/// holds less than ⅛, down to 32 buckets. The updater that crosses the threshold migrates the
/// entries into the new table bucket by bucket, each bucket under its stripe lock, while readers
/// go on; entries move, they are never copied. **A lookup never misses a key that is present
/// (inserted before the lookup starts and neither removed nor replaced until it returns), also
/// while a resize runs:** a node moves into the new table before it is cut out of the old one,
/// and a lookup that misses in the old table goes on to the new one (the argument is in the
/// source, at `migrate_bucket`). A key whose value is replaced during the lookup is found with
/// the old or the new value. [`iter`](Self::iter) has a weaker guarantee, stated there.
///
/// Dropping the map waits for one grace period when it holds entries (like dropping an
/// [`Rcu`](crate::Rcu): it panics inside a read-side critical section on the same thread, and
/// defers instead on the callback worker).
///
/// # Send and Sync
///
/// `RcuHashMap<K, V, S>` is `Send` and `Sync` when `K` and `V` are `Send + Sync` and `S` is
/// `Send` (for `Send`) or `Sync` (for `Sync`): readers borrow keys and values for as long as
/// their guard, not as long as the map, so moving or sharing the map leaves `&K` and `&V` on
/// several threads, and entries are inserted on any thread and freed on the callback worker.
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, RcuHashMap};
///
/// let sessions = RcuHashMap::new();
/// sessions.insert(7_u64, String::from("alice"));
///
/// let guard = read_lock();
/// let name = sessions.get(&7, &guard);
/// assert_eq!(name.map(String::as_str), Some("alice"));
///
/// // Removed at once; freed only after the guard's section has ended.
/// assert!(sessions.remove(&7));
/// assert_eq!(name.map(String::as_str), Some("alice"));
/// assert!(!sessions.contains_key(&7, &guard));
/// ```
///
/// # Invariants
///
/// - `table` is the tagged pointer of a live table (see `raw.rs`), the *current* one; tables
///   reachable from it through `next_table` are alive; a table that stops being current is
///   freed only after a grace period (through its header's callback head).
/// - Every node reachable from a bucket of these tables is a live `RawNode<K, V>` leaked from a
///   `Box` and owned by the map, in exactly one chain: the bucket `index(hash(key))` of the
///   first table on the `next_table` path whose progress has not passed that index. A node that
///   is unlinked goes, under the same stripe lock, into that stripe's batch (`stripes.rs`), which
///   frees it (or reuses its memory) only after a grace period that starts after the unlinking.
/// - The stripe counts add up to the number of nodes; each changes only under its lock.
pub struct RcuHashMap<K, V, S = RandomState> {
    table: AtomicPtr<Header>,
    /// The stripes and the spare node memory, shared with the callbacks that free batches.
    shared: Arc<Shared<K, V>>,
    /// Held by the one resizer; holds its scratch space.
    resizing: Mutex<Vec<(*mut RawNode<K, V>, usize)>>,
    hasher: S,
    _owns: PhantomData<Box<RawNode<K, V>>>,
}

// SAFETY: moving the map moves the ownership of its entries (`K`, `V`: Send) and its hasher
// (`S: Send`), while readers on the old thread may keep `&K`/`&V` for a grace period (`Sync`).
// The raw pointers (tables, nodes, the resizer's scratch) are owned by the map.
unsafe impl<K: Send + Sync, V: Send + Sync, S: Send> Send for RcuHashMap<K, V, S> {}
// SAFETY: through `&RcuHashMap`, any thread inserts and removes entries (`Send`), readers share
// keys and values (`Sync`) and hash with the shared hasher (`S: Sync`); updates are serialized
// by the stripe locks and the resizer's mutex.
unsafe impl<K: Send + Sync, V: Send + Sync, S: Sync> Sync for RcuHashMap<K, V, S> {}

/// The table size (`log2`) for `len` entries: at most ½ entry per bucket, at least 32 buckets.
fn log2_for(len: usize) -> u32 {
    let buckets =
        len.saturating_mul(2).max(1 << MIN_LOG2).checked_next_power_of_two().unwrap_or(1 << raw::MAX_LOG2);
    buckets.trailing_zeros().min(raw::MAX_LOG2)
}

impl<K, V> RcuHashMap<K, V, RandomState> {
    /// Creates an empty map with the smallest table (32 buckets).
    ///
    /// # Examples
    ///
    /// ```
    /// let map: rcu_runtime::RcuHashMap<u32, u32> = rcu_runtime::RcuHashMap::new();
    /// assert!(map.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity_and_hasher(0, RandomState::new())
    }

    /// Creates an empty map whose table holds `capacity` entries without resizing.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = rcu_runtime::RcuHashMap::with_capacity(1000);
    /// map.insert(1, "one");
    /// assert_eq!(map.len(), 1);
    /// ```
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, RandomState::new())
    }
}

impl<K, V, S> RcuHashMap<K, V, S> {
    /// Creates an empty map that hashes with `hasher`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = rcu_runtime::RcuHashMap::with_hasher(RandomState::new());
    /// map.insert("k", 1);
    /// ```
    #[must_use]
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_capacity_and_hasher(0, hasher)
    }

    /// Creates an empty map for `capacity` entries that hashes with `hasher`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = rcu_runtime::RcuHashMap::with_capacity_and_hasher(10, RandomState::new());
    /// map.insert(1_u8, 2_u8);
    /// assert_eq!(map.get(&1, &rcu_runtime::read_lock()), Some(&2));
    /// ```
    #[must_use]
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        let table = RawTable::<K, V>::alloc(log2_for(capacity));
        // INVARIANT: a fresh, empty table; no nodes; counts zero.
        Self {
            table: AtomicPtr::new(table.into_tagged()),
            shared: Arc::new(Shared::new(1 << STRIPE_BITS)),
            resizing: Mutex::new(Vec::new()),
            hasher,
            _owns: PhantomData,
        }
    }

    /// The number of entries (exact when no update runs concurrently).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = rcu_runtime::RcuHashMap::new();
    /// map.insert(1, ());
    /// map.insert(2, ());
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        // Relaxed: counts, not synchronization; each changes under its stripe lock.
        self.shared.stripes.iter().map(|s| s.count.load(Ordering::Relaxed)).sum()
    }

    /// Whether the map is empty (exact when no update runs concurrently).
    ///
    /// # Examples
    ///
    /// ```
    /// let map = rcu_runtime::RcuHashMap::<u8, u8>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The map's hasher.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::hash::BuildHasher;
    /// let map = rcu_runtime::RcuHashMap::<u8, u8>::new();
    /// let _ = map.hasher().hash_one(1_u8);
    /// ```
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    /// The current table.
    #[inline]
    fn current(&self) -> RawTable<K, V> {
        // Acquire: pairs with the Release store in `resize` that made the table current (and
        // with the initialization in the constructor, through whatever shared the map).
        let tagged = self.table.load(Ordering::Acquire);
        // SAFETY: `table` always names a live table (invariant); the caller's guard or lock keeps
        // it alive while used.
        unsafe { RawTable::from_tagged(tagged) }.expect("the current table is never null")
    }

    /// The number of buckets of the current table: it follows the number of entries (between
    /// ⅛ and ¾ entry per bucket, at least 32 buckets), for statistics and tests.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = rcu_runtime::RcuHashMap::new();
    /// assert_eq!(map.buckets(), 32);
    /// for i in 0..100 {
    ///     map.insert(i, i);
    /// }
    /// assert!(map.buckets() >= 128);
    /// ```
    pub fn buckets(&self) -> usize {
        let _guard = read_lock();
        self.current().buckets()
    }
}

impl<K, V, S> RcuHashMap<K, V, S>
where
    K: Hash + Eq,
    S: BuildHasher,
{
    /// Looks `key` up without locks; the borrow lasts as long as `guard`.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuHashMap};
    ///
    /// let map = RcuHashMap::new();
    /// map.insert(String::from("k"), 1);
    /// let guard = read_lock();
    /// assert_eq!(map.get("k", &guard), Some(&1)); // `String: Borrow<str>`
    /// assert_eq!(map.get("x", &guard), None);
    /// ```
    #[inline]
    pub fn get<'g, Q>(&self, key: &Q, _guard: &'g Guard) -> Option<&'g V>
    where
        K: Borrow<Q> + 'g,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        // SAFETY: `_guard` keeps the tables and nodes reachable now alive for `'g` (invariant:
        // both are freed a grace period after they become unreachable).
        let node = unsafe { raw::lookup(self.current(), hash, |k: &K| k.borrow() == key) }?;
        Some(&node.value)
    }

    /// Whether `key` is present.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuHashMap};
    /// let map = RcuHashMap::new();
    /// map.insert(1, 'a');
    /// assert!(map.contains_key(&1, &read_lock()));
    /// ```
    #[inline]
    pub fn contains_key<Q>(&self, key: &Q, guard: &Guard) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get(key, guard).is_some()
    }

    /// The entries, in no particular order, without locks; the borrows last as long as `guard`.
    ///
    /// Every entry present for the whole iteration is yielded at least once; entries inserted
    /// or removed meanwhile may or may not be. While a resize runs concurrently, an entry that
    /// moves to the new table may be yielded twice (once from each table); without a concurrent
    /// resize, each is yielded once.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuHashMap};
    /// let map: RcuHashMap<u32, u32> = (0..10).map(|i| (i, i * i)).collect();
    /// let guard = read_lock();
    /// let total: u32 = map.iter(&guard).map(|(_, v)| v).sum();
    /// assert_eq!(total, 285);
    /// ```
    pub fn iter<'g>(&self, _guard: &'g Guard) -> Iter<'g, K, V>
    where
        K: 'g,
        V: 'g,
    {
        // INVARIANT: the current table, reached inside `_guard`'s section, before its buckets.
        Iter { table: Some(self.current()), bucket: 0, node: ptr::null_mut(), _borrows: PhantomData }
    }
}

impl<K, V, S> RcuHashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher,
{
    /// The table that holds `hash`'s bucket now: the current one, or a newer one its bucket
    /// was migrated to.
    ///
    /// # Safety
    ///
    /// The caller holds `hash`'s stripe lock (so the answer stays true while it does) and is
    /// inside a read-side critical section (so the tables stay alive).
    unsafe fn owning_table(&self, hash: u64) -> RawTable<K, V> {
        let mut table = self.current();
        // SAFETY: the tables are alive (the caller's section) and we hold the stripe lock of the
        // bucket we ask about, so `progress` is exact for it.
        while table.index(hash) < unsafe { table.progress() } {
            // SAFETY: as above; a migrated bucket implies a next table, set before migrating.
            table = unsafe { table.next_table() }.expect("a migrated bucket has a next table");
        }
        table
    }

    /// Runs `update` under `hash`'s stripe lock on the bucket that holds `hash` now, with the
    /// stripe's entry count and the bucket's table size; also says whether a resize is under
    /// way (which the caller then helps to finish).
    #[track_caller]
    fn locked<R>(&self, hash: u64, what: &str, update: impl FnOnce(Locked<'_, K, V>) -> R) -> (R, bool) {
        let _guard = read_lock();
        let stripe = &self.shared.stripes[stripe_of(hash)];
        let mut lock: WriterGuard<'_, Local<K, V>> = stripe.lock.lock(what, REENTRY_ADVICE);
        // SAFETY: we hold the stripe lock and are inside `_guard`'s section.
        let table = unsafe { self.owning_table(hash) };
        // SAFETY: the table is alive while `_guard` lives, which outlasts `update`; the index is
        // in bounds.
        let head = unsafe { table.bucket(table.index(hash)) };
        let locked = Locked { head, count: &stripe.count, buckets: table.buckets(), local: &mut lock };
        let result = update(locked);
        // SAFETY: the current table is alive (`_guard`).
        let resizing = unsafe { self.current().next_table() }.is_some();
        (result, resizing)
    }

    /// Inserts `value` under `key`; returns true if it replaced a value (which is freed after a
    /// grace period; readers that borrowed it keep it until their guard ends).
    ///
    /// # Panics
    ///
    /// When `K`'s `Eq` or `Hash` updates this map (it would deadlock); when they panic, the map
    /// is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuHashMap};
    /// let map = RcuHashMap::new();
    /// assert!(!map.insert("k", 1));
    /// assert!(map.insert("k", 2));
    /// assert_eq!(map.get("k", &read_lock()), Some(&2));
    /// ```
    #[track_caller]
    pub fn insert(&self, key: K, value: V) -> bool {
        let hash = self.hasher.hash_one(&key);
        // Out here, not moved into the closure: if `Eq` panics under the lock, the key and value
        // are dropped after unlocking, so their `Drop` may update this map.
        let mut entry = Some((key, value));
        let ((replaced, grow), resizing) = self.locked(hash, "RcuHashMap::insert", |mut locked| {
            let key = &entry.as_ref().expect("taken only below").0;
            // SAFETY: we hold the bucket's stripe lock (`locked`).
            let (link, old) = unsafe { raw::find_locked(locked.head, |k| k == key) };
            let (key, value) = entry.take().expect("taken only here");
            let Some(old) = NonNull::new(old) else {
                // SAFETY: the key is not in the bucket (looked up just now, under the lock).
                let (_, grow) = unsafe { locked.link_new(&self.shared.spare, key, value) };
                return (None, grow);
            };
            let node = locked.local.new_node(&self.shared.spare, key, value);
            // SAFETY: as above; `link` points to `old`.
            unsafe { raw::replace_at(link, old.as_ptr(), node) };
            // SAFETY: we hold the stripe lock; `old` was the map's, unlinked just now.
            (Some(unsafe { locked.local.retire(old) }), false)
        });
        // Before resizing, which runs `K`'s `Hash` and may panic.
        let replaced = replaced.map(|retired| retired.run(&self.shared, stripe_of(hash))).is_some();
        if grow || resizing {
            self.resize();
        }
        replaced
    }

    /// Removes `key`; returns true if it was present. The entry is freed after a grace period
    /// (readers that borrowed it keep it until their guard ends).
    ///
    /// # Panics
    ///
    /// As for [`insert`](Self::insert).
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuHashMap};
    /// let map = RcuHashMap::new();
    /// map.insert(String::from("k"), 1);
    /// assert!(map.remove("k"));
    /// assert!(!map.remove("k"));
    /// assert!(map.is_empty());
    /// ```
    #[track_caller]
    pub fn remove<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hasher.hash_one(key);
        let (removed, resizing) = self.locked(hash, "RcuHashMap::remove", |locked| {
            // SAFETY: we hold the bucket's stripe lock (`locked`).
            let (link, old) = unsafe { raw::find_locked(locked.head, |k: &K| k.borrow() == key) };
            let old = NonNull::new(old)?;
            // SAFETY: as above; `link` points to `old`.
            unsafe { raw::unlink_at(link, old.as_ptr()) };
            // INVARIANT: one node less in this stripe.
            let count = add(locked.count, usize::MAX);
            let shrink = count * 8 < locked.buckets >> STRIPE_BITS && locked.buckets > 1 << MIN_LOG2;
            // SAFETY: we hold the stripe lock; `old` was the map's, unlinked just now.
            Some((unsafe { locked.local.retire(old) }, shrink))
        });
        let Some((retired, shrink)) = removed else { return false };
        // Before resizing, which runs `K`'s `Hash` and may panic.
        retired.run(&self.shared, stripe_of(hash));
        if shrink || resizing {
            self.resize();
        }
        true
    }

    /// The value under `key`, inserting `make()` first if the key is absent; the borrow lasts as
    /// long as `guard`.
    ///
    /// `make` runs at most once, outside any lock, and only if the key was absent at first; if
    /// another thread inserts the key meanwhile, that value is kept and returned, and `make`'s is
    /// dropped. Every caller thus gets the value that is in the map.
    ///
    /// # Panics
    ///
    /// As for [`insert`](Self::insert), and when `make` panics (the map is then unchanged).
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuHashMap};
    /// let cache = RcuHashMap::new();
    /// let guard = read_lock();
    /// let a = cache.get_or_insert_with("example.org", || [93, 184, 216, 34], &guard);
    /// let b = cache.get_or_insert_with("example.org", || unreachable!(), &guard);
    /// assert!(core::ptr::eq(a, b));
    /// ```
    #[track_caller]
    pub fn get_or_insert_with<'g>(&self, key: K, make: impl FnOnce() -> V, guard: &'g Guard) -> &'g V {
        if let Some(value) = self.get(&key, guard) {
            return value;
        }
        let hash = self.hasher.hash_one(&key);
        // Out here, not moved into the closure: whether `Eq` panics under the lock or another
        // thread was faster, the key and value are dropped after unlocking (their `Drop` may
        // update this map).
        let mut entry = Some((key, make()));
        let ((present, grow), resizing) =
            self.locked(hash, "RcuHashMap::get_or_insert_with", |mut locked| {
                let key = &entry.as_ref().expect("taken only below").0;
                // SAFETY: we hold the bucket's stripe lock (`locked`).
                let (_, old) = unsafe { raw::find_locked(locked.head, |k| k == key) };
                if !old.is_null() {
                    // Someone was faster: keep theirs, drop ours outside the lock.
                    return (old, false);
                }
                let (key, value) = entry.take().expect("taken only here");
                // SAFETY: the key is not in the bucket (looked up just now, under the lock).
                let (node, grow) = unsafe { locked.link_new(&self.shared.spare, key, value) };
                (node.as_ptr(), grow)
            });
        drop(entry);
        if grow || resizing {
            self.resize();
        }
        // SAFETY: `present` was linked in the map inside `guard`'s section (the caller's guard
        // is still alive: we borrow it), so it is freed only after that section ends.
        unsafe { &(*present).value }
    }

    /// Resizes the table if its load calls for it, or finishes a resize that another updater
    /// started and left (it panicked in a key's `Hash`). Only one thread resizes at a time; the
    /// others return at once.
    fn resize(&self) {
        let mut scratch = match self.resizing.try_lock() {
            Ok(scratch) => scratch,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let _guard = read_lock();
        let table = self.current();
        // SAFETY: the current table is alive (`_guard`).
        let new = match unsafe { table.next_table() } {
            Some(new) => new,
            None => {
                let (len, buckets) = (self.len(), table.buckets());
                let want = log2_for(len);
                let needed = match want.cmp(&table.log2()) {
                    core::cmp::Ordering::Greater => len * 4 > buckets * 3,
                    core::cmp::Ordering::Less => len * 8 < buckets,
                    core::cmp::Ordering::Equal => false,
                };
                if !needed {
                    return;
                }
                let new = RawTable::alloc(want);
                // SAFETY: the table is alive, we are the one resizer (`resizing`), and it had no
                // next table.
                unsafe { table.set_next_table(new) };
                new
            }
        };
        // We are the only one to change `progress`, so reading it without a stripe lock is exact.
        // SAFETY: the table is alive (`_guard`).
        let mut index = unsafe { table.progress() };
        let per_stripe = table.buckets() >> STRIPE_BITS;
        while index < table.buckets() {
            let stripe = index / per_stripe;
            let end = (index + MIGRATION_CHUNK).min((stripe + 1) * per_stripe);
            let _lock =
                self.shared.stripes[stripe].lock.lock("RcuHashMap::insert (resizing)", REENTRY_ADVICE);
            while index < end {
                // SAFETY:
                // - we are the resizer and hold the stripe lock of `index`; every destination
                //   bucket lies in the same stripe: `new.index(hash)` does for a hash of this
                //   stripe, since both tables have at least `1 << STRIPE_BITS` buckets, and
                //   `in_stripe` makes every hash one of this stripe (a key's `Hash` may answer
                //   differently than when the key was inserted);
                // - `table.next_table` is `new`, set before; both are alive (`_guard`).
                unsafe {
                    raw::migrate_bucket(table, index, new, &mut scratch, |key| {
                        new.index(in_stripe(self.hasher.hash_one(key), stripe))
                    });
                }
                index += 1;
                // SAFETY: the table is alive; we migrated bucket `index - 1` under its lock.
                unsafe { table.set_progress(index) };
            }
        }
        // Release: pairs with the Acquire load in `current`, publishing the new table (and every
        // migration step) to readers and updaters that start there.
        // INVARIANT: `new` is live and holds every node; the old table is retired below.
        self.table.store(new.into_tagged(), Ordering::Release);
        // SAFETY: the old table is no longer current; readers and updaters that still use it
        // are inside read-side critical sections that began before this, so a grace period
        // covers them; its head is not queued (tables are retired once); `free_table` frees
        // only memory, which any thread may do.
        unsafe { call_rcu(table.rcu_head(), free_table::<K, V>) };
    }
}

/// `hash`, with its stripe bits set to `stripe`'s: unchanged for a key whose `Hash` gives the
/// same answer as when the key was inserted (under `stripe`'s lock, and counted there).
///
/// A `Hash` that changes its answer must not move a node out of its stripe during a migration:
/// the resizer holds only that stripe's lock (another stripe's updaters would race with it on
/// the destination chain), and the node is counted in that stripe (another stripe's count would
/// go below zero when the node is removed there). Kept in its stripe, such a key may be missed by
/// lookups, as std's `HashMap` documents for a `Hash` that changes, but nothing worse.
fn in_stripe(hash: u64, stripe: usize) -> u64 {
    const LOW: u64 = u64::MAX >> STRIPE_BITS;
    (hash & LOW) | (stripe as u64) << (64 - STRIPE_BITS)
}

/// A bucket under its stripe's lock, as [`RcuHashMap::locked`] hands it to an update.
struct Locked<'a, K, V> {
    /// The bucket's head, in the table that holds its hash now.
    head: &'a AtomicPtr<RawNode<K, V>>,
    /// The stripe's entry count.
    count: &'a AtomicUsize,
    /// The number of buckets of the bucket's table.
    buckets: usize,
    /// What the stripe's updaters keep: where unlinked nodes go, memory for new ones.
    local: &'a mut Local<K, V>,
}

impl<K, V> Locked<'_, K, V> {
    /// Links a new entry at the front of the bucket and counts it; returns its node and whether
    /// the stripe's load now calls for a larger table.
    ///
    /// # Safety
    ///
    /// `key` is not in the bucket (the caller looked it up under this stripe lock).
    unsafe fn link_new(&mut self, spare: &Spare<K, V>, key: K, value: V) -> (NonNull<RawNode<K, V>>, bool) {
        let node = self.local.new_node(spare, key, value);
        // SAFETY: we hold the bucket's stripe lock (a `Locked` exists only under it); the node
        // is fresh, the map owns it from now on, and its key is new to the bucket (the caller's
        // contract).
        unsafe { raw::link_front(self.head, node) };
        // INVARIANT: one node more in this stripe.
        let count = add(self.count, 1);
        (node, count * 4 > (self.buckets >> STRIPE_BITS) * 3)
    }
}

/// Adds `delta` (wrapping: `usize::MAX` subtracts one) to a stripe count, under its lock; returns
/// the new count.
fn add(count: &AtomicUsize, delta: usize) -> usize {
    // Relaxed: changed only under the stripe lock; readers of `len` want a recent value, not an
    // ordering.
    let new = count.load(Ordering::Relaxed).wrapping_add(delta);
    count.store(new, Ordering::Relaxed);
    new
}

impl<K, V, S: Default> Default for RcuHashMap<K, V, S> {
    fn default() -> Self {
        Self::with_hasher(S::default())
    }
}

impl<K, V, S> Drop for RcuHashMap<K, V, S> {
    /// Frees the tables and, when there are entries, waits for one grace period and drops them
    /// (on the callback worker: defers instead of waiting).
    ///
    /// # Panics
    ///
    /// When the map holds entries, inside a read-side critical section on the same thread.
    fn drop(&mut self) {
        let tagged = self.table.load(Ordering::Relaxed);
        // SAFETY: `table` names the current table (invariant), which is now ours alone apart
        // from readers that still hold borrows under their guards.
        let tables = unsafe { Tables::<K, V>::new(tagged) };
        if self.is_empty() {
            // Only memory: free it asynchronously, without waiting.
            tables.retire_memory();
        } else {
            // Readers may still borrow entries: everything waits for one grace period.
            drop(tables.into_old());
        }
    }
}

impl<K, V, S> fmt::Debug for RcuHashMap<K, V, S>
where
    K: Hash + Eq + fmt::Debug,
    V: fmt::Debug,
    S: BuildHasher,
{
    /// Shows the entries, read inside a read-side critical section of its own.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = read_lock();
        f.debug_map().entries(self.iter(&guard)).finish()
    }
}

impl<K, V, S> FromIterator<(K, V)> for RcuHashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Default,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let map = Self::with_capacity_and_hasher(iter.size_hint().0, S::default());
        for (key, value) in iter {
            map.insert(key, value);
        }
        map
    }
}

impl<K, V, S> Extend<(K, V)> for RcuHashMap<K, V, S>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    S: BuildHasher,
{
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

/// The entries of an [`RcuHashMap`], borrowed for a read-side critical section
/// ([`RcuHashMap::iter`]).
///
/// # Examples
///
/// ```
/// use rcu_runtime::{read_lock, RcuHashMap};
/// let map = RcuHashMap::new();
/// map.insert(1, 2);
/// let guard = read_lock();
/// let mut iter: rcu_runtime::HashMapIter<'_, i32, i32> = map.iter(&guard);
/// assert_eq!(iter.next(), Some((&1, &2)));
/// assert_eq!(iter.next(), None);
/// ```
///
/// # Send and Sync
///
/// Like `(&'g K, &'g V)`, an `Iter` is `Send` and `Sync` when `K: Sync` and `V: Sync`: it
/// gives those borrows on whatever thread walks it, within the guard's borrow.
///
/// # Invariants
///
/// `table` (until exhausted) is a table reached inside the section that `'g` borrows, `bucket`
/// the next bucket to start, and `node` null or a node reached inside it: all stay alive for
/// `'g`.
pub struct Iter<'g, K, V> {
    table: Option<RawTable<K, V>>,
    bucket: usize,
    node: *mut RawNode<K, V>,
    _borrows: PhantomData<(&'g K, &'g V)>,
}

// SAFETY: an `Iter` gives `&'g K` and `&'g V` and otherwise only loads pointers (atomics) of
// tables and nodes that stay alive for `'g` (invariant), whichever thread loads them within
// `'g`: the grace period that frees them waits for the end of the guard's section, which comes
// after `'g`. So it may move when those borrows may: `K: Sync`, `V: Sync`.
unsafe impl<K: Sync, V: Sync> Send for Iter<'_, K, V> {}
// SAFETY: `&Iter` gives a clone of it (`Clone`), as sendable as the iterator (above).
unsafe impl<K: Sync, V: Sync> Sync for Iter<'_, K, V> {}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        // INVARIANT: the same position, reached in the same section.
        Self { table: self.table, bucket: self.bucket, node: self.node, _borrows: PhantomData }
    }
}

impl<'g, K, V> Iterator for Iter<'g, K, V> {
    type Item = (&'g K, &'g V);

    fn next(&mut self) -> Option<(&'g K, &'g V)> {
        loop {
            if !self.node.is_null() {
                // SAFETY: a node reached inside the section is alive for `'g` (invariant), and
                // only ever shared.
                let node: &'g RawNode<K, V> = unsafe { &*self.node };
                // SAFETY: as above.
                // INVARIANT: the next node, reached inside the same section.
                self.node = unsafe { RawNode::next(self.node) };
                return Some((&node.key, &node.value));
            }
            let table = self.table?;
            if self.bucket == table.buckets() {
                // SAFETY: the table is alive for `'g` (invariant), and so is its next one.
                // INVARIANT: the next table, from its first bucket.
                self.table = unsafe { table.next_table() };
                self.bucket = 0;
                continue;
            }
            // SAFETY: the table is alive (invariant) and `bucket` is in bounds.
            let head = unsafe { table.bucket(self.bucket) };
            // Acquire: pairs with the Release stores that put a node at a bucket's head.
            // INVARIANT: the bucket's first node, reached inside the section.
            self.node = head.load(Ordering::Acquire);
            self.bucket += 1;
        }
    }
}

impl<K, V> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashMapIter").finish_non_exhaustive()
    }
}
