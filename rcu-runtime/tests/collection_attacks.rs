//! Attacks on the collections (`RcuHashMap`, `RcuList`, `RcuMap`) from safe code: user code that
//! runs while a collection holds a lock or is mid-update (`Hash`, `Eq`, `Drop`, closures,
//! iterators) and panics, re-enters the collection or answers inconsistently; values whose
//! `Drop` panics on the callback worker; forgotten iterators and guards; and borrows that
//! outlive a move of their collection. Each test names the behaviour it checks.

use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use rcu_runtime::{
    RcuHashMap, RcuLinks, RcuList, RcuMap, RcuProtected, defer_rcu, rcu_barrier, read_lock, stats,
};
use test_support::child::{Outcome, in_child};
use test_support::{Tracked, counter, isolated, liveness, panic_message};

/// Frees a collection that `Box::leak` made `'static` (for a thread-local or a thread of the
/// test to reach it), once the test is done with it.
///
/// # Safety
///
/// `leaked` comes from `Box::leak`, and nothing uses it after this call.
unsafe fn reclaim<T>(leaked: &'static T) {
    // SAFETY: the caller's contract: a leaked box, used no more.
    drop(unsafe { Box::from_raw(core::ptr::from_ref(leaked).cast_mut()) });
}

/// A hasher that hashes a `u64` to itself, so that a test chooses the stripe (top 5 bits) and
/// the bucket of each key.
#[derive(Default, Clone)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0 << 8 | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Default, Clone)]
struct IdentityState;

impl BuildHasher for IdentityState {
    type Hasher = Identity;
    fn build_hasher(&self) -> Identity {
        Identity(0)
    }
}

/// The hash of stripe `stripe` (of 32), entry `n` within it.
fn in_stripe(stripe: u64, n: u64) -> u64 {
    stripe << 59 | n << 20
}

/// When set, `Shifty` keys hash into the other stripe: a `Hash` that changes between calls.
static SHIFTED: AtomicU64 = AtomicU64::new(0);

/// A key whose hash moves to stripe 7 while `SHIFTED` is set, for keys marked `shifty`.
#[derive(Debug, PartialEq, Eq)]
struct Shifty {
    hash: u64,
    shifty: bool,
}

impl Hash for Shifty {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.shifty && SHIFTED.load(Ordering::SeqCst) != 0 {
            state.write_u64(in_stripe(7, self.hash & 0xfff));
        } else {
            state.write_u64(self.hash);
        }
    }
}

/// A key whose `Hash` changes while a resize migrates it: the map may then give wrong answers
/// (like std's), but its stripe counts must stay right (`len` must not wrap or panic) and it must
/// not move the node into a bucket of a stripe whose lock the resizer does not hold.
#[test]
fn a_hash_that_changes_during_a_resize_keeps_len_consistent() {
    // Before the fix, this aborted (an overflow panic in the map's `Drop` while unwinding).
    if !isolated("a_hash_that_changes_during_a_resize_keeps_len_consistent") {
        return;
    }
    let map: RcuHashMap<Shifty, u64, IdentityState> = RcuHashMap::with_hasher(IdentityState);
    // One key in stripe 3 that will hash into stripe 7 during the migration.
    map.insert(Shifty { hash: in_stripe(3, 1), shifty: true }, 1);
    SHIFTED.store(1, Ordering::SeqCst);
    // Grow: enough keys of stripe 0 to pass ¾ entry per bucket in that stripe and resize.
    let before = map.buckets();
    let mut n = 0;
    while map.buckets() == before {
        n += 1;
        map.insert(Shifty { hash: in_stripe(0, n), shifty: false }, n);
    }
    assert_eq!(map.len(), n as usize + 1);
    // Removing the key under its new hash: found or not, the counts stay consistent.
    let removed = map.remove(&Shifty { hash: in_stripe(3, 1), shifty: true });
    let len = catch_unwind(AssertUnwindSafe(|| map.len())).map_err(|p| panic_message(&*p));
    assert_eq!(len, Ok(n as usize + 1 - usize::from(removed)), "removed: {removed}");
    SHIFTED.store(0, Ordering::SeqCst);
    drop(map);
}

