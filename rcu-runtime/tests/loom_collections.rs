//! Loom models of the collections' protocols: the list's insert, remove and replace against a
//! traversing reader, and one hash-table resize step (a bucket migration) against lookups.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p rcu-runtime --no-default-features --test loom_collections --release`.
//! Node payloads live in `loom::cell::UnsafeCell`s: a reader access that is not ordered after
//! the payload's initialization, or not ordered before its poisoning after a grace period, is
//! reported by loom as a data race.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use rcu_runtime::__loom::{Domain, ReaderNode};
use rcu_runtime::__loom_collections::{RawList, RawNode, RawTable, RcuLinks};

const POISON: usize = 0xdead;

/// A list node: links first, so that the links' address is the node's.
#[repr(C)]
struct Node {
    links: RcuLinks,
    value: UnsafeCell<usize>,
}

fn node(value: usize) -> *mut RcuLinks {
    Box::into_raw(Box::new(Node { links: RcuLinks::new(), value: UnsafeCell::new(value) })).cast()
}

/// Reads a node's payload; loom checks it against the initialization and the poisoning.
fn value(links: *mut RcuLinks) -> usize {
    // SAFETY: nodes stay allocated until the end of the model (`free`); `repr(C)` puts the links
    // at offset 0.
    let value = unsafe { (*links.cast::<Node>()).value.with(|v| *v) };
    assert_ne!(value, POISON, "a reader reached a node after its grace period");
    value
}

fn poison(links: *mut RcuLinks) {
    // SAFETY: as in `value`; loom checks this write against every reader access.
    unsafe { (*links.cast::<Node>()).value.with_mut(|v| *v = POISON) };
}

fn free(nodes: &[*mut RcuLinks]) {
    for &links in nodes {
        // SAFETY: leaked by `node`, freed once, after every thread of the model joined.
        drop(unsafe { Box::from_raw(links.cast::<Node>()) });
    }
}

/// Raw pointers handed to a model's threads.
#[derive(Clone, Copy)]
struct Shared<T>(T);
// SAFETY: the models hand nodes to other threads on purpose; loom checks every access.
unsafe impl<T> Send for Shared<T> {}

/// Traverses the list inside a read-side critical section; returns the payloads seen.
fn traverse(domain: &Domain, reader: &ReaderNode, list: &RawList) -> Vec<usize> {
    reader.lock(domain);
    let mut seen = Vec::new();
    let mut links = list.first();
    while !links.is_null() {
        seen.push(value(links));
        // SAFETY: reached inside the section; nodes outlive the model.
        links = unsafe { RawList::next(links) };
    }
    reader.unlock(domain);
    seen
}

fn registered_reader(domain: &Domain) -> Arc<ReaderNode> {
    let node = Arc::new(ReaderNode::new(None, 0));
    domain.register(Arc::clone(&node));
    node
}

/// What a list model's writer did: the node to poison after a grace period, and a node it
/// added (freed at the end).
struct Update {
    reclaim: Option<*mut RcuLinks>,
    added: Option<*mut RcuLinks>,
}

/// The writer's operation of a list model, on a list holding 1, 2, 3.
type ListUpdate = fn(&RawList, &mut *mut RcuLinks, [*mut RcuLinks; 3]) -> Update;

fn list_model(update: ListUpdate, allowed: &'static [&'static [usize]]) {
    loom::model(move || {
        let domain = Arc::new(Domain::new());
        let list = Arc::new(RawList::new());
        let mut last = core::ptr::null_mut();
        let nodes = [node(1), node(2), node(3)];
        for &n in &nodes {
            // SAFETY: single-threaded setup; the nodes are fresh.
            unsafe { list.push_back(&mut last, n) };
        }
        let reader_node = registered_reader(&domain);
        let reader = {
            let (domain, list) = (Arc::clone(&domain), Arc::clone(&list));
            thread::spawn(move || traverse(&domain, &reader_node, &list))
        };
        let done = update(&list, &mut last, nodes);
        if let Some(old) = done.reclaim {
            domain.synchronize();
            poison(old);
        }
        let seen = reader.join().unwrap();
        assert!(allowed.contains(&seen.as_slice()), "reader saw {seen:?}");
        free(&nodes);
        free(done.added.as_slice());
    });
}

