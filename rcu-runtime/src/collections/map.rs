//! An ordered map whose readers look values up without its lock: the proof that
//! [`ForeignOwnableRcu`] is useful, after the kernel's `MapleTree::load_rcu`.

use crate::writer_lock::WriterLock;
use core::borrow::Borrow;
use core::ffi::c_void;
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::{ForeignOwnable, ForeignOwnableRcu, Guard, defer_rcu};

/// One published version of the map's index: keys in order, each with a foreign-owned value.
struct Table<K> {
    entries: Vec<(K, *mut c_void)>,
}

impl<K: Ord> Table<K> {
    /// Binary search by the borrowed form: `Borrow` requires that `Q`'s order agrees with
    /// `K`'s, so the entries are sorted for it too.
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }
}

/// Frees an unpublished table after a grace period, on the callback worker.
fn retire<K: Send + 'static>(table: *mut Table<K>) {
    let retired = RetiredTable(table);
    defer_rcu(move || {
        let retired = retired;
        // SAFETY: the table was unpublished before this callback was queued and a grace period
        // has elapsed, so no reader holds it; the values it points to are not owned by the table,
        // so only the array and the keys are freed.
        drop(unsafe { Box::from_raw(retired.0) });
    });
}

/// A retired table, sent to the callback worker to be freed after a grace period.
struct RetiredTable<K>(*mut Table<K>);
// SAFETY: a retired table is reachable by no new reader and is only freed (not read) on the
// worker; freeing drops the keys, which `K: Send` allows on another thread. The raw value
// pointers it holds are not dereferenced.
unsafe impl<K: Send> Send for RetiredTable<K> {}

/// An ordered map of foreign-owned values (`Box`, `Arc`, [`RcuBox`](crate::RcuBox), …) that
/// readers query under a [`Guard`] without taking the lock, while updaters insert and remove
/// under it.
///
/// The index is an immutable sorted array republished on every update (copy-on-write), so a
/// lookup is one Acquire load and a binary search; updates cost O(n). That suits read-mostly maps
/// of up to some thousands of entries: routing prefixes, file descriptors, configuration keys.
///
/// [`load_rcu`](RcuMap::load_rcu) is available when the values are [`ForeignOwnableRcu`]: the
/// map gives a removed value back to the caller at once (as the kernel's maple tree does), so a
/// reader's borrow stays valid only because the value itself outlives its owner by a grace period.
/// With [`RcuBox`](crate::RcuBox) values, the map is RCU-as-proof-of-existence: the reader learns
/// that the value exists, and whatever mutable state it holds is protected by a lock of its own.
///
/// `RcuMap<K, P>` is `Send` and `Sync` when `K` and `P` are both `Send + Sync`, like
/// `Arc<(K, P)>`: keys and values that readers borrow live as long as their guard, not as long
/// as the map, so the thread that sent the map away may still be reading them.
///
/// ```
/// use rcu_runtime::{read_lock, RcuBox, RcuMap};
///
/// let map = RcuMap::new();
/// map.insert(100, RcuBox::new(10));
///
/// let guard = read_lock();
/// let ten = map.load_rcu(&100, &guard);
/// assert_eq!(ten, Some(&10));
///
/// // Even if the value is removed and dropped, the reader may use it until its guard ends.
/// drop(map.remove(&100));
/// assert_eq!(ten, Some(&10));
/// ```
///
/// # Invariants
///
/// `table` always points to a live `Table<K>` allocated by `Box`, whose keys are sorted and
/// unique and whose value pointers came from `P::into_foreign` and are owned by the map. A table
/// that was published once is freed only after a grace period that starts after it was replaced.
pub struct RcuMap<K: Ord + Clone + Send + 'static, P: ForeignOwnable> {
    table: AtomicPtr<Table<K>>,
    update: WriterLock,
    _owns: PhantomData<P>,
}

