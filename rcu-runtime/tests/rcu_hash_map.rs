//! `RcuHashMap`: behaviour, a property test against `std::collections::HashMap`, panics and
//! re-entrancy in keys' `Hash`/`Eq`, and readers racing with updaters and resizes under a
//! poisoning allocator.
//!
//! `RCU_MAP_STRESS_SECONDS` lengthens the stress test (default 2 s);
//! `RCU_MAP_PROPERTY_CASES` the property test (default 300 cases).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rcu_runtime::{RcuHashMap, rcu_barrier, read_lock};
use test_support::rng::Rng;
use test_support::{Tracked, counter, liveness, panic_message, poison_alloc};

#[global_allocator]
static ALLOC: poison_alloc::PoisonAllocator = poison_alloc::PoisonAllocator;

#[test]
fn insert_get_remove_and_the_std_traits() {
    let map = RcuHashMap::new();
    assert!(map.is_empty());
    assert!(!map.insert(String::from("a"), 1));
    assert!(!map.insert(String::from("b"), 2));
    assert!(map.insert(String::from("a"), 10), "replacing says so");
    let guard = read_lock();
    assert_eq!(map.get("a", &guard), Some(&10), "Borrow<str> lookups");
    assert_eq!(map.get(&String::from("b"), &guard), Some(&2));
    assert!(map.contains_key("b", &guard));
    assert!(!map.contains_key("c", &guard));
    drop(guard);
    assert_eq!(map.len(), 2);
    assert!(map.remove("a"));
    assert!(!map.remove("a"));
    assert_eq!(format!("{map:?}"), r#"{"b": 2}"#);

    let mut collected: RcuHashMap<u32, u32> = (0..100).map(|i| (i, i + 1)).collect();
    collected.extend((100..200).map(|i| (i, i + 1)));
    assert_eq!(collected.len(), 200);
    let guard = read_lock();
    let mut keys: Vec<u32> = collected
        .iter(&guard)
        .map(|(k, v)| {
            assert_eq!(*v, k + 1);
            *k
        })
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..200).collect::<Vec<_>>());
    drop(guard);

    let custom: RcuHashMap<u8, u8, RandomState> =
        RcuHashMap::with_capacity_and_hasher(1000, RandomState::new());
    assert!(custom.buckets() >= 2000, "with_capacity sizes the table for half an entry per bucket");
    let default: RcuHashMap<u8, u8> = RcuHashMap::default();
    assert_eq!(default.buckets(), 32);
}

#[test]
fn replaced_and_removed_values_stay_readable_then_are_freed_without_blocking() {
    let drops = counter();
    let map = RcuHashMap::new();
    map.insert(1_u64, Tracked::new(1, &drops));
    map.insert(2_u64, Tracked::new(2, &drops));
    let guard = read_lock();
    let one = map.get(&1, &guard).unwrap();
    let two = map.get(&2, &guard).unwrap();
    // Inside a read-side section: these would deadlock if they waited for a grace period.
    assert!(map.insert(1, Tracked::new(11, &drops)));
    assert!(map.remove(&2));
    assert_eq!((one.check(), two.check()), (1, 2), "still readable under the guard");
    assert_eq!(map.get(&1, &guard).map(Tracked::check), Some(11));
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(guard);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 2, "freed after the grace period, by the worker");
    drop(map);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "dropping the map drops the rest");
}

#[test]
fn the_table_grows_and_shrinks_by_itself() {
    let map = RcuHashMap::new();
    assert_eq!(map.buckets(), 32);
    for i in 0..10_000_u64 {
        map.insert(i, i);
    }
    let grown = map.buckets();
    assert!(grown >= 10_000 * 4 / 3, "at most 3/4 entry per bucket: {grown} buckets");
    let guard = read_lock();
    assert!((0..10_000).all(|i| map.get(&i, &guard) == Some(&i)));
    drop(guard);
    for i in 0..9_990_u64 {
        assert!(map.remove(&i));
    }
    let shrunk = map.buckets();
    assert!(shrunk <= 128, "at least 1/8 entry per bucket: {shrunk} buckets for 10 entries");
    let guard = read_lock();
    assert!((9_990..10_000).all(|i| map.get(&i, &guard) == Some(&i)));
    assert_eq!(map.iter(&guard).count(), 10);
}