/// A value that counts its drops and then panics, when `panics` is set.
struct PanicsWhenDropped {
    _tracked: Tracked,
    panics: bool,
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        if self.panics {
            panic!("a value's Drop panics on the callback worker");
        }
    }
}

/// Removes `count` entries whose values count their drops (every `panic_every`-th panics when
/// dropped), then waits for the callbacks: every value must have been dropped, the worker must
/// go on, and the map must stay usable.
fn removed_values_whose_drop_panics(count: u64, panic_every: u64) {
    let drops = counter();
    let panics_before = stats().callback_panics;
    let map = RcuHashMap::new();
    for i in 0..count {
        let value = PanicsWhenDropped { _tracked: Tracked::new(i, &drops), panics: i % panic_every == 0 };
        map.insert(i, value);
    }
    for i in 0..count {
        assert!(map.remove(&i));
    }
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), count as usize, "every removed value was dropped");
    assert!(stats().callback_panics > panics_before, "the panics were counted");
    // The worker carries on, and the map reuses or frees the memory it got back.
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier();
    assert!(ran.load(Ordering::SeqCst));
    for i in 0..count {
        map.insert(i, PanicsWhenDropped { _tracked: Tracked::new(i, &drops), panics: false });
    }
    assert_eq!(map.len(), count as usize);
    drop(map);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 2 * count as usize);
}

#[test]
fn a_value_whose_drop_panics_on_the_worker_does_not_leak_the_rest_of_its_batch() {
    // Before the fix, two such values in one batch aborted the process.
    if !isolated("a_value_whose_drop_panics_on_the_worker_does_not_leak_the_rest_of_its_batch") {
        return;
    }
    removed_values_whose_drop_panics(64, 7);
}

/// Every value of a batch panics when dropped: the batch's other values are still dropped, and
/// the second panic does not abort the process (it would if it came while the first unwinds).
#[test]
fn values_that_all_panic_when_dropped_on_the_worker_neither_abort_nor_leak() {
    if !isolated("values_that_all_panic_when_dropped_on_the_worker_neither_abort_nor_leak") {
        return;
    }
    removed_values_whose_drop_panics(64, 1);
}

thread_local! {
    /// The map that `Clingy` keys update from their `Drop`.
    static CLINGY_MAP: std::cell::Cell<Option<&'static RcuHashMap<Clingy, u64, IdentityState>>> =
        const { std::cell::Cell::new(None) };
}

/// When set, `Clingy`'s `Eq` panics (once).
static CLINGY_EQ_PANICS: AtomicBool = AtomicBool::new(false);

/// A key whose `Drop` inserts another key of the same stripe into the map in `CLINGY_MAP` (once),
/// and whose `Eq` can be told to panic.
#[derive(Debug)]
struct Clingy(u64);

impl Hash for Clingy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(in_stripe(2, self.0));
    }
}
impl PartialEq for Clingy {
    fn eq(&self, other: &Self) -> bool {
        assert!(!CLINGY_EQ_PANICS.swap(false, Ordering::SeqCst), "Clingy's Eq panics");
        self.0 == other.0
    }
}
impl Eq for Clingy {}
impl Drop for Clingy {
    fn drop(&mut self) {
        if let Some(map) = CLINGY_MAP.with(std::cell::Cell::take) {
            map.insert(Clingy(1000 + self.0), 0);
        }
    }
}

/// `insert`'s key's `Eq` panics; unwinding drops the key and value that were to be inserted,
/// and the key's `Drop` updates the same map: that must not happen under the stripe lock (a
/// re-entrant lock panics, and a panic during unwinding aborts).
#[test]
fn a_key_dropped_by_a_panicking_insert_may_update_the_same_map() {
    if !isolated("a_key_dropped_by_a_panicking_insert_may_update_the_same_map") {
        return;
    }
    let map: &'static RcuHashMap<Clingy, u64, IdentityState> =
        Box::leak(Box::new(RcuHashMap::with_hasher(IdentityState)));
    map.insert(Clingy(1), 1);
    CLINGY_EQ_PANICS.store(true, Ordering::SeqCst);
    CLINGY_MAP.with(|cell| cell.set(Some(map)));
    let result = catch_unwind(AssertUnwindSafe(|| map.insert(Clingy(1), 2)));
    assert!(panic_message(&*result.expect_err("Eq panicked")).contains("Clingy's Eq panics"));
    assert_eq!(map.get(&Clingy(1), &read_lock()), Some(&1), "unchanged");
    assert!(map.contains_key(&Clingy(1001), &read_lock()), "the Drop's insert went through");
    assert_eq!(map.len(), 2);
    // SAFETY: leaked above; the thread-local that reached it was emptied by the `Drop`.
    unsafe { reclaim(map) };
}

