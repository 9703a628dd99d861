//! `RcuMutex` under concurrency: readers on several threads read `#[rcu]` fields through the view,
//! without the lock, while an updater replaces them and changes writer-only fields under the lock;
//! every replaced object is dropped exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use rcu_runtime::{Rcu, RcuHead, RcuMutex, RcuProtected, rcu_barrier, read_lock};

/// A published version: `check` is derived from `version`, so a reader that saw a half-written or
/// freed object would notice.
struct Version {
    version: u64,
    check: u64,
    drops: Arc<AtomicUsize>,
}

impl Version {
    fn new(version: u64, drops: &Arc<AtomicUsize>) -> Box<Self> {
        Box::new(Version { version, check: !version, drops: Arc::clone(drops) })
    }

    /// The version, after checking that the object is intact.
    fn read(&self) -> u64 {
        assert_eq!(self.check, !self.version, "a reader saw a torn or freed object");
        self.version
    }
}

impl Drop for Version {
    fn drop(&mut self) {
        assert_eq!(self.check, !self.version, "dropped twice or corrupted");
        self.check = 0;
        self.version = 0;
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    current: Rcu<Box<Version>>,
    #[rcu]
    previous: Rcu<Box<Version>>,
    /// Writer-only.
    reloads: u64,
    #[rcu_head]
    head: RcuHead,
}

const READERS: usize = 3;
const UPDATES: u64 = 2_000;

#[test]
fn readers_see_monotonic_intact_versions_while_the_updater_replaces_them() {
    let drops = Arc::new(AtomicUsize::new(0));
    let cfg = RcuMutex::new(Config {
        current: Rcu::new(Version::new(0, &drops)),
        previous: Rcu::null(),
        reloads: 0,
        head: RcuHead::new(),
    });
    let done = AtomicBool::new(false);
    let reads = AtomicUsize::new(0);

    thread::scope(|s| {
        for _ in 0..READERS {
            s.spawn(|| {
                let mut last = 0;
                while !done.load(Ordering::Relaxed) {
                    let g = read_lock();
                    let view = cfg.rcu();
                    let current =
                        view.current().dereference(&g).expect("`current` is always published").read();
                    assert!(current >= last, "version went back from {last} to {current}");
                    if let Some(previous) = view.previous().dereference(&g) {
                        // The updater publishes `previous = v - 1` before `current = v`, and the
                        // Acquire load of `current` saw `v`: the later load of `previous` sees
                        // that store or a newer one.
                        assert!(
                            previous.read() + 1 >= current,
                            "previous {} behind current {current}",
                            previous.read()
                        );
                    }
                    last = current;
                    reads.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        s.spawn(|| {
            for version in 1..=UPDATES {
                let mut w = cfg.lock();
                let p = w.project();
                *p.reloads += 1;
                let old_previous = p.previous.replace(Version::new(version - 1, &drops));
                let old_current = p.current.replace(Version::new(version, &drops));
                drop(w);
                // Asynchronous reclamation for one, synchronous for the other: both must wait
                // for the readers above.
                if let Some(old) = old_previous {
                    old.defer_drop();
                }
                if let Some(old) = old_current {
                    drop(old);
                }
            }
            done.store(true, Ordering::Relaxed);
        });
    });

    assert!(reads.load(Ordering::Relaxed) > 0);
    assert_eq!(cfg.lock().reloads, UPDATES);
    {
        let g = read_lock();
        assert_eq!(cfg.rcu().current().dereference(&g).unwrap().read(), UPDATES);
        assert_eq!(cfg.rcu().previous().dereference(&g).unwrap().read(), UPDATES - 1);
    }
    rcu_barrier();
    // Every replaced object: the initial `current`, and each version's `current` and `previous`
    // except the two still published.
    let created = 1 + 2 * UPDATES as usize;
    assert_eq!(drops.load(Ordering::Relaxed), created - 2);
    drop(cfg);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::Relaxed), created, "each object is dropped exactly once");
}

/// A tuple struct behind the lock: `field_0()` in the view, `.0`/`.1` in the projection.
#[derive(RcuProtected)]
struct Pair(#[rcu] Rcu<Box<Version>>, u64);

#[test]
fn tuple_struct_readers_and_updater() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pair = RcuMutex::new(Pair(Rcu::new(Version::new(0, &drops)), 0));
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut last = 0;
                while !done.load(Ordering::Relaxed) {
                    let g = read_lock();
                    let v = pair.rcu().field_0().dereference(&g).unwrap().read();
                    assert!(v >= last);
                    last = v;
                }
            });
        }
        s.spawn(|| {
            for version in 1..=500 {
                let mut w = pair.lock();
                let p = w.project();
                *p.1 = version;
                if let Some(old) = p.0.replace(Version::new(version, &drops)) {
                    old.defer_drop();
                }
            }
            done.store(true, Ordering::Relaxed);
        });
    });
    assert_eq!(pair.lock().1, 500);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::Relaxed), 500);
    drop(pair);
    rcu_barrier();
    assert_eq!(drops.load(Ordering::Relaxed), 501);
}

/// A generic struct with a lifetime: readers of `RcuMutex<Table<'_, T>>` on scoped threads.
#[derive(RcuProtected)]
struct Table<'n, T: Send + Sync + 'static> {
    #[rcu]
    #[expect(clippy::box_collection, reason = "an `Rcu` publishes one pointer: the box is that pointer")]
    rows: Rcu<Box<Vec<T>>>,
    name: &'n str,
    generation: usize,
}

#[test]
fn generic_struct_with_a_borrowed_field_is_shared_by_scoped_threads() {
    let name = String::from("people");
    let table = RcuMutex::new(Table { rows: Rcu::new(Box::new(vec![0_u32])), name: &name, generation: 0 });
    thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut longest = 0;
                    for _ in 0..2_000 {
                        let g = read_lock();
                        let rows = table.rcu().rows().dereference(&g).unwrap();
                        // Each published vector is 0, 1, 2, .. n: never a partial one.
                        assert!(rows.iter().enumerate().all(|(i, &v)| v as usize == i));
                        longest = longest.max(rows.len());
                    }
                    longest
                })
            })
            .collect();
        s.spawn(|| {
            for _ in 0..200 {
                let mut w = table.lock();
                let p = w.project();
                *p.generation += 1;
                let old = p.rows.copy_update(|rows| {
                    let mut rows = rows.cloned().unwrap_or_default();
                    rows.push(rows.len() as u32);
                    Some(Box::new(rows))
                });
                if let Some(old) = old {
                    old.defer_drop();
                }
            }
        });
        for reader in readers {
            assert!(reader.join().unwrap() <= 201);
        }
    });
    let w = table.lock();
    assert_eq!((w.name, w.generation), ("people", 200));
    let g = read_lock();
    assert_eq!(table.rcu().rows().dereference(&g).unwrap().len(), 201);
}

/// The view is `Copy` and, when the `#[rcu]` fields are `Sync`, `Send`: a reader may take one to
/// another scoped thread.
#[test]
fn a_view_can_be_copied_to_other_threads() {
    let drops = Arc::new(AtomicUsize::new(0));
    let pair = RcuMutex::new(Pair(Rcu::new(Version::new(7, &drops)), 0));
    let view = pair.rcu();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || {
                let g = read_lock();
                assert_eq!(view.field_0().dereference(&g).unwrap().read(), 7);
            });
        }
    });
    let g = read_lock();
    assert_eq!(view.field_0().dereference(&g).unwrap().read(), 7);
}
