//! `RcuList`: the kernel's `list_*_rcu` semantics, panics and re-entrancy in closures, dropping
//! long lists, and readers racing with updaters under a poisoning allocator.
//!
//! The drop test runs 200 000 nodes in CI; the 10 M-node variant is ignored by default:
//! `cargo test --release -p rcu-runtime --test rcu_list -- --ignored`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use rcu_runtime::{Rcu, RcuLinks, RcuList, RcuMutex, RcuProtected, rcu_barrier, read_lock, stats};
use test_support::{Tracked, counter, liveness, panic_message, poison_alloc};

#[global_allocator]
static ALLOC: poison_alloc::PoisonAllocator = poison_alloc::PoisonAllocator;

/// Tests that count grace periods take it for writing; every other test for reading, so that
/// nothing else in this binary starts grace periods meanwhile.
static SERIAL: RwLock<()> = RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SERIAL.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(RcuProtected)]
struct Node {
    id: u64,
    #[rcu_links]
    links: RcuLinks,
    tracked: Tracked,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.id)
    }
}

fn node(id: u64, drops: &Arc<AtomicUsize>) -> Box<Node> {
    Box::new(Node { id, links: RcuLinks::new(), tracked: Tracked::new(id, drops) })
}

fn ids(list: &RcuList<Node>) -> Vec<u64> {
    let guard = read_lock();
    list.iter(&guard).map(|n| n.tracked.check()).collect()
}

#[test]
fn push_front_and_back_keep_order_and_count() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    assert!(list.is_empty());
    list.push_back(node(2, &drops));
    list.push_front(node(1, &drops));
    list.push_back(node(3, &drops));
    assert_eq!(ids(&list), [1, 2, 3]);
    assert_eq!(list.len(), 3);
    assert_eq!(format!("{list:?}"), "[1, 2, 3]");
    drop(list);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "dropping the list drops every node");
}

#[test]
fn remove_unlinks_first_middle_and_last_and_frees_after_a_grace_period() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    for id in 1..=5 {
        list.push_back(node(id, &drops));
    }
    let guard = read_lock();
    let middle = list.iter(&guard).nth(2).unwrap();
    let old = list.remove(|n| n.id == 3).expect("present");
    assert_eq!(middle.tracked.check(), 3, "still readable under the guard");
    old.defer_drop();
    list.remove(|n| n.id == 1).unwrap().defer_drop();
    list.remove(|n| n.id == 5).unwrap().defer_drop();
    assert!(list.remove(|n| n.id == 42).is_none());
    assert_eq!(drops.load(Ordering::SeqCst), 0, "nothing freed while a reader could see it");
    drop(guard);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(ids(&list), [2, 4]);
    assert_eq!(list.len(), 2);
    // The list still links both ways: pushes at both ends land next to the survivors.
    list.push_front(node(0, &drops));
    list.push_back(node(9, &drops));
    assert_eq!(ids(&list), [0, 2, 4, 9]);
    let back = list.remove(|n| n.id == 4).unwrap().wait();
    assert_eq!(back.id, 4, "wait gives the box back");
    list.push_back(back);
    assert_eq!(ids(&list), [0, 2, 9, 4], "a removed node can be pushed again after its grace period");
}

#[test]
fn a_reader_standing_on_a_removed_node_goes_on_to_the_rest() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    for id in 1..=4 {
        list.push_back(node(id, &drops));
    }
    let guard = read_lock();
    let mut iter = list.iter(&guard);
    assert_eq!(iter.next().map(|n| n.id), Some(1));
    let on = iter.next().unwrap();
    assert_eq!(on.id, 2);
    // The node we stand on and its successor go away; we still reach 4 through them.
    list.remove(|n| n.id == 2).unwrap().defer_drop();
    list.remove(|n| n.id == 3).unwrap().defer_drop();
    assert_eq!(iter.map(|n| n.tracked.check()).collect::<Vec<_>>(), [3, 4]);
    drop(guard);
    assert_eq!(ids(&list), [1, 4]);
}