thread_local! {
    /// The map that `Rude` keys insert into from their `Drop` (once).
    static RUDE_MAP: std::cell::Cell<Option<&'static RcuMap<Rude, Box<Tracked>>>> =
        const { std::cell::Cell::new(None) };
}

/// When set, `Rude`'s `Ord` panics (once).
static RUDE_ORD_PANICS: AtomicBool = AtomicBool::new(false);
/// How many more clones of `Rude` succeed before one panics (`u64::MAX`: all of them).
static RUDE_CLONES_LEFT: AtomicU64 = AtomicU64::new(u64::MAX);

/// How many keys `Rude`'s `Drop` inserted: the next one is `1000 +` this.
static RUDE_INSERTS: AtomicU64 = AtomicU64::new(0);

/// A key whose `Ord` and `Clone` can be told to panic, and whose `Drop` inserts a key into the
/// map in `RUDE_MAP` (taken once).
#[derive(Debug, PartialEq, Eq)]
struct Rude(u64);

impl Ord for Rude {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        assert!(!RUDE_ORD_PANICS.swap(false, Ordering::SeqCst), "Rude's Ord panics");
        self.0.cmp(&other.0)
    }
}
impl PartialOrd for Rude {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Clone for Rude {
    fn clone(&self) -> Self {
        match RUDE_CLONES_LEFT.load(Ordering::SeqCst) {
            u64::MAX => {}
            0 => {
                RUDE_CLONES_LEFT.store(u64::MAX, Ordering::SeqCst);
                panic!("Rude's Clone panics");
            }
            left => RUDE_CLONES_LEFT.store(left - 1, Ordering::SeqCst),
        }
        Self(self.0)
    }
}
impl Drop for Rude {
    fn drop(&mut self) {
        if let Some(map) = RUDE_MAP.with(std::cell::Cell::take) {
            let key = 1000 + RUDE_INSERTS.fetch_add(1, Ordering::SeqCst);
            map.insert(Rude(key), Box::new(Tracked::new(key, &counter())));
        }
    }
}

/// `RcuMap`'s updates run the key's `Ord` and `Clone` under the map's lock. When they panic,
/// the value being inserted is dropped (not leaked), and the keys dropped by the unwinding
/// (the new one, and the copies of the index made so far) are dropped after unlocking, so their
/// `Drop` may update the same map instead of aborting the process.
#[test]
fn rcu_map_keys_dropped_by_a_panicking_update_may_update_the_same_map() {
    if !isolated("rcu_map_keys_dropped_by_a_panicking_update_may_update_the_same_map") {
        return;
    }
    let map: &'static RcuMap<Rude, Box<Tracked>> = Box::leak(Box::new(RcuMap::new()));
    let drops = counter();
    for i in 0..4 {
        assert!(map.insert(Rude(i), Box::new(Tracked::new(i, &drops))).is_none());
    }
    // `Ord` panics in `insert`: the value is dropped; the first key dropped after unlocking (a
    // copy in the index being built) inserts key 1000.
    RUDE_ORD_PANICS.store(true, Ordering::SeqCst);
    RUDE_MAP.with(|cell| cell.set(Some(map)));
    let result =
        catch_unwind(AssertUnwindSafe(|| drop(map.insert(Rude(10), Box::new(Tracked::new(10, &drops))))));
    assert!(panic_message(&*result.expect_err("Ord panicked")).contains("Rude's Ord panics"));
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the value that was to be inserted was dropped");
    assert_eq!(map.len(), 5, "the four keys and the one the Drop inserted");
    // `Clone` panics while the index is copied: the copies made so far are dropped after
    // unlocking, and the first of them inserts key 1001.
    RUDE_CLONES_LEFT.store(1, Ordering::SeqCst);
    RUDE_MAP.with(|cell| cell.set(Some(map)));
    let result = catch_unwind(AssertUnwindSafe(|| drop(map.remove(&Rude(2)))));
    assert!(panic_message(&*result.expect_err("Clone panicked")).contains("Rude's Clone panics"));
    let guard = read_lock();
    let keys: Vec<u64> = map.keys(&guard).map(|k| k.0).collect();
    assert_eq!(keys, [0, 1, 2, 3, 1000, 1001], "nothing removed; the Drops' inserts went through");
    drop(guard);
    assert!(map.remove(&Rude(2)).is_some(), "the lock was released");
    // SAFETY: leaked above; the thread-local that reached it was emptied by the `Drop`s.
    unsafe { reclaim(map) };
}

/// When set, the next `Gate` compare signals `GATE_INSIDE` and waits for `GATE_OPEN`.
static GATE_CLOSED: AtomicBool = AtomicBool::new(false);
static GATE_INSIDE: AtomicBool = AtomicBool::new(false);
static GATE_OPEN: AtomicBool = AtomicBool::new(false);

/// A key whose `Eq` can be told to stop, holding the stripe lock of the update it runs in.
#[derive(Debug)]
struct Gate(u64);

impl Hash for Gate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0);
    }
}
impl PartialEq for Gate {
    fn eq(&self, other: &Self) -> bool {
        if GATE_CLOSED.swap(false, Ordering::SeqCst) {
            GATE_INSIDE.store(true, Ordering::SeqCst);
            while !GATE_OPEN.load(Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        self.0 == other.0
    }
}
impl Eq for Gate {}

/// A process forked while another thread holds a stripe lock (stopped in a key's `Eq`, inside
/// `insert`): in the child, lookups work (they take no lock) and so do updates of the other
/// stripes; the held stripe stays locked for good, as a `std` mutex would (or its updater
/// panics, when it takes the vanished holder for itself), which the book's
/// fork section states (its rule: fork while no other thread is inside a section, and a stripe
/// lock is held only inside one).
#[test]
fn a_child_forked_while_a_stripe_is_locked_reads_and_updates_the_other_stripes() {
    if !isolated("a_child_forked_while_a_stripe_is_locked_reads_and_updates_the_other_stripes") {
        return;
    }
    let map: &'static RcuHashMap<Gate, u64, IdentityState> =
        Box::leak(Box::new(RcuHashMap::with_hasher(IdentityState)));
    let held = in_stripe(3, 1);
    map.insert(Gate(held), 1);
    map.insert(Gate(in_stripe(0, 1)), 2);
    GATE_CLOSED.store(true, Ordering::SeqCst);
    let updater = std::thread::spawn(move || map.insert(Gate(held), 10));
    liveness::wait_until(liveness::HANG, "the updater never got inside Eq", || {
        GATE_INSIDE.load(Ordering::SeqCst)
    });
    // SAFETY: this test runs alone in its process (`isolated`); the child uses the map (its own
    // copy) and the runtime, which the fork handlers keep consistent, and the thread stopped in
    // `Eq` does not exist there.
    let outcome = unsafe {
        in_child(liveness::HANG, |report| {
            let guard = read_lock();
            if map.get(&Gate(held), &guard) != Some(&1) || map.get(&Gate(in_stripe(0, 1)), &guard) != Some(&2)
            {
                return Err("a lookup failed in the child".into());
            }
            drop(guard);
            report.line("lookups work");
            map.insert(Gate(in_stripe(0, 2)), 3);
            map.insert(Gate(in_stripe(31, 2)), 4);
            if map.len() != 4 {
                return Err(format!("len {} after two inserts in free stripes", map.len()));
            }
            report.line("updates of free stripes work");
            // The held stripe: the update waits for good, or panics when its thread reuses the
            // vanished holder's thread-local memory (the lock then takes it for its holder,
            // re-entering); it never goes through.
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| map.insert(Gate(in_stripe(3, 2)), 5)));
                let _ = tx.send(result.map_err(|p| panic_message(&*p)));
            });
            match rx.recv_timeout(std::time::Duration::from_millis(200)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Ok(()),
                Ok(Err(message)) if message.contains("would deadlock") => Ok(()),
                other => Err(format!("the stripe held at the fork was free in the child: {other:?}")),
            }
        })
    };
    assert_eq!(outcome, Outcome::Passed);
    GATE_OPEN.store(true, Ordering::SeqCst);
    assert!(updater.join().unwrap(), "the updater replaced its key");
    assert_eq!(map.get(&Gate(held), &read_lock()), Some(&10));
    // SAFETY: leaked above; the thread that used it has been joined.
    unsafe { reclaim(map) };
}