/// The property test: random operation sequences on `RcuHashMap` and on `std`'s `HashMap` give
/// the same answers and leave the same contents.
#[test]
fn behaves_like_std_hash_map_under_random_operations() {
    let cases = std::env::var("RCU_MAP_PROPERTY_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(300_u64);
    for case in 0..cases {
        let mut rng = Rng::new(case);
        // Small key spaces collide a lot; large ones make the table grow and shrink.
        let key_space = [8, 64, 512, 4096][(case % 4) as usize];
        let operations = 50 + rng.below(1500);
        let ours: RcuHashMap<u64, u64> = RcuHashMap::new();
        let mut model: HashMap<u64, u64> = HashMap::new();
        let guard_every = 1 + rng.below(8);
        for step in 0..operations {
            let key = rng.below(key_space);
            let value = rng.next_u64();
            let context = || format!("case {case}, step {step}, key {key}");
            match rng.below(10) {
                0..=3 => {
                    assert_eq!(ours.insert(key, value), model.insert(key, value).is_some(), "{}", context())
                }
                4..=5 => assert_eq!(ours.remove(&key), model.remove(&key).is_some(), "{}", context()),
                6 => {
                    let guard = read_lock();
                    let got = *ours.get_or_insert_with(key, || value, &guard);
                    assert_eq!(got, *model.entry(key).or_insert(value), "{}", context());
                }
                7 => {
                    // A burst of removals, to make the table shrink.
                    let doomed: Vec<u64> = model.keys().copied().filter(|k| k % 3 == key % 3).collect();
                    for k in doomed {
                        assert!(ours.remove(&k), "{}", context());
                        model.remove(&k);
                    }
                }
                _ => {
                    let guard = read_lock();
                    assert_eq!(ours.get(&key, &guard), model.get(&key), "{}", context());
                    assert_eq!(ours.contains_key(&key, &guard), model.contains_key(&key), "{}", context());
                }
            }
            if step % guard_every == 0 {
                assert_eq!(ours.len(), model.len(), "{}", context());
            }
        }
        let guard = read_lock();
        let mut contents: Vec<(u64, u64)> = ours.iter(&guard).map(|(k, v)| (*k, *v)).collect();
        let mut expected: Vec<(u64, u64)> = model.into_iter().collect();
        contents.sort_unstable();
        expected.sort_unstable();
        assert_eq!(contents, expected, "case {case}: final contents");
    }
}

#[test]
fn get_or_insert_with_gives_every_racer_the_same_value() {
    let map: RcuHashMap<u64, AtomicU64> = RcuHashMap::new();
    let made = AtomicUsize::new(0);
    let threads = 4;
    let barrier = Barrier::new(threads);
    let pointers: Vec<Vec<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let guard = read_lock();
                    (0..2000_u64)
                        .map(|key| {
                            let value = map.get_or_insert_with(
                                key,
                                || {
                                    made.fetch_add(1, Ordering::Relaxed);
                                    AtomicU64::new(key)
                                },
                                &guard,
                            );
                            value.fetch_add(1, Ordering::Relaxed);
                            std::ptr::from_ref(value).addr()
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for other in &pointers[1..] {
        assert_eq!(other, &pointers[0], "every racer got the value that is in the map");
    }
    assert_eq!(map.len(), 2000);
    let guard = read_lock();
    for key in 0..2000 {
        assert_eq!(map.get(&key, &guard).unwrap().load(Ordering::Relaxed), key + threads as u64);
    }
    println!("{} values made for 2000 keys by {threads} racers", made.load(Ordering::Relaxed));
}

/// A key whose `Eq` and `Hash` can be told to panic or to update a map.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Touchy(u64);

static EQ_PANICS: AtomicBool = AtomicBool::new(false);
static HASH_PANICS_FOR: AtomicU64 = AtomicU64::new(u64::MAX);

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        assert_ne!(self.0, HASH_PANICS_FOR.load(Ordering::SeqCst), "hash panics for {}", self.0);
        self.0.hash(state);
    }
}

/// A key whose `Eq` tries to insert into the map stored in `REENTER`.
#[derive(Debug)]
struct Reentrant(u64);

impl Hash for Reentrant {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

thread_local! {
    static REENTER: std::cell::Cell<Option<&'static RcuHashMap<Reentrant, u64>>> = const { std::cell::Cell::new(None) };
}

impl PartialEq for Reentrant {
    fn eq(&self, other: &Self) -> bool {
        if let Some(map) = REENTER.with(std::cell::Cell::take) {
            map.insert(Reentrant(self.0), 0);
        }
        self.0 == other.0
    }
}
impl Eq for Reentrant {}

#[test]
fn panics_in_hash_and_eq_leave_the_map_consistent_and_unlocked() {
    #[derive(Clone, Copy, Debug)]
    struct Fragile(u64);
    impl Hash for Fragile {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }
    impl PartialEq for Fragile {
        fn eq(&self, other: &Self) -> bool {
            assert!(!EQ_PANICS.load(Ordering::SeqCst), "eq panics");
            self.0 == other.0
        }
    }
    impl Eq for Fragile {}

    let map = RcuHashMap::new();
    for i in 0..100 {
        map.insert(Fragile(i), i);
    }
    EQ_PANICS.store(true, Ordering::SeqCst);
    let result = catch_unwind(AssertUnwindSafe(|| map.insert(Fragile(5), 55)));
    EQ_PANICS.store(false, Ordering::SeqCst);
    assert!(panic_message(&*result.err().unwrap()).contains("eq panics"));
    assert_eq!(map.len(), 100);
    assert_eq!(map.get(&Fragile(5), &read_lock()), Some(&5), "unchanged");
    assert!(map.insert(Fragile(5), 55), "the stripe was unlocked");

    // A `Hash` that panics in the middle of a resize: the resize stops, the map stays right,
    // and a later update finishes it.
    let map = RcuHashMap::new();
    for i in 0..20 {
        map.insert(Touchy(i), i);
    }
    HASH_PANICS_FOR.store(3, Ordering::SeqCst);
    let result = catch_unwind(AssertUnwindSafe(|| {
        for i in 20..100 {
            map.insert(Touchy(i), i);
        }
    }));
    assert!(panic_message(&*result.err().unwrap()).contains("hash panics for 3"));
    HASH_PANICS_FOR.store(u64::MAX, Ordering::SeqCst);
    let len = map.len();
    let guard = read_lock();
    let present = (0..100).filter(|&i| map.get(&Touchy(i), &guard) == Some(&i)).count();
    assert_eq!(present, len, "every counted key is found during the interrupted resize");
    drop(guard);
    for i in 0..200 {
        map.insert(Touchy(i), i);
    }
    assert_eq!(map.len(), 200);
    assert!(map.buckets() >= 256, "the resize went on");
    let guard = read_lock();
    assert!((0..200).all(|i| map.get(&Touchy(i), &guard) == Some(&i)));
}

#[test]
fn a_key_whose_eq_updates_the_same_map_panics_instead_of_deadlocking() {
    let map: &'static RcuHashMap<Reentrant, u64> = Box::leak(Box::new(RcuHashMap::new()));
    map.insert(Reentrant(1), 1);
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        REENTER.with(|cell| cell.set(Some(map)));
        let result = catch_unwind(AssertUnwindSafe(|| map.insert(Reentrant(1), 2)));
        tx.send(result.err().map(|p| panic_message(&*p))).unwrap();
    });
    let message = rx.recv_timeout(liveness::HANG).expect("re-entrant insert deadlocked").unwrap();
    thread.join().unwrap();
    assert!(message.contains("RcuHashMap::insert") && message.contains("deadlock"), "{message}");
    assert_eq!(map.get(&Reentrant(1), &read_lock()), Some(&1));
    assert!(map.insert(Reentrant(1), 3), "the stripe was unlocked");
    // SAFETY: leaked above; the thread that used it has ended, so this is the last reference.
    drop(unsafe { Box::from_raw(std::ptr::from_ref(map).cast_mut()) });
}

