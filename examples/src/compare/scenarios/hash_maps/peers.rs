//! The hash maps of scenario 7, behind one trait: ours, the concurrent peers, the locked std
//! maps and the unsynchronized std floor. All hash with std's `RandomState` (SipHash-1-3).

use core::cell::UnsafeCell;
use core::hash::Hash;
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::sync::{Mutex, RwLock};

use rcu_runtime::{RcuHashMap, read_lock};

/// Operations per batch: readers that need a guard (ours, papaya) take one per batch.
pub(crate) const BATCH: u32 = 64;

/// The key and value types of one workload.
pub(crate) trait Workload: 'static {
    type K: Hash + Eq + Clone + Send + Sync + 'static;
    type V: Clone + Send + Sync + 'static;
    const NAME: &'static str;
    fn key(i: u64) -> Self::K;
    fn value(i: u64) -> Self::V;
    /// What a reader takes from a value.
    fn read(value: &Self::V) -> u64;
}

/// `u64 → u64`.
pub(crate) struct U64s;

impl Workload for U64s {
    type K = u64;
    type V = u64;
    const NAME: &'static str = "u64 → u64";
    fn key(i: u64) -> u64 {
        i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
    fn value(i: u64) -> u64 {
        i
    }
    fn read(value: &u64) -> u64 {
        *value
    }
}

/// A small struct value, for the `String` workload.
#[derive(Clone)]
pub(crate) struct Small {
    id: u64,
    hits: u32,
    tag: [u8; 8],
}

/// `String → Small`.
pub(crate) struct Strings;

impl Workload for Strings {
    type K = String;
    type V = Small;
    const NAME: &'static str = "String → small struct";
    fn key(i: u64) -> String {
        format!("session-{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
    fn value(i: u64) -> Small {
        Small { id: i, hits: i as u32, tag: i.to_le_bytes() }
    }
    fn read(value: &Small) -> u64 {
        value.id + u64::from(value.hits) + u64::from(value.tag[0])
    }
}

/// xorshift64: the index of the next key and whether the operation updates.
#[inline]
pub(crate) fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

/// One map under test.
pub(crate) trait MapPeer<W: Workload>: Sync {
    fn name(&self) -> &'static str;
    /// Whether several threads may update it (the floor may not).
    fn concurrent_updates(&self) -> bool {
        true
    }
    fn insert(&self, key: W::K, value: W::V);
    fn remove(&self, key: &W::K);
    /// `BATCH` operations on random keys of `keys`: an update (replacing a value) with
    /// probability `update_permille`/1000, else a lookup. Returns what the lookups read.
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64;
}

/// Runs a batch with `read` and `update` given the key index.
#[inline]
fn ops<W: Workload>(
    keys: &[W::K],
    rng: &mut u64,
    update_permille: u64,
    mut read: impl FnMut(&W::K) -> u64,
    mut update: impl FnMut(&W::K, u64),
) -> u64 {
    let mut sum = 0;
    for _ in 0..BATCH {
        let r = next(rng);
        let index = (r >> 11) % keys.len() as u64;
        if update_permille != 0 && (r & 1023) < update_permille * 1024 / 1000 {
            update(&keys[index as usize], index);
        } else {
            sum += read(&keys[index as usize]);
        }
    }
    sum
}

pub(crate) struct Ours<W: Workload>(pub(crate) RcuHashMap<W::K, W::V>);

impl<W: Workload> MapPeer<W> for Ours<W> {
    fn name(&self) -> &'static str {
        "rcu-runtime RcuHashMap"
    }
    fn insert(&self, key: W::K, value: W::V) {
        self.0.insert(key, value);
    }
    fn remove(&self, key: &W::K) {
        self.0.remove(key);
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        let guard = read_lock();
        ops::<W>(
            keys,
            rng,
            update_permille,
            |k| self.0.get(k, &guard).map_or(0, W::read),
            |k, i| {
                self.0.insert(k.clone(), W::value(i));
            },
        )
    }
}

/// Ours with a guard per lookup instead of per batch, to show what the guard costs.
pub(crate) struct OursGuardPerLookup<W: Workload>(pub(crate) RcuHashMap<W::K, W::V>);

impl<W: Workload> MapPeer<W> for OursGuardPerLookup<W> {
    fn name(&self) -> &'static str {
        "rcu-runtime, guard per lookup"
    }
    fn insert(&self, key: W::K, value: W::V) {
        self.0.insert(key, value);
    }
    fn remove(&self, key: &W::K) {
        self.0.remove(key);
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        ops::<W>(
            keys,
            rng,
            update_permille,
            |k| self.0.get(k, &read_lock()).map_or(0, W::read),
            |k, i| {
                self.0.insert(k.clone(), W::value(i));
            },
        )
    }
}

pub(crate) struct Papaya<W: Workload>(pub(crate) papaya::HashMap<W::K, W::V>);

impl<W: Workload> MapPeer<W> for Papaya<W> {
    fn name(&self) -> &'static str {
        "papaya"
    }
    fn insert(&self, key: W::K, value: W::V) {
        self.0.pin().insert(key, value);
    }
    fn remove(&self, key: &W::K) {
        self.0.pin().remove(key);
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        let map = self.0.pin();
        ops::<W>(
            keys,
            rng,
            update_permille,
            |k| map.get(k).map_or(0, W::read),
            |k, i| {
                map.insert(k.clone(), W::value(i));
            },
        )
    }
}