thread_local! {
    /// The map that `Meddler` keys update from their `Hash`, and how (taken once).
    #[expect(clippy::type_complexity, reason = "a test's plumbing")]
    static MEDDLE: std::cell::Cell<Option<(&'static RcuHashMap<Meddler, u64, IdentityState>, u64, u64)>> =
        const { std::cell::Cell::new(None) };
}

/// A key whose `Hash` updates (once, when told) the map in `MEDDLE`: the key named there, when
/// hashed, reads the map (`len`, `get`, `iter`) and inserts the other key given there.
#[derive(Debug, PartialEq, Eq)]
struct Meddler(u64);

impl Hash for Meddler {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if let Some((map, trigger, key)) = MEDDLE.with(std::cell::Cell::get)
            && trigger == self.0
        {
            MEDDLE.with(|cell| cell.set(None));
            let guard = read_lock();
            let seen = map.iter(&guard).count();
            assert!(seen >= map.len().min(1), "iter and len work in Hash");
            let _ = map.get(&Meddler(key), &guard);
            drop(guard);
            map.insert(Meddler(key), key);
        }
        state.write_u64(self.0);
    }
}

/// A key's `Hash` inserts into the same map while a resize migrates it (under a stripe lock and
/// the resizer's lock): into another stripe, the insert goes through; into the stripe being
/// migrated, it panics instead of deadlocking, the resize stops where it was and a later update
/// finishes it. Every key stays findable throughout.
#[test]
fn a_hash_that_updates_the_same_map_during_a_resize_panics_or_goes_through() {
    let map: &'static RcuHashMap<Meddler, u64, IdentityState> =
        Box::leak(Box::new(RcuHashMap::with_hasher(IdentityState)));
    for (target_stripe, expect_panic) in [(9, false), (0, true)] {
        let base = if expect_panic { 100 } else { 0 };
        map.insert(Meddler(in_stripe(0, base)), 0);
        // The key just inserted is hashed again only when the resize migrates it: then it
        // inserts into `target_stripe`.
        MEDDLE.with(|cell| cell.set(Some((map, in_stripe(0, base), in_stripe(target_stripe, base)))));
        let before = map.buckets();
        let mut keys = vec![in_stripe(0, base), in_stripe(target_stripe, base)];
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut n = base;
            while map.buckets() == before {
                n += 1;
                keys.push(in_stripe(0, n));
                map.insert(Meddler(in_stripe(0, n)), n);
            }
        }));
        if expect_panic {
            keys.remove(1);
        }
        assert!(MEDDLE.with(std::cell::Cell::take).is_none(), "the migration hashed the key");
        match result {
            Ok(()) => assert!(!expect_panic, "re-entering the migrated stripe must panic"),
            Err(payload) => {
                let message = panic_message(&*payload);
                assert!(expect_panic && message.contains("deadlock"), "{message}");
            }
        }
        let guard = read_lock();
        for &key in &keys {
            assert!(map.contains_key(&Meddler(key), &guard), "key {key:#x} lost");
        }
        drop(guard);
    }
    // Updates go on, and finish the resize.
    let len = map.len();
    for n in 0..200 {
        map.insert(Meddler(in_stripe(n % 32, 1000 + n)), n);
    }
    assert_eq!(map.len(), len + 200);
    let guard = read_lock();
    assert_eq!(map.iter(&guard).count(), len + 200, "after the resize, each entry once");
    drop(guard);
    // SAFETY: leaked above; the thread-local that reached it was emptied by the `Hash`es.
    unsafe { reclaim(map) };
}