#[test]
fn cursor_removes_replaces_and_inserts_in_place() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    for id in [1, 2, 3] {
        list.push_back(node(id, &drops));
    }
    let guard = read_lock();
    let old_two = list.iter(&guard).nth(1).unwrap();
    let mut olds = Vec::new();
    {
        let mut cursor = list.cursor();
        assert_eq!(cursor.current().map(|n| n.id), Some(1));
        cursor.move_next();
        olds.push(cursor.replace_current(node(20, &drops)).ok().unwrap());
        assert_eq!(cursor.current().map(|n| n.id), Some(20));
        cursor.insert_before(node(15, &drops));
        cursor.move_next();
        olds.push(cursor.remove_current().unwrap());
        assert!(cursor.current().is_none(), "removing the last node leaves the cursor at the end");
        assert!(cursor.remove_current().is_none());
        let refused = cursor.replace_current(node(99, &drops)).err().unwrap();
        assert_eq!(refused.id, 99);
        cursor.insert_before(node(30, &drops));
        cursor.move_next();
        assert!(cursor.current().is_none(), "the end stays the end");
        assert!(format!("{cursor:?}").contains("at_end: true"));
    }
    assert_eq!(old_two.tracked.check(), 2, "a replaced node stays readable under the guard");
    assert_eq!(list.iter(&guard).map(|n| n.id).collect::<Vec<_>>(), [1, 15, 20, 30]);
    drop(guard);
    assert_eq!(list.len(), 4);
    for old in olds {
        old.defer_drop();
    }
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 3, "2, 3 and the refused 99");
    // The back links are right: a backward-dependent insert lands where it should.
    let mut cursor = list.cursor();
    cursor.move_next();
    cursor.move_next();
    cursor.move_next(); // at 30, the last
    cursor.insert_before(node(25, &drops));
    drop(cursor);
    list.push_back(node(40, &drops));
    assert_eq!(ids(&list), [1, 15, 20, 25, 30, 40]);
}

#[test]
fn a_panicking_predicate_leaves_the_list_consistent_and_unlocked() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    for id in 1..=3 {
        list.push_back(node(id, &drops));
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        list.remove(|n| {
            assert!(n.id < 2, "predicate gives up at {}", n.id);
            false
        })
    }));
    let payload = result.expect_err("the predicate panicked");
    assert!(panic_message(&*payload).contains("predicate gives up at 2"));
    assert_eq!(ids(&list), [1, 2, 3]);
    list.push_back(node(4, &drops)); // the lock was released
    assert_eq!(list.len(), 4);
}

/// A panic payload whose own drop panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the payload's drop panics too");
    }
}

#[test]
fn a_predicate_panicking_with_a_payload_whose_drop_panics_leaves_the_list_usable() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    list.push_back(node(1, &drops));
    let result = catch_unwind(AssertUnwindSafe(|| list.remove(|_| std::panic::panic_any(PanicsOnDrop))));
    let payload = result.expect_err("the predicate panicked");
    let second = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    assert!(second.is_err(), "the payload's drop panicked where it was dropped: in the catcher");
    list.push_back(node(2, &drops));
    assert_eq!(ids(&list), [1, 2]);
    let mut cursor = list.cursor();
    assert_eq!(cursor.current().map(|n| n.id), Some(1));
    cursor.remove_current().unwrap().defer_drop();
}

#[test]
fn a_predicate_that_updates_the_same_list_panics_instead_of_deadlocking() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    list.push_back(node(1, &drops));
    let other = RcuList::new();
    let inner = drops.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let result = catch_unwind(AssertUnwindSafe(|| {
                list.remove(|n| {
                    other.push_back(node(n.id + 100, &inner)); // another list: fine
                    list.push_back(node(2, &inner)); // the same list: refused
                    false
                })
            }));
            done_tx.send(result.err().map(|p| panic_message(&*p))).unwrap();
        });
        let message = done_rx.recv_timeout(liveness::HANG).expect("re-entrant push_back deadlocked").unwrap();
        assert!(message.contains("RcuList::push_back"), "{message}");
        assert!(message.contains("deadlock"), "{message}");
    });
    assert_eq!(ids(&other), [101]);
    assert_eq!(ids(&list), [1]);
    // A cursor alive on this thread makes the list's own updates panic as well.
    let cursor = list.cursor();
    let result = catch_unwind(AssertUnwindSafe(|| list.push_front(node(3, &drops))));
    assert!(panic_message(&*result.err().unwrap()).contains("Cursor"));
    drop(cursor);
    list.push_front(node(0, &drops));
    assert_eq!(ids(&list), [0, 1]);
}