#[test]
fn get_or_insert_with_survives_a_closure_that_panics_or_inserts_the_same_key() {
    /// A panic payload whose destructor panics too.
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("the payload's destructor panics");
        }
    }
    let map: RcuHashMap<u64, u64> = RcuHashMap::new();
    let guard = read_lock();
    // The closure runs before any lock is taken: its panic changes nothing and leaves no stripe
    // locked. (The payload is not dropped here: its drop would panic again.)
    let payload = catch_unwind(AssertUnwindSafe(|| {
        map.get_or_insert_with(1, || std::panic::panic_any(PanicsOnDrop), &guard);
    }))
    .expect_err("the closure's panic reaches the caller");
    std::mem::forget(payload);
    assert_eq!(map.get(&1, &guard), None);
    assert!(!map.insert(1, 10), "nothing was inserted, and the stripe is free");
    // A closure that inserts the same key into the same map: it is not under the lock, so this
    // works, and the value it inserted wins (the one the closure returns is dropped).
    let won = *map.get_or_insert_with(
        2,
        || {
            map.insert(2, 20);
            21
        },
        &guard,
    );
    assert_eq!((won, map.get(&2, &guard).copied()), (20, Some(20)));
    assert_eq!(map.len(), 2);
}

#[test]
fn the_map_is_send_and_sync_when_its_keys_and_values_are() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RcuHashMap<String, Vec<u8>>>();
}