/// A key `Eq` that is never reflexive and a `Borrow` form that hashes differently: lookups give
/// wrong answers (as documented for std's map), but the map stays consistent: `len` counts the
/// entries, removals of what cannot be found do nothing, and dropping it frees everything.
#[test]
fn a_never_reflexive_eq_and_a_borrow_that_hashes_differently_give_wrong_answers_only() {
    struct Nan(u64, #[expect(dead_code, reason = "counts its drop")] Tracked);
    impl Hash for Nan {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }
    impl PartialEq for Nan {
        fn eq(&self, _: &Self) -> bool {
            false
        }
    }
    impl Eq for Nan {}

    /// A key that borrows as a `str` of a different hash.
    #[derive(Debug, PartialEq, Eq)]
    struct Name(String);
    impl Hash for Name {
        fn hash<H: Hasher>(&self, state: &mut H) {
            (self.0.len() as u64 + 1).hash(state);
        }
    }
    impl std::borrow::Borrow<str> for Name {
        fn borrow(&self) -> &str {
            &self.0
        }
    }

    let drops = counter();
    let map = RcuHashMap::new();
    for round in 0..3 {
        for i in 0..100 {
            map.insert(Nan(i, Tracked::new(i, &drops)), round);
        }
    }
    assert_eq!(map.len(), 300, "every insert added an entry");
    let guard = read_lock();
    assert_eq!(map.iter(&guard).count(), 300);
    drop(guard);
    drop(map);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 300);

    let names = RcuHashMap::new();
    for i in 0..100 {
        names.insert(Name(format!("n{i}")), i);
    }
    let guard = read_lock();
    // Found only by chance (a hash collision), never wrongly.
    assert!((0..100).all(|i| names.get(format!("n{i}").as_str(), &guard).is_none_or(|&v| v == i)));
    drop(guard);
    let removed: Vec<bool> = (0..100).map(|i| names.remove(format!("n{i}").as_str())).collect();
    let count = removed.iter().filter(|&&r| r).count();
    assert_eq!(names.len(), 100 - count);
    // Through the key type itself, every key not removed by chance is found and removed.
    for (i, &gone) in removed.iter().enumerate() {
        assert_eq!(names.remove(&Name(format!("n{i}"))), !gone, "n{i}");
    }
    assert!(names.is_empty());
}

