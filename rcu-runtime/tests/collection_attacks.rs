//! Attacks on the collections (`RcuHashMap`, `RcuList`, `RcuMap`) from safe code: user code that
//! runs while a collection holds a lock or is mid-update (`Hash`, `Eq`, `Drop`, closures,
//! iterators) and panics, re-enters the collection or answers inconsistently; values whose
//! `Drop` panics on the callback worker; forgotten iterators and guards; and borrows that
//! outlive a move of their collection. Each test names the behaviour it checks.

use std::hash::{BuildHasher, Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rcu_runtime::{RcuHashMap, rcu_barrier, read_lock};
use test_support::{liveness, panic_message};

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
