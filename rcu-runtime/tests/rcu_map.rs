//! `RcuMap`: lock-free lookups of `ForeignOwnableRcu` values while updaters insert and remove.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;

use rcu_runtime::{RcuBox, RcuMap, rcu_barrier, read_lock};
use test_support::{Tracked, counter};

#[test]
fn a_removed_value_stays_readable_until_the_guard_drops() {
    let drops = counter();
    let map = Arc::new(RcuMap::new());
    map.insert(1_u32, RcuBox::new(Tracked::new(1, &drops)));
    let (seen_tx, seen_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let reader = {
        let map = Arc::clone(&map);
        thread::spawn(move || {
            let guard = read_lock();
            let value = map.load_rcu(&1, &guard).unwrap();
            seen_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            value.check()
        })
    };
    seen_rx.recv().unwrap();
    drop(map.remove(&1).unwrap()); // the RcuBox is dropped here; its memory waits for the reader
    assert!(map.load_rcu(&1, &read_lock()).is_none());
    release_tx.send(()).unwrap();
    assert_eq!(reader.join().unwrap(), 1);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn readers_race_with_inserts_and_removes() {
    let drops = counter();
    let map: Arc<RcuMap<u32, RcuBox<Tracked>>> = Arc::new(RcuMap::new());
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (map, stop) = (Arc::clone(&map), Arc::clone(&stop));
            thread::spawn(move || {
                let mut found = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    let guard = read_lock();
                    for key in 0..16 {
                        if let Some(value) = map.load_rcu(&key, &guard) {
                            assert_eq!(value.check() % 16, u64::from(key));
                            found += 1;
                        }
                    }
                    let keys: Vec<u32> = map.keys(&guard).copied().collect();
                    assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys stay sorted and unique");
                }
                found
            })
        })
        .collect();
    let mut inserted = 0;
    for round in 0..300_u64 {
        for key in 0..16_u32 {
            let id = round * 16 + u64::from(key);
            inserted += 1;
            if let Some(old) = map.insert(key, RcuBox::new(Tracked::new(id, &drops))) {
                drop(old);
            }
            if (round + u64::from(key)) % 3 == 0 {
                drop(map.remove(&key));
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        reader.join().expect("a reader saw a freed value");
    }
    drop(Arc::try_unwrap(map).expect("readers are gone"));
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), inserted, "every value dropped exactly once");
}

#[test]
fn with_locked_works_for_any_value_type_and_debug_lists_keys() {
    let map = RcuMap::new();
    assert!(map.is_empty());
    map.insert("b", Box::new(2));
    map.insert("a", Box::new(1));
    assert_eq!(map.insert("a", Box::new(10)).map(|b| *b), Some(1));
    assert_eq!(map.len(), 2);
    assert_eq!(map.with_locked(&"a", |v| v.copied()), Some(10));
    assert_eq!(map.with_locked(&"z", |v| v.copied()), None);
    assert_eq!(format!("{map:?}"), r#"{"a", "b"}"#);
}
