//! liburcu's `cds_lfht_del` example, ported to `RcuHashMap`: fill a table, look a key up, delete
//! it while a reader thread keeps looking it up, and show the table before and after.
//!
//! As in liburcu's `doc/examples/rculfhash/cds_lfht_del.c`, the deleted entry is freed after a
//! grace period without the deleting thread waiting (liburcu: `call_rcu` per node; here the map
//! hands the nodes it unlinks to the callback worker in batches, and reuses their memory).
//! Unlike `cds_lfht_add`, `insert` replaces an entry with the same key, so the table holds each
//! key once.
//!
//! ```text
//! cargo run -p examples --bin hash_map_del
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use rcu_runtime::{RcuHashMap, rcu_barrier, read_lock};

fn show(what: &str, map: &RcuHashMap<i32, String>) {
    let guard = read_lock();
    let mut entries: Vec<String> = map.iter(&guard).map(|(k, v)| format!("{k}={v}")).collect();
    entries.sort_unstable();
    println!("{what:<34} {}", entries.join(" "));
}

fn main() {
    let map = RcuHashMap::new();
    for value in [-5, 42, 42, 36, 24] {
        let replaced = map.insert(value, format!("node{value}"));
        if replaced {
            println!("insert {value}: replaced the entry already there (no duplicates, unlike cds_lfht_add)");
        }
    }
    show("hash table content (sorted):", &map);

    let stop = AtomicBool::new(false);
    let (hits, misses) = (AtomicU64::new(0), AtomicU64::new(0));
    thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let guard = read_lock();
                match map.get(&42, &guard) {
                    Some(value) => {
                        // Even if the entry is deleted right now, it stays valid under the guard.
                        assert_eq!(value, "node42");
                        hits.fetch_add(1, Ordering::Relaxed);
                    }
                    None => {
                        misses.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // Keys that are never deleted are always found.
                assert!(map.contains_key(&36, &guard) && map.contains_key(&24, &guard));
            }
        });
        while hits.load(Ordering::Relaxed) < 1000 {
            thread::yield_now();
        }
        // cds_lfht_lookup + cds_lfht_del + call_rcu, in one call that does not wait.
        let deleted = map.remove(&42);
        println!("delete 42: {}", if deleted { "removed; freed after a grace period" } else { "not found" });
        let deleted_again = map.remove(&42);
        println!(
            "delete 42 again: {}",
            if deleted_again { "removed" } else { "not found (already deleted)" }
        );
        while misses.load(Ordering::Relaxed) < 1000 {
            thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
    });
    show("hash table content after delete:", &map);
    rcu_barrier();
    println!(
        "the reader found 42 {} times before the delete and missed it {} times after; 36 and 24 were always there",
        hits.load(Ordering::Relaxed),
        misses.load(Ordering::Relaxed)
    );
}