/// A node whose drop panics, for the drop-chain test. (The derive allows `impl Drop`: no field
/// is pinned.)
#[derive(RcuProtected)]
struct Grenade {
    #[rcu_links]
    links: RcuLinks,
    armed: bool,
    drops: Arc<AtomicUsize>,
}

impl Drop for Grenade {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        assert!(!self.armed, "this node's drop panics");
    }
}

#[test]
fn a_node_whose_drop_panics_does_not_leak_the_rest_of_a_dropped_list() {
    let _serial = shared();
    let drops = counter();
    let list = RcuList::new();
    for i in 0..10 {
        list.push_back(Box::new(Grenade { links: RcuLinks::new(), armed: i == 3, drops: drops.clone() }));
    }
    let result = catch_unwind(AssertUnwindSafe(move || drop(list)));
    assert!(result.is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 10, "every node was dropped, the panicking one too");
}

/// Builds a list of `count` nodes, drops it, and checks that it took one grace period.
fn drop_a_long_list(count: u64) {
    let _serial = SERIAL.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    rcu_barrier();
    let drops = counter();
    let list = RcuList::new();
    for id in 0..count {
        list.push_back(node(id, &drops));
    }
    assert_eq!(list.len() as u64, count);
    let before = stats().grace_periods;
    let started = Instant::now();
    drop(list);
    let took = started.elapsed();
    let grace_periods = stats().grace_periods - before;
    assert_eq!(drops.load(Ordering::SeqCst) as u64, count);
    assert_eq!(grace_periods, 1, "dropping the list took {grace_periods} grace periods");
    println!("dropped {count} nodes in {took:?}, one grace period");
}

#[test]
fn dropping_a_long_list_costs_one_grace_period_and_no_recursion() {
    drop_a_long_list(200_000);
}

/// The 10 M-node variant (about 1 GB with the tracking): run it in release, by name.
#[test]
#[ignore = "10 M nodes: run with --release -- --ignored"]
fn dropping_ten_million_nodes_costs_one_grace_period() {
    drop_a_long_list(10_000_000);
}

/// Readers traverse while an updater inserts, removes and replaces nodes between fixed "pillar"
/// nodes that are never removed. Every traversal must see every pillar, in order, exactly once,
/// and only live nodes (freed ones are poisoned, by `Tracked` and by the allocator).
#[test]
fn readers_never_lose_their_way_while_nodes_come_and_go() {
    let _serial = shared();
    const PILLARS: u64 = 16;
    const PILLAR: u64 = 1 << 40;
    let seconds = std::env::var("RCU_LIST_STRESS_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1.5);
    // Under AddressSanitizer (RCU_TORTURE_QUARANTINE=off) ASan's own quarantine does the job.
    poison_alloc::configure_from_env();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let drops = counter();
    let list = RcuList::new();
    for p in 0..PILLARS {
        list.push_back(node(PILLAR + p, &drops));
    }
    let stop = AtomicBool::new(false);
    let traversals = AtomicU64::new(0);
    let seen = AtomicU64::new(0);
    let updates = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let guard = read_lock();
                    let mut next_pillar = PILLAR;
                    let mut nodes = 0;
                    for n in list.iter(&guard) {
                        let id = n.tracked.check();
                        if id >= PILLAR {
                            assert_eq!(id, next_pillar, "pillars out of order or missing");
                            next_pillar += 1;
                        }
                        nodes += 1;
                    }
                    assert_eq!(next_pillar, PILLAR + PILLARS, "a traversal lost pillars");
                    traversals.fetch_add(1, Ordering::Relaxed);
                    seen.fetch_add(nodes, Ordering::Relaxed);
                }
            });
        }
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next_id = 0;
        while Instant::now() < deadline {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut cursor = list.cursor();
            let skip = rng % 20;
            for _ in 0..skip {
                cursor.move_next();
            }
            let transient = cursor.current().is_some_and(|n| n.id < PILLAR);
            match rng >> 60 {
                0..=5 => {
                    cursor.insert_before(node(next_id, &drops));
                    next_id += 1;
                }
                6..=10 if transient => cursor.remove_current().unwrap().defer_drop(),
                11..=13 if transient => {
                    cursor.replace_current(node(next_id, &drops)).ok().unwrap().defer_drop();
                    next_id += 1;
                }
                _ => {
                    drop(cursor);
                    // Now and then, a synchronous free: the updater waits for the readers.
                    if let Some(old) = list.remove(|n| n.id < PILLAR && n.id % 7 == rng % 7) {
                        drop(old.wait());
                    }
                }
            }
            updates.fetch_add(1, Ordering::Relaxed);
        }
        stop.store(true, Ordering::Relaxed);
    });
    rcu_barrier();
    let alloc = poison_alloc::counters();
    println!(
        "{} traversals over {} nodes, {} updates, {} nodes freed, {} poisoned frees",
        traversals.load(Ordering::Relaxed),
        seen.load(Ordering::Relaxed),
        updates.load(Ordering::Relaxed),
        drops.load(Ordering::SeqCst),
        alloc.poisoned_frees
    );
    assert!(traversals.load(Ordering::Relaxed) > 0 && updates.load(Ordering::Relaxed) > 0);
    poison_alloc::flush();
    assert_eq!(poison_alloc::counters().writes_after_free, 0, "someone wrote into freed memory");
}