/// A value whose `Drop` (on the callback worker, after its removal) updates the map it was in:
/// inserts, removes, and enough of them to resize.
struct Boomerang {
    map: Arc<RcuHashMap<u64, Boomerang>>,
    key: u64,
    tracked: Tracked,
}

impl Drop for Boomerang {
    fn drop(&mut self) {
        if self.key < 1000 {
            let drops = counter();
            for k in 0..20 {
                let key = 1000 + self.key * 100 + k;
                let value = Boomerang { map: Arc::clone(&self.map), key, tracked: Tracked::new(key, &drops) };
                self.map.insert(key, value);
            }
            self.map.remove(&(1000 + self.key * 100));
        }
    }
}

/// Values dropped on the callback worker update the map they were removed from (which they keep
/// alive): the worker's updates go through (it holds no stripe lock there, and waits for no
/// room in the callback queue), `rcu_barrier` returns, and the map holds what they inserted.
#[test]
fn values_dropped_on_the_worker_may_update_the_map_they_were_in() {
    let drops = counter();
    let map = Arc::new(RcuHashMap::new());
    for key in 0..10 {
        let value = Boomerang { map: Arc::clone(&map), key, tracked: Tracked::new(key, &drops) };
        map.insert(key, value);
    }
    for key in 0..10 {
        assert!(map.remove(&key));
    }
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 10);
    assert_eq!(map.len(), 10 * 19, "each dropped value inserted 20 entries and removed one");
    let guard = read_lock();
    assert!(map.iter(&guard).all(|(&k, v)| v.key == k && v.tracked.check() == k));
    drop(guard);
    // The values hold the map: break the cycle.
    let keys: Vec<u64> = map.iter(&read_lock()).map(|(&k, _)| k).collect();
    for key in keys {
        map.remove(&key);
    }
    rcu_barrier();
    assert!(map.is_empty());
    assert_eq!(Arc::strong_count(&map), 1);
}