#[test]
fn insert_against_a_traversal() {
    list_model(
        |list, last, [_, two, _]| {
            let new = node(25);
            // SAFETY: we are the only writer; `two` is in the list; `new` is fresh.
            unsafe { list.insert_after(last, two, new) };
            Update { reclaim: None, added: Some(new) }
        },
        &[&[1, 2, 3], &[1, 2, 25, 3]],
    );
}

#[test]
fn remove_against_a_traversal_with_a_grace_period() {
    list_model(
        |list, last, [_, two, _]| {
            // SAFETY: we are the only writer and `two` is in the list; it is poisoned only after
            // a grace period.
            unsafe { list.unlink(last, two) };
            Update { reclaim: Some(two), added: None }
        },
        &[&[1, 2, 3], &[1, 3]],
    );
}

#[test]
fn removing_the_node_a_reader_stands_on_and_its_successor() {
    list_model(
        |list, last, [one, two, _]| {
            // SAFETY: as above, two unlinks in a row before the grace period.
            unsafe {
                list.unlink(last, one);
                list.unlink(last, two);
            }
            // Only `two` is poisoned after the grace period (one node per model keeps it small).
            Update { reclaim: Some(two), added: None }
        },
        &[&[1, 2, 3], &[2, 3], &[3], &[1, 3]],
    );
}

#[test]
fn replace_against_a_traversal_with_a_grace_period() {
    list_model(
        |list, last, [_, two, _]| {
            let new = node(22);
            // SAFETY: we are the only writer, `two` is in the list, `new` is fresh.
            unsafe { list.replace(last, two, new) };
            Update { reclaim: Some(two), added: Some(new) }
        },
        &[&[1, 2, 3], &[1, 22, 3]],
    );
}

/// Hashes whose top bits put them in bucket 0 of a 32-bucket table and in buckets 0, 1 and 0 of
/// a 64-bucket one (the key is its own hash).
const KEYS: [u64; 3] = [0x0000_0000_0000_0001, 0x0400_0000_0000_0002, 0x0000_0000_0000_0003];

type Table = RawTable<u64, UnsafeCell<usize>>;

/// One resize step: the resizer announces the new table and migrates bucket 0 (three nodes
/// moving to two different buckets) while a reader looks each key up, starting from the old
/// table. Every key is present throughout, so every lookup must find it.
#[test]
fn a_bucket_migration_never_hides_a_present_key_from_a_lookup() {
    loom::model(|| {
        let old = Table::alloc(5);
        let new = Table::alloc(6);
        let mut nodes = Vec::new();
        for &key in KEYS.iter().rev() {
            let node = core::ptr::NonNull::from(Box::leak(Box::new(RawNode::new(
                key,
                UnsafeCell::new(key as usize),
            ))));
            // SAFETY: single-threaded setup, bucket 0 is in range, the node is fresh.
            unsafe { rcu_runtime::__loom_collections::link_front(old.bucket(old.index(key)), node) };
            nodes.push(Shared(node.as_ptr()));
        }
        let tables = Shared((old, new));
        let reader = thread::spawn(move || {
            let (old, _) = tables.0;
            for key in KEYS {
                // SAFETY: tables and nodes outlive the model's threads.
                let found = unsafe { rcu_runtime::__loom_collections::lookup(old, key, |k| *k == key) };
                let found = found.unwrap_or_else(|| panic!("key {key:#x} missed during the migration"));
                let value = found.value.with(|v| {
                    // SAFETY: as above; loom checks the read against the initialization.
                    unsafe { *v }
                });
                assert_eq!(value, key as usize);
            }
        });
        let mut scratch = Vec::new();
        // SAFETY: we are the one resizer (no stripe locks needed with no other updater); both
        // tables are alive; destinations are in range.
        unsafe {
            old.set_next_table(new);
            rcu_runtime::__loom_collections::migrate_bucket(old, 0, new, &mut scratch, |k| new.index(*k));
            old.set_progress(1);
        }
        reader.join().unwrap();
        // SAFETY: after the model's threads: everything is ours again.
        unsafe {
            for node in &nodes {
                drop(Box::from_raw(node.0));
            }
            old.free();
            new.free();
        }
    });
}