#[test]
fn the_list_is_send_and_sync_when_its_nodes_are() {
    let _serial = shared();
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<RcuList<Node>>();
    assert_send_sync::<RcuLinks>();
}

/// What an `RcuMutex` protects here: a list that readers reach through the view, and a
/// writer-only count of how often the lock holder replaced the whole list.
#[derive(RcuProtected)]
struct Registry {
    #[rcu]
    routes: Rcu<Box<RcuList<Node>>>,
    swaps: u64,
}

#[test]
fn a_list_behind_an_rcu_field_is_read_through_the_view_while_it_changes_and_is_replaced() {
    let _serial = shared();
    let drops = counter();
    let list = |ids: core::ops::Range<u64>| {
        let list = RcuList::new();
        for id in ids {
            list.push_back(node(id, &drops));
        }
        Box::new(list)
    };
    let registry = RcuMutex::new(Registry { routes: Rcu::new(list(0..8)), swaps: 0 });
    let stop = AtomicBool::new(false);
    let traversals = AtomicU64::new(0);
    std::thread::scope(|s| {
        // Readers: through the view, without the mutex's lock; every id they see is alive and
        // the ids of one traversal are in list order.
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let guard = read_lock();
                    let routes = registry.rcu().routes().dereference(&guard).expect("always published");
                    let seen: Vec<u64> = routes.iter(&guard).map(|n| n.tracked.check()).collect();
                    assert!(seen.windows(2).all(|w| w[0] < w[1]), "out of order: {seen:?}");
                    traversals.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        // An updater of the list itself, also through the view: the list locks on its own.
        s.spawn(|| {
            for round in 0..200_u64 {
                let guard = read_lock();
                let routes = registry.rcu().routes().dereference(&guard).expect("always published");
                routes.push_back(node(10_000 + round, &drops));
                let removed = routes.remove(|n| n.id == 10_000 + round);
                drop(guard);
                // Outside the section: dropping the `RcuOld` waits for a grace period.
                drop(removed);
            }
        });
        // The lock holder replaces the whole list now and then; the old one is freed after a
        // grace period, nodes and all, while readers may still walk it.
        for swap in 1..=20_u64 {
            let mut writer = registry.lock();
            let projection = writer.project();
            *projection.swaps += 1;
            let old = projection.routes.replace(list(swap * 100..swap * 100 + 8));
            drop(writer);
            old.expect("always published").defer_drop();
            std::thread::sleep(Duration::from_millis(1));
        }
        while traversals.load(Ordering::Relaxed) < 100 {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(registry.lock().swaps, 20);
    drop(registry);
    // The first barrier runs the `defer_drop`s, whose list drops queue their nodes (on the
    // worker, a list defers instead of waiting); the second runs those.
    rcu_barrier();
    rcu_barrier();
    // 8 nodes in each of the 21 lists, and the 200 the list updater added and removed.
    assert_eq!(drops.load(Ordering::SeqCst), 21 * 8 + 200);
}