/// A reader keeps `&V` and an iterator from a map under its guard while another thread drops
/// the map (the last `Arc`): the drop waits for the reader's grace period, and the borrows stay
/// valid until the guard ends.
#[test]
fn borrows_outlive_the_map_dropped_on_another_thread_until_their_guard_ends() {
    let drops = counter();
    let map = Arc::new(RcuHashMap::new());
    for i in 0..100 {
        map.insert(i, Tracked::new(i, &drops));
    }
    let guard = read_lock();
    let seven = map.get(&7, &guard).expect("present");
    let mut iter = map.iter(&guard);
    let first = iter.next().expect("not empty");
    let dropper = std::thread::spawn(move || drop(map));
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(!dropper.is_finished(), "the map's drop waits for the reader's grace period");
    assert_eq!(seven.check(), 7);
    assert_eq!(first.1.check(), *first.0);
    assert_eq!(iter.map(|(&k, v)| v.check() == k).filter(|&ok| ok).count(), 99);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(guard);
    liveness::join_within(dropper, liveness::HANG, "the map's drop");
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 100);
}

/// `get_or_insert_with`'s closure runs under the caller's guard: waiting for a grace period
/// there panics (it would wait for itself), and the map is unchanged and unlocked.
#[test]
fn get_or_insert_with_whose_closure_waits_for_a_grace_period_panics() {
    let map: RcuHashMap<u64, u64> = RcuHashMap::new();
    let guard = read_lock();
    let result = catch_unwind(AssertUnwindSafe(|| {
        map.get_or_insert_with(
            1,
            || {
                rcu_runtime::synchronize_rcu();
                1
            },
            &guard,
        );
    }));
    assert!(result.is_err(), "synchronize_rcu inside a section panics");
    let result = catch_unwind(AssertUnwindSafe(|| {
        map.get_or_insert_with(
            1,
            || {
                rcu_barrier();
                1
            },
            &guard,
        );
    }));
    assert!(result.is_err(), "rcu_barrier inside a section panics");
    assert!(map.is_empty());
    assert_eq!(*map.get_or_insert_with(1, || 10, &guard), 10, "the stripe is free");
}

/// A list node that counts its drop, and panics in it when `armed`.
#[derive(RcuProtected)]
struct Mine {
    #[rcu_links]
    links: RcuLinks,
    armed: bool,
    tracked: Tracked,
}

impl std::fmt::Debug for Mine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mine({})", self.tracked.check())
    }
}

impl Drop for Mine {
    fn drop(&mut self) {
        assert!(!self.armed, "node {} panics when dropped", self.tracked.id);
    }
}

fn mine(id: u64, armed: bool, drops: &Arc<AtomicUsize>) -> Box<Mine> {
    Box::new(Mine { links: RcuLinks::new(), armed, tracked: Tracked::new(id, drops) })
}

/// Several nodes of a dropped list panic when dropped: every node is still dropped, and the
/// second panic does not abort the process (the list may be dropped on the callback worker,
/// with nodes from unrelated code).
#[test]
fn a_list_whose_nodes_panic_when_dropped_frees_them_all_without_aborting() {
    if !isolated("a_list_whose_nodes_panic_when_dropped_frees_them_all_without_aborting") {
        return;
    }
    let drops = counter();
    let list = RcuList::new();
    for i in 0..10 {
        list.push_back(mine(i, i % 3 == 0, &drops));
    }
    let result = catch_unwind(AssertUnwindSafe(move || drop(list)));
    assert!(panic_message(&*result.expect_err("a node panicked")).contains("node 0 panics"));
    assert_eq!(drops.load(Ordering::SeqCst), 10, "every node was dropped");
}

/// The same for a map dropped with entries whose values panic when dropped.
#[test]
fn a_map_whose_values_panic_when_dropped_frees_them_all_without_aborting() {
    if !isolated("a_map_whose_values_panic_when_dropped_frees_them_all_without_aborting") {
        return;
    }
    let drops = counter();
    let map = RcuHashMap::new();
    for i in 0..100 {
        map.insert(i, PanicsWhenDropped { _tracked: Tracked::new(i, &drops), panics: i % 3 == 0 });
    }
    let result = catch_unwind(AssertUnwindSafe(move || drop(map)));
    assert!(result.is_err(), "a value's panic reaches the map's owner");
    assert_eq!(drops.load(Ordering::SeqCst), 100, "every value was dropped");
}