/// A value that knows its key, poisons itself when dropped, and counts its drops.
struct Entry {
    key: u64,
    generation: u64,
    tracked: Tracked,
}

/// Readers look up stable keys (never removed) and transient ones while two updaters insert,
/// replace and remove transient keys in bursts that make the table grow and shrink again and
/// again. A stable key must always be found, with its value; any value found must be live and
/// belong to its key. Freed memory is poisoned by `Tracked` (in the value) and by the allocator.
#[test]
fn readers_find_every_stable_key_across_resizes_and_never_see_freed_entries() {
    const STABLE: u64 = 512;
    const TRANSIENT_BASE: u64 = 1 << 32;
    let seconds = std::env::var("RCU_MAP_STRESS_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    // Under AddressSanitizer (RCU_TORTURE_QUARANTINE=off) ASan's own quarantine does the job.
    poison_alloc::configure_from_env();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let drops = counter();
    let map: RcuHashMap<u64, Entry> = RcuHashMap::new();
    for key in 0..STABLE {
        map.insert(key, Entry { key, generation: 0, tracked: Tracked::new(key, &drops) });
    }
    let stop = AtomicBool::new(false);
    let lookups = AtomicU64::new(0);
    let transient_hits = AtomicU64::new(0);
    let max_buckets = AtomicUsize::new(0);
    let resizes_seen = AtomicU64::new(0);
    std::thread::scope(|s| {
        for reader in 0..2_u64 {
            let (map, stop, lookups, transient_hits) = (&map, &stop, &lookups, &transient_hits);
            s.spawn(move || {
                let mut rng = Rng::new(100 + reader);
                let mut count = 0;
                while !stop.load(Ordering::Relaxed) {
                    let guard = read_lock();
                    for _ in 0..64 {
                        let key = rng.below(STABLE);
                        let entry =
                            map.get(&key, &guard).unwrap_or_else(|| panic!("stable key {key} missed"));
                        assert_eq!((entry.key, entry.tracked.check()), (key, key));
                        let transient = TRANSIENT_BASE + rng.below(40_000);
                        if let Some(entry) = map.get(&transient, &guard) {
                            assert_eq!(entry.key, transient);
                            assert!(entry.generation > 0, "a transient entry comes from a burst");
                            entry.tracked.check();
                            transient_hits.fetch_add(1, Ordering::Relaxed);
                        }
                        count += 2;
                    }
                    if rng.one_in(64) {
                        // Now and then a full iteration: stable keys all there.
                        let stable = map.iter(&guard).filter(|(k, e)| {
                            e.tracked.check();
                            **k < STABLE
                        });
                        let mut seen = vec![false; STABLE as usize];
                        for (k, _) in stable {
                            seen[*k as usize] = true;
                        }
                        assert!(seen.iter().all(|s| *s), "an iteration missed a stable key");
                    }
                }
                lookups.fetch_add(count, Ordering::Relaxed);
            });
        }
        for updater in 0..2_u64 {
            let (map, drops, stop, max_buckets, resizes_seen) =
                (&map, &drops, &stop, &max_buckets, &resizes_seen);
            s.spawn(move || {
                let mut rng = Rng::new(200 + updater);
                let mut generation = 0;
                let mut last_buckets = map.buckets();
                // Each updater owns the transient keys of its parity.
                while !stop.load(Ordering::Relaxed) {
                    generation += 1;
                    let burst = 1000 + rng.below(19_000);
                    for i in 0..burst {
                        let key = TRANSIENT_BASE + (i * 2 + updater);
                        map.insert(key, Entry { key, generation, tracked: Tracked::new(key, drops) });
                        if rng.one_in(4) {
                            // Replace one again, at once.
                            map.insert(key, Entry { key, generation, tracked: Tracked::new(key, drops) });
                        }
                    }
                    let buckets = map.buckets();
                    max_buckets.fetch_max(buckets, Ordering::Relaxed);
                    if buckets != last_buckets {
                        resizes_seen.fetch_add(1, Ordering::Relaxed);
                        last_buckets = buckets;
                    }
                    for i in 0..burst {
                        assert!(map.remove(&(TRANSIENT_BASE + (i * 2 + updater))));
                    }
                    if map.buckets() != last_buckets {
                        resizes_seen.fetch_add(1, Ordering::Relaxed);
                        last_buckets = map.buckets();
                    }
                }
            });
        }
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(map.len() as u64, STABLE);
    rcu_barrier();
    println!(
        "{} lookups ({} transient hits), {} resizes seen, table up to {} buckets, {} entries freed",
        lookups.load(Ordering::Relaxed),
        transient_hits.load(Ordering::Relaxed),
        resizes_seen.load(Ordering::Relaxed),
        max_buckets.load(Ordering::Relaxed),
        drops.load(Ordering::SeqCst)
    );
    assert!(resizes_seen.load(Ordering::Relaxed) >= 2, "the stress made the table resize");
    drop(map);
    poison_alloc::flush();
    assert_eq!(poison_alloc::counters().writes_after_free, 0, "someone wrote into freed memory");
}

/// Hashes every key to the same value, so that every entry shares one chain.
#[derive(Default, Clone)]
struct Collide;

impl BuildHasher for Collide {
    type Hasher = CollideHasher;
    fn build_hasher(&self) -> CollideHasher {
        CollideHasher
    }
}

struct CollideHasher;

impl Hasher for CollideHasher {
    fn finish(&self) -> u64 {
        0x8000_0000_0000_0000
    }
    fn write(&mut self, _: &[u8]) {}
}

#[test]
fn a_degenerate_hasher_makes_long_chains_that_still_work() {
    let map: RcuHashMap<u32, u32, Collide> = RcuHashMap::default();
    for i in 0..300 {
        map.insert(i, i);
    }
    for i in (0..300).step_by(2) {
        assert!(map.remove(&i));
    }
    let guard = read_lock();
    assert!((0..300).all(|i| map.get(&i, &guard) == (i % 2 == 1).then_some(&i)));
    assert_eq!(map.iter(&guard).count(), 150);
}