// SAFETY: the map owns its keys and values; moving it moves them (`K: Send`, `P: Send`). It also
// shares them: the keys from `keys` and the values from `load_rcu` are tied to the reader's guard,
// not to the map, so the sending thread may still use them while the receiving thread reads them
// too: `K: Sync`, and `P: Sync` (a value borrow gives no more than `&P`, the `ForeignOwnable`
// contract). The map cannot tell the value types that `load_rcu` lends from the others, so it asks
// every `P` for `Sync`.
unsafe impl<K: Ord + Clone + Send + Sync + 'static, P: ForeignOwnable + Send + Sync> Send for RcuMap<K, P> {}
// SAFETY: through `&RcuMap`, any thread may insert and remove (moving `P` and `K` between threads:
// `Send`) and read keys and borrows of values concurrently (`Sync`).
unsafe impl<K: Ord + Clone + Send + Sync + 'static, P: ForeignOwnable + Send + Sync> Sync for RcuMap<K, P> {}

impl<K: Ord + Clone + Send + 'static, P: ForeignOwnable> RcuMap<K, P> {
    /// Creates an empty map.
    ///
    /// # Examples
    ///
    /// ```
    /// let map: rcu_runtime::RcuMap<u32, Box<String>> = rcu_runtime::RcuMap::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn new() -> Self {
        let table = Box::into_raw(Box::new(Table { entries: Vec::new() }));
        // INVARIANT: a fresh, empty, sorted table.
        Self { table: AtomicPtr::new(table), update: WriterLock::new(()), _owns: PhantomData }
    }

    /// Publishes a new version of the index built by `edit` from the current one, under the lock;
    /// returns what `edit` returns. The old version is freed after a grace period.
    #[track_caller]
    fn update<R>(&self, edit: impl FnOnce(&mut Vec<(K, *mut c_void)>) -> R) -> R {
        // Declared before the lock: if a key's `Clone` or `Ord` panics under it, the keys copied
        // so far are dropped after unlocking, so their `Drop` may update this map (under the
        // lock, that would panic again while unwinding: an abort). The value pointers are
        // copies; the map still owns the values.
        let mut entries: Vec<(K, *mut c_void)> = Vec::new();
        let (result, replaced) = {
            let _lock = self.update.lock(
                "RcuMap::insert()/remove()",
                "Return what to change from the closure and apply it after `with_locked` returns.",
            );
            // Relaxed: updaters are serialized by the lock, which orders the previous update's
            // store before this load.
            let current = self.table.load(Ordering::Relaxed);
            // SAFETY: the current table is live (invariant), and only updaters, serialized by the
            // lock, could replace it.
            let current_entries = unsafe { &(*current).entries };
            entries.reserve_exact(current_entries.len() + 1);
            // Not `clone()`: its copies would be dropped inside it, under the lock, if one panics.
            entries.extend(current_entries.iter().map(|(key, value)| (key.clone(), *value)));
            let result = edit(&mut entries);
            let next = Box::into_raw(Box::new(Table { entries: core::mem::take(&mut entries) }));
            // Release: pairs with the Acquire loads of readers, publishing the new table.
            // INVARIANT: `edit` keeps the entries sorted and unique (callers insert where binary
            // search says); the old table is retired below.
            self.table.store(next, Ordering::Release);
            (result, current)
        };
        // Retire outside the lock: `defer_rcu` may wait under backpressure.
        retire(replaced);
        result
    }

    /// Inserts `value` under `key`; returns the value it replaces, if any.
    ///
    /// The replaced value is the caller's at once; readers that still borrow it through
    /// [`load_rcu`](RcuMap::load_rcu) are protected by its [`ForeignOwnableRcu`] guarantee.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuMap;
    /// let map = RcuMap::new();
    /// assert!(map.insert(1, Box::new("one")).is_none());
    /// assert_eq!(map.insert(1, Box::new("uno")).map(|b| *b), Some("one"));
    /// ```
    #[track_caller]
    pub fn insert(&self, key: K, value: P) -> Option<P> {
        // Out here, not moved into the closure: if locking (re-entrancy) or the key's `Ord`
        // panics, the key and value are dropped after unlocking (their `Drop` may update this
        // map), and not leaked.
        let mut entry = Some((key, value));
        let replaced = self.update(|entries| {
            let key = &entry.as_ref().expect("taken only below").0;
            let found = entries.binary_search_by(|(k, _)| k.cmp(key));
            // Given up only once nothing can panic any more.
            let (key, value) = entry.take().expect("taken only here");
            let raw = value.into_foreign();
            match found {
                Ok(at) => Some(core::mem::replace(&mut entries[at].1, raw)),
                Err(at) => {
                    entries.insert(at, (key, raw));
                    None
                }
            }
        });
        // SAFETY: the pointer came from `into_foreign` and was owned by the map, which just
        // dropped it from the index.
        replaced.map(|old| unsafe { P::from_foreign(old) })
    }

    /// Removes the value under `key` (or under a key that borrows as `key`) and gives it back.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuMap;
    /// let map = RcuMap::new();
    /// map.insert(String::from("k"), Box::new(1));
    /// assert_eq!(map.remove("k").map(|b| *b), Some(1)); // `String: Borrow<str>`
    /// assert!(map.remove("k").is_none());
    /// ```
    #[track_caller]
    pub fn remove<Q: Ord + ?Sized>(&self, key: &Q) -> Option<P>
    where
        K: Borrow<Q>,
    {
        let removed = self.update(|entries| match entries.binary_search_by(|(k, _)| k.borrow().cmp(key)) {
            Ok(at) => Some(entries.remove(at).1),
            Err(_) => None,
        });
        // SAFETY: as in `insert`.
        removed.map(|old| unsafe { P::from_foreign(old) })
    }

    /// Looks `key` up (or a key that borrows as `key`) without the lock; the borrow lasts as
    /// long as the guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuBox, RcuMap};
    /// let map = RcuMap::new();
    /// map.insert(7, RcuBox::new("seven"));
    /// let names = RcuMap::new();
    /// names.insert(String::from("eight"), RcuBox::new(8));
    /// let guard = read_lock();
    /// assert_eq!(map.load_rcu(&7, &guard).copied(), Some("seven"));
    /// assert_eq!(names.load_rcu("eight", &guard).copied(), Some(8)); // `String: Borrow<str>`
    /// assert!(names.load_rcu("nine", &guard).is_none());
    /// ```
    pub fn load_rcu<'rcu, Q: Ord + ?Sized>(
        &self,
        key: &Q,
        _guard: &'rcu Guard,
    ) -> Option<P::RcuBorrowed<'rcu>>
    where
        K: Borrow<Q>,
        P: ForeignOwnableRcu,
    {
        // Acquire: pairs with the Release store in `update`.
        let table = self.table.load(Ordering::Acquire);
        // SAFETY: a published table is freed only a grace period after it is replaced, and
        // `_guard` holds that grace period up while we search it.
        let table = unsafe { &*table };
        let at = table.find(key).ok()?;
        // SAFETY: the pointer came from `P::into_foreign`. If an updater removes it and the owner
        // drops it, `P: ForeignOwnableRcu` keeps it valid for a grace period after that, which
        // cannot end before `_guard` (and so `'rcu`) does.
        Some(unsafe { P::rcu_borrow(table.entries[at].1) })
    }

    /// Runs `f` on the value under `key` (or a key that borrows as `key`) while holding the
    /// update lock, for any value type.
    ///
    /// # Panics
    ///
    /// If `f` updates the same map (`insert`, `remove`, another `with_locked`): that needs the
    /// lock `f` runs under, so it would deadlock. Return what to change from `f` and apply it
    /// afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::RcuMap;
    /// let map = RcuMap::new();
    /// map.insert(vec![1_u8], Box::new(10));
    /// assert_eq!(map.with_locked(&[1_u8][..], |v| v.map(|v| v + 1)), Some(11)); // `Vec<u8>: Borrow<[u8]>`
    /// ```
    #[track_caller]
    pub fn with_locked<Q: Ord + ?Sized, R>(&self, key: &Q, f: impl FnOnce(Option<P::Borrowed<'_>>) -> R) -> R
    where
        K: Borrow<Q>,
    {
        let _lock = self.update.lock(
            "RcuMap::with_locked()",
            "Return what to change from the closure and apply it after `with_locked` returns.",
        );
        let table = self.table.load(Ordering::Relaxed);
        // SAFETY: the table is live (invariant) and cannot be replaced while we hold the lock.
        let table = unsafe { &*table };
        let value = table.find(key).ok().map(|at| {
            // SAFETY: owned by the map and not removable while we hold the lock.
            unsafe { P::borrow(table.entries[at].1) }
        });
        f(value)
    }

    /// The entries of one snapshot of the map, in key order, without the lock; the borrows last
    /// as long as the guard.
    ///
    /// The whole iteration sees the one version of the index that was published when it
    /// started: updates made meanwhile are not seen, and nothing is seen twice or missed. Values
    /// removed meanwhile stay valid through their [`ForeignOwnableRcu`] guarantee.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuBox, RcuMap};
    /// let map = RcuMap::new();
    /// map.insert(2, RcuBox::new("two"));
    /// map.insert(1, RcuBox::new("one"));
    /// let guard = read_lock();
    /// let snapshot = map.iter(&guard);
    /// map.insert(3, RcuBox::new("three")); // after the snapshot: not seen
    /// let seen: Vec<(i32, &str)> = snapshot.map(|(k, v)| (*k, *v)).collect();
    /// assert_eq!(seen, [(1, "one"), (2, "two")]);
    /// ```
    pub fn iter<'rcu>(
        &self,
        _guard: &'rcu Guard,
    ) -> impl ExactSizeIterator<Item = (&'rcu K, P::RcuBorrowed<'rcu>)> + 'rcu
    where
        P: ForeignOwnableRcu + 'rcu,
    {
        // Acquire: pairs with the Release store in `update`.
        let table = self.table.load(Ordering::Acquire);
        // SAFETY: as in `load_rcu`: the table stays allocated while the guard lives, and no
        // update changes a published table.
        let table: &'rcu Table<K> = unsafe { &*table };
        table.entries.iter().map(|(k, v)| {
            // SAFETY: as in `load_rcu`: the pointer came from `P::into_foreign`, and
            // `ForeignOwnableRcu` keeps it valid for a grace period after its owner drops it,
            // which cannot end before the guard does.
            (k, unsafe { P::rcu_borrow(*v) })
        })
    }

    /// The keys present when the guard's snapshot was taken, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{read_lock, RcuMap};
    /// let map = RcuMap::new();
    /// map.insert(2, Box::new(()));
    /// map.insert(1, Box::new(()));
    /// let guard = read_lock();
    /// assert_eq!(map.keys(&guard).copied().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn keys<'rcu>(&self, _guard: &'rcu Guard) -> impl ExactSizeIterator<Item = &'rcu K> + 'rcu {
        // Acquire: pairs with the Release store in `update`.
        let table = self.table.load(Ordering::Acquire);
        // SAFETY: as in `load_rcu`: the table stays allocated while the guard lives.
        let table: &'rcu Table<K> = unsafe { &*table };
        table.entries.iter().map(|(k, _)| k)
    }

    /// The number of entries.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = rcu_runtime::RcuMap::new();
    /// map.insert(1, Box::new(()));
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let guard = crate::read_lock();
        self.keys(&guard).len()
    }

    /// Whether the map is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let map = rcu_runtime::RcuMap::<u8, Box<u8>>::new();
    /// assert!(map.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: Ord + Clone + Send + 'static, P: ForeignOwnable> Default for RcuMap<K, P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone + Send + 'static, P: ForeignOwnable> Drop for RcuMap<K, P> {
    fn drop(&mut self) {
        let table = *self.table.get_mut();
        // SAFETY: the table is live (invariant); we only copy the value pointers out of it.
        let values: Vec<*mut c_void> = unsafe { (*table).entries.iter().map(|e| e.1).collect() };
        // Keys borrowed through `keys` live as long as a reader's guard, not as long as the map:
        // the table goes the way of every unpublished table.
        retire(table);
        for value in values {
            // SAFETY: owned by the map, which is going away. Borrows obtained through `load_rcu`
            // are covered by `ForeignOwnableRcu`; borrows through `with_locked` ended with it.
            drop(unsafe { P::from_foreign(value) });
        }
    }
}

impl<K, P> fmt::Debug for RcuMap<K, P>
where
    K: Ord + Clone + Send + 'static + fmt::Debug,
    P: ForeignOwnable,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = crate::read_lock();
        f.debug_set().entries(self.keys(&guard)).finish()
    }
}