/// A cursor leaked with `mem::forget` keeps the list's lock for good: the same thread's next
/// update panics instead of deadlocking, readers go on, and dropping the list frees its nodes.
#[test]
fn a_forgotten_cursor_makes_later_updates_on_its_thread_panic_and_readers_go_on() {
    let drops = counter();
    let list = RcuList::new();
    for i in 0..3 {
        list.push_back(mine(i, false, &drops));
    }
    let mut cursor = list.cursor();
    cursor.move_next();
    std::mem::forget(cursor);
    let result = catch_unwind(AssertUnwindSafe(|| list.push_back(mine(3, false, &drops))));
    assert!(panic_message(&*result.expect_err("re-entered")).contains("RcuList::push_back"));
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the node that was not pushed was dropped");
    let result = catch_unwind(AssertUnwindSafe(|| drop(list.remove(|_| true))));
    assert!(result.is_err());
    let guard = read_lock();
    assert_eq!(list.iter(&guard).map(|n| n.tracked.check()).collect::<Vec<_>>(), [0, 1, 2]);
    drop(guard);
    assert_eq!(format!("{list:?}"), "[Mine(0), Mine(1), Mine(2)]");
    drop(list);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

thread_local! {
    /// The map that `Chatty` values grow while they are formatted (taken once).
    static CHATTY_MAP: std::cell::Cell<Option<&'static RcuHashMap<u64, Chatty>>> = const { std::cell::Cell::new(None) };
}

/// A value whose `Debug` inserts 300 entries into the map in `CHATTY_MAP`, which resizes it
/// twice in the middle of the map's own `Debug` (an iteration under a guard).
struct Chatty(u64);

impl std::fmt::Debug for Chatty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(map) = CHATTY_MAP.with(std::cell::Cell::take) {
            for k in 1000..1300 {
                map.insert(k, Chatty(k));
            }
        }
        write!(f, "c{}", self.0)
    }
}

/// The map's `Debug` runs the values' `Debug`, which grow the same map (resizes included) while
/// the iteration goes on: it finishes, shows every entry that was there before at least once,
/// and the map holds everything.
#[test]
fn debug_of_values_that_grow_the_same_map_while_it_is_formatted() {
    let map: &'static RcuHashMap<u64, Chatty> = Box::leak(Box::new(RcuHashMap::new()));
    for k in 0..20 {
        map.insert(k, Chatty(k));
    }
    let before = map.buckets();
    CHATTY_MAP.with(|cell| cell.set(Some(map)));
    let shown = format!("{map:?}");
    assert!(CHATTY_MAP.with(std::cell::Cell::take).is_none(), "a value grew the map");
    assert!(map.buckets() > before, "it resized");
    for k in 0..20 {
        assert!(shown.contains(&format!("{k}: c{k}")), "{k} not shown in {shown}");
    }
    assert_eq!(map.len(), 320);
    // SAFETY: leaked above; the thread-local that reached it was emptied by a `Debug`.
    unsafe { reclaim(map) };
}

/// Many insert/remove cycles (with node memory reused, batches flushed, the table growing and
/// shrinking): every value is dropped once, the counts come back to zero and the table to its
/// smallest size.
#[test]
fn many_insert_remove_cycles_drop_every_value_once_and_shrink_back() {
    let drops = counter();
    let map = RcuHashMap::new();
    let mut made = 0;
    for round in 0..40 {
        let width = if round % 2 == 0 { 1000 } else { 50 };
        for k in 0..width {
            map.insert(k, Tracked::new(k, &drops));
            made += 1;
        }
        for k in 0..width {
            assert!(map.remove(&k));
        }
        assert!(map.is_empty());
    }
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), made);
    assert_eq!(map.len(), 0);
    assert_eq!(map.buckets(), 32, "shrunk back to the smallest table");
    // Removing what is not there changes nothing (no count goes below zero).
    for k in 0..100 {
        assert!(!map.remove(&k));
    }
    assert_eq!(map.len(), 0);
}
