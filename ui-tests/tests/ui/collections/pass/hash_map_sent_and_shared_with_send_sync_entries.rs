//! Twin of the `hash_map_*_not_send_*`, `hash_map_*_not_sync_*` and `hash_map_hasher_*` cases:
//! a map whose keys and values are `Send + Sync` (a `Mutex` where the fail cases have a `Cell` or
//! a `MutexGuard`) and whose hasher is `Send + Sync` (an atomic count where they have a `Cell` or
//! an `Rc`) moves to another thread while this thread still uses a key from `iter` and a value
//! from `get`, and is shared with reader and updater threads.

use std::collections::hash_map::DefaultHasher;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rcu_runtime::{RcuHashMap, read_lock};

struct Session {
    id: u64,
    token: Mutex<Option<Box<u32>>>,
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Session {}

impl Hash for Session {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// Counts the hashers it builds.
#[derive(Default)]
struct Counting(AtomicU64);

impl BuildHasher for Counting {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        self.0.fetch_add(1, Ordering::Relaxed);
        DefaultHasher::new()
    }
}

fn session(id: u64) -> Session {
    Session { id, token: Mutex::new(Some(Box::new(1))) }
}

fn main() {
    let map = RcuHashMap::with_hasher(Counting::default());
    map.insert(session(1), Mutex::new(Some(Box::new(1_u32))));
    let guard = read_lock();
    let (key_here, value_here) = map.iter(&guard).next().expect("one entry");
    let there = std::thread::spawn(move || {
        let guard = read_lock();
        let (key, value) = map.iter(&guard).next().expect("one entry");
        let taken = (key.token.lock().unwrap().take().is_some(), value.lock().unwrap().take().is_some());
        drop(guard);
        map.insert(session(2), Mutex::new(None));
        (taken, map)
    });
    let taken_here = (key_here.token.lock().unwrap().take().is_some(), value_here.lock().unwrap().take().is_some());
    let (taken_there, map) = there.join().unwrap();
    assert!(taken_here.0 ^ taken_there.0 && taken_here.1 ^ taken_there.1);
    drop(guard);

    std::thread::scope(|s| {
        for id in 0..2 {
            let map = &map;
            s.spawn(move || {
                for _ in 0..100 {
                    let guard = read_lock();
                    assert!(map.get(&session(1), &guard).is_some());
                    drop(guard);
                    map.insert(session(10 + id), Mutex::new(None));
                    assert!(map.remove(&session(10 + id)));
                }
            });
        }
    });
    assert_eq!(map.len(), 2);
    assert!(map.hasher().0.load(Ordering::Relaxed) > 400);
}