pub(crate) struct Dash<W: Workload>(pub(crate) dashmap::DashMap<W::K, W::V>);

impl<W: Workload> MapPeer<W> for Dash<W> {
    fn name(&self) -> &'static str {
        "dashmap"
    }
    fn insert(&self, key: W::K, value: W::V) {
        self.0.insert(key, value);
    }
    fn remove(&self, key: &W::K) {
        self.0.remove(key);
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        ops::<W>(
            keys,
            rng,
            update_permille,
            |k| self.0.get(k).map_or(0, |v| W::read(&v)),
            |k, i| {
                self.0.insert(k.clone(), W::value(i));
            },
        )
    }
}

pub(crate) struct Scc<W: Workload>(pub(crate) scc::HashMap<W::K, W::V>);

impl<W: Workload> MapPeer<W> for Scc<W> {
    fn name(&self) -> &'static str {
        "scc HashMap"
    }
    fn insert(&self, key: W::K, value: W::V) {
        self.0.upsert(key, value);
    }
    fn remove(&self, key: &W::K) {
        self.0.remove(key);
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        ops::<W>(
            keys,
            rng,
            update_permille,
            |k| self.0.read(k, |_, v| W::read(v)).unwrap_or(0),
            |k, i| {
                self.0.upsert(k.clone(), W::value(i));
            },
        )
    }
}

pub(crate) struct Locked<W: Workload>(pub(crate) RwLock<HashMap<W::K, W::V>>);

impl<W: Workload> MapPeer<W> for Locked<W> {
    fn name(&self) -> &'static str {
        "RwLock<HashMap>"
    }
    fn insert(&self, key: W::K, value: W::V) {
        self.0.write().unwrap().insert(key, value);
    }
    fn remove(&self, key: &W::K) {
        self.0.write().unwrap().remove(key);
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        ops::<W>(
            keys,
            rng,
            update_permille,
            |k| self.0.read().unwrap().get(k).map_or(0, W::read),
            |k, i| {
                self.0.write().unwrap().insert(k.clone(), W::value(i));
            },
        )
    }
}

pub(crate) struct Mutexed<W: Workload>(pub(crate) Mutex<HashMap<W::K, W::V>>);

impl<W: Workload> MapPeer<W> for Mutexed<W> {
    fn name(&self) -> &'static str {
        "Mutex<HashMap>"
    }
    fn insert(&self, key: W::K, value: W::V) {
        self.0.lock().unwrap().insert(key, value);
    }
    fn remove(&self, key: &W::K) {
        self.0.lock().unwrap().remove(key);
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        ops::<W>(
            keys,
            rng,
            update_permille,
            |k| self.0.lock().unwrap().get(k).map_or(0, W::read),
            |k, i| {
                self.0.lock().unwrap().insert(k.clone(), W::value(i));
            },
        )
    }
}

/// The floor: std's `HashMap` with no synchronization at all. Sound only as the scenario uses
/// it: updates from one thread alone, or several threads that only read.
pub(crate) struct Floor<W: Workload>(pub(crate) UnsafeCell<HashMap<W::K, W::V, RandomState>>);

// SAFETY: the scenario never lets two threads use the floor unless neither updates it
// (`concurrent_updates` is false, and the scenario skips the floor for mixed multi-thread runs),
// and shared reads of a `HashMap` are `Sync`.
unsafe impl<W: Workload> Sync for Floor<W> {}

impl<W: Workload> MapPeer<W> for Floor<W> {
    fn name(&self) -> &'static str {
        "std HashMap, unsynchronized (floor)"
    }
    fn concurrent_updates(&self) -> bool {
        false
    }
    fn insert(&self, key: W::K, value: W::V) {
        // SAFETY: updates run on one thread with no reader (see the `Sync` impl).
        unsafe { (*self.0.get()).insert(key, value) };
    }
    fn remove(&self, key: &W::K) {
        // SAFETY: as in `insert`.
        unsafe { (*self.0.get()).remove(key) };
    }
    fn batch(&self, keys: &[W::K], rng: &mut u64, update_permille: u64) -> u64 {
        ops::<W>(
            keys,
            rng,
            update_permille,
            // SAFETY: readers run alone or alongside other readers only (see the `Sync` impl).
            |k| unsafe { (*self.0.get()).get(k) }.map_or(0, W::read),
            |k, i| {
                // SAFETY: an update happens only when this is the only thread (see `Sync`).
                unsafe { (*self.0.get()).insert(k.clone(), W::value(i)) };
            },
        )
    }
}

/// Every system, empty.
pub(crate) fn all<W: Workload>() -> Vec<Box<dyn MapPeer<W>>> {
    vec![
        Box::new(Floor::<W>(UnsafeCell::new(HashMap::new()))),
        Box::new(Ours::<W>(RcuHashMap::new())),
        Box::new(OursGuardPerLookup::<W>(RcuHashMap::new())),
        Box::new(Papaya::<W>(papaya::HashMap::new())),
        Box::new(Dash::<W>(dashmap::DashMap::new())),
        Box::new(Scc::<W>(scc::HashMap::new())),
        Box::new(Locked::<W>(RwLock::new(HashMap::new()))),
        Box::new(Mutexed::<W>(Mutex::new(HashMap::new()))),
    ]
}
