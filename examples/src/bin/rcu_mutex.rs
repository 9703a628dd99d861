//! RCU field projection through `RcuMutex`: a front end's shared record, whose `#[rcu]` fields
//! reader threads use without the lock while an updater changes them under it.
//!
//! What it shows:
//! - `#[derive(RcuProtected)]` on the record: two `#[rcu]` fields (the admission limits and the
//!   backend pool) that readers reach with `RcuMutex::rcu()` and a `Guard` only, and three
//!   writer-only counters that only the lock holder can touch (the reader view has no method for
//!   them, so reading one without the lock does not compile).
//! - The updater locks, calls `project()` and gets an `RcuMut` for each `#[rcu]` field and
//!   `&mut u64` for each counter. It replaces the limits with a fresh value and frees the old one
//!   with `drop_async` (through the limits' own `#[rcu_head]`: no allocation, no waiting), and
//!   changes the backend pool with `copy_update` (read, copy, update) and frees the old pool with
//!   `defer_drop`.
//! - Readers check every value they see: it is well formed (a freed value is poisoned before its
//!   memory is released, so a reader that saw one would fail), and versions never go backwards
//!   within one reader. The two `#[rcu]` fields are published by two separate stores, so a reader
//!   may see limits and a pool from different updates; values that must match belong in one
//!   struct behind one `Rcu`.
//! - At the end: reads per second, updates, grace periods and reclaimed objects; after
//!   `rcu_barrier` and dropping the record, every object ever published has been freed.
//!
//! ```text
//! cargo run --release -p examples --bin rcu_mutex -- [--seconds N] [--readers N] [--update-us N]
//! ```

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use examples::cli::Args;
use examples::demo::{StopOnDrop, describe_barriers, thousands};
use rcu_runtime::{PinnedDrop, Rcu, RcuHead, RcuMutex, RcuProtected, rcu_barrier, read_lock, stats};

const HELP: &str = "\
usage: rcu_mutex [--seconds N] [--readers N] [--update-us N]
  --seconds N     how long to run (default 3)
  --readers N     reader threads (default: one per CPU)
  --update-us N   microseconds the updater sleeps between two updates (default 100)
  -h, --help      this text";

/// Written over a freed value's version before its memory is released.
const POISON: u64 = 0xdead_dead_dead_dead;
/// Customer tiers with an admission limit each.
const TIERS: usize = 4;
/// Backends in the pool at any time.
const POOL_SIZE: u64 = 8;

/// Objects published and objects freed, per kind.
static LIMITS_MADE: AtomicU64 = AtomicU64::new(0);
static LIMITS_FREED: AtomicU64 = AtomicU64::new(0);
static POOLS_MADE: AtomicU64 = AtomicU64::new(0);
static POOLS_FREED: AtomicU64 = AtomicU64::new(0);

/// Admission limits, per mille of requests admitted per tier: replaced whole on every update and
/// freed through its embedded head.
#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct Limits {
    version: u64,
    per_mille: [u64; TIERS],
    /// `checksum(version, per_mille)`: a torn or poisoned value fails it.
    checksum: u64,
    #[rcu_head]
    head: RcuHead,
}

impl Limits {
    fn new(version: u64) -> Box<Self> {
        let per_mille = core::array::from_fn(|tier| (version * 37 + tier as u64 * 211) % 1000);
        LIMITS_MADE.fetch_add(1, Ordering::Relaxed);
        Box::new(Self { version, per_mille, checksum: checksum(version, &per_mille), head: RcuHead::new() })
    }

    fn is_well_formed(&self) -> bool {
        self.version != POISON && self.checksum == checksum(self.version, &self.per_mille)
    }
}

fn checksum(version: u64, per_mille: &[u64; TIERS]) -> u64 {
    per_mille.iter().fold(version.rotate_left(17), |sum, &p| sum.rotate_left(7) ^ p.wrapping_mul(0x9e37_79b9))
}

// The derive forbids a plain `Drop` (it could move pinned fields); `PinnedDrop` is its pinned
// equivalent. `Limits` has no pinned field, so it is `Unpin` and `get_mut` is available.
impl PinnedDrop for Limits {
    fn drop(self: Pin<&mut Self>) {
        let this = self.get_mut();
        this.version = POISON;
        this.checksum = POISON;
        LIMITS_FREED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The backends requests are spread over: `POOL_SIZE` of them with consecutive ids, each named
/// after its id.
/// Each change retires the oldest backend and adds a new one, through `copy_update`.
struct Pool {
    version: u64,
    backends: Vec<Backend>,
}

struct Backend {
    id: u64,
    name: String,
    weight: u64,
}

impl Backend {
    fn new(id: u64) -> Self {
        Self { id, name: format!("app-{id}.internal"), weight: 1 + id % 7 }
    }
}

impl Pool {
    fn first() -> Box<Self> {
        POOLS_MADE.fetch_add(1, Ordering::Relaxed);
        Box::new(Self { version: 0, backends: (0..POOL_SIZE).map(Backend::new).collect() })
    }

    /// The next version: a copy of this one without its oldest backend, plus a new one.
    fn next(&self) -> Box<Self> {
        let newest = self.backends.last().expect("the pool is never empty").id;
        let mut backends: Vec<Backend> =
            self.backends[1..].iter().map(|b| Backend { name: b.name.clone(), ..*b }).collect();
        backends.push(Backend::new(newest + 1));
        POOLS_MADE.fetch_add(1, Ordering::Relaxed);
        Box::new(Self { version: self.version + 1, backends })
    }

    /// Version `v` holds backends `v..v + POOL_SIZE` with their weights.
    fn is_well_formed(&self) -> bool {
        self.version != POISON
            && self.backends.len() as u64 == POOL_SIZE
            && self.backends.iter().zip(self.version..).all(|(b, id)| b.id == id && b.weight == 1 + id % 7)
    }
}

impl Backend {
    /// Whether the name is the one `Backend::new` gave this id.
    fn is_well_named(&self) -> bool {
        let number = self.name.strip_prefix("app-").and_then(|rest| rest.strip_suffix(".internal"));
        number.and_then(|n| n.parse().ok()) == Some(self.id)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.version = POISON;
        POOLS_FREED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The front end's shared record. Readers see the two `#[rcu]` fields; the counters are
/// writer-only.
#[derive(RcuProtected)]
struct Frontend {
    #[rcu]
    limits: Rcu<Box<Limits>>,
    #[rcu]
    pool: Rcu<Box<Pool>>,
    /// Updates made; each publishes limits with this version.
    generation: u64,
    limit_reloads: u64,
    pool_changes: u64,
}

struct Options {
    seconds: f64,
    readers: usize,
    update_every: Duration,
}

fn parse_options() -> Options {
    let mut options = Options {
        seconds: 3.0,
        readers: thread::available_parallelism().map_or(2, |n| n.get()),
        update_every: Duration::from_micros(100),
    };
    let mut args = Args::new(HELP);
    while let Some(flag) = args.next_flag() {
        match flag.as_str() {
            "--seconds" => options.seconds = args.value(&flag),
            "--readers" => options.readers = args.value(&flag),
            "--update-us" => options.update_every = Duration::from_micros(args.value(&flag)),
            other => args.fail(&format!("unknown argument {other}")),
        }
    }
    if !(options.seconds.is_finite() && options.seconds >= 0.0) {
        args.fail("--seconds must be a non-negative number");
    }
    options
}

/// What one reader did.
#[derive(Default)]
struct Tally {
    reads: u64,
    admitted: u64,
    /// Reads whose limits and pool came from updates made at different times.
    mixed: u64,
}

fn main() {
    let options = parse_options();
    let frontend = RcuMutex::new(Frontend {
        limits: Rcu::new(Limits::new(0)),
        pool: Rcu::new(Pool::first()),
        generation: 0,
        limit_reloads: 0,
        pool_changes: 0,
    });
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let start_stats = stats();
    print_introduction(&options, start_stats.barrier_mode);
    let started = Instant::now();

    let tally = thread::scope(|s| {
        let _stop_on_unwind = StopOnDrop(&stop);
        let readers: Vec<_> = (0..options.readers)
            .map(|id| {
                let (frontend, stop, reads) = (&frontend, &stop, &reads);
                s.spawn(move || reader(id as u64, frontend, stop, reads))
            })
            .collect();
        s.spawn(|| updater(&frontend, &stop, options.update_every));

        println!("   time     reads    reads/s   updates  grace periods  values freed  pending");
        let deadline = Duration::from_secs_f64(options.seconds);
        while started.elapsed() < deadline {
            thread::sleep(Duration::from_millis(500).min(deadline.saturating_sub(started.elapsed())));
            let now = stats();
            let elapsed = started.elapsed().as_secs_f64();
            let count = reads.load(Ordering::Relaxed);
            // Writer-only fields: readable through the lock guard (`Deref`), not through the view.
            let generation = frontend.lock().generation;
            println!(
                "  {elapsed:4.1}s  {:>7.1}M  {:>7.1}M/s  {generation:>8}  {:>13}  {:>12}  {:>7}",
                count as f64 / 1e6,
                count as f64 / 1e6 / elapsed,
                now.grace_periods - start_stats.grace_periods,
                LIMITS_FREED.load(Ordering::Relaxed) + POOLS_FREED.load(Ordering::Relaxed),
                now.callbacks_pending,
            );
        }
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().expect("a reader failed its checks")).fold(
            Tally::default(),
            |sum, t| Tally {
                reads: sum.reads + t.reads,
                admitted: sum.admitted + t.admitted,
                mixed: sum.mixed + t.mixed,
            },
        )
    });
    let elapsed = started.elapsed().as_secs_f64();

    // Every retired value is queued on the callback worker; wait for all of them.
    rcu_barrier();
    let end = stats();
    let (limits_freed, pools_freed) =
        (LIMITS_FREED.load(Ordering::Relaxed), POOLS_FREED.load(Ordering::Relaxed));
    // The record comes back still pinned; its writer-only fields are plain fields again.
    let record = frontend.into_inner();
    let (generation, limit_reloads, pool_changes) =
        (record.generation, record.limit_reloads, record.pool_changes);
    drop(record); // the two published values: each `Rcu` waits for a grace period, then frees

    let grace_periods = end.grace_periods - start_stats.grace_periods;
    let callbacks = end.callbacks_run - start_stats.callbacks_run;
    let (retired, made) = (limit_reloads + pool_changes, limits_made() + pools_made());
    println!("summary after {elapsed:.1}s:");
    println!(
        "  reads:          {} ({:.1}M/s by all readers), no lock taken; {} requests admitted\n                  \
         by the limits (about half, as the limits are built)",
        thousands(tally.reads),
        tally.reads as f64 / elapsed / 1e6,
        thousands(tally.admitted)
    );
    println!(
        "  mixed reads:    {} saw limits and a pool from different updates: expected, the two\n                  \
         #[rcu] fields are published by two stores (what must match belongs behind one Rcu)",
        thousands(tally.mixed)
    );
    println!("  torn or stale:  0 (a reader that saw one would have stopped the run)");
    println!(
        "  updates:        {} ({:.0}/s): {} limits replaced, {} pools changed (every 4th update)",
        thousands(generation),
        generation as f64 / elapsed,
        thousands(limit_reloads),
        thousands(pool_changes)
    );
    println!(
        "  grace periods:  {} for {} retired values ({:.1} per grace period: freed in batches)",
        thousands(grace_periods),
        thousands(retired),
        retired as f64 / grace_periods.max(1) as f64
    );
    println!(
        "  freed:          {} limits (drop_async) and {} pools (defer_drop) by rcu_barrier; {} callbacks\n                  \
         ran: one per retired value, plus {} that rcu_barrier() queues behind them to know when they are done",
        thousands(limits_freed),
        thousands(pools_freed),
        thousands(callbacks),
        callbacks.saturating_sub(limits_freed + pools_freed)
    );

    assert_eq!(limit_reloads + 1, limits_made(), "one limits value per reload, plus the first");
    assert_eq!(pool_changes + 1, pools_made(), "one pool per change, plus the first");
    assert_eq!(limits_freed + 1, limits_made(), "rcu_barrier freed every replaced limits value");
    assert_eq!(pools_freed + 1, pools_made(), "rcu_barrier freed every replaced pool");
    assert_eq!(
        LIMITS_FREED.load(Ordering::Relaxed),
        limits_made(),
        "dropping the record freed the last limits"
    );
    assert_eq!(POOLS_FREED.load(Ordering::Relaxed), pools_made(), "dropping the record freed the last pool");
    assert_eq!(stats().callbacks_pending, 0, "nothing is left queued");
    println!(
        "verdict: OK: {:.1}M reads without the lock saw only whole values whose versions never went back; \
         all {} values published were freed, the last 2 when the record was dropped",
        tally.reads as f64 / 1e6,
        thousands(made)
    );
}

fn limits_made() -> u64 {
    LIMITS_MADE.load(Ordering::Relaxed)
}

fn pools_made() -> u64 {
    POOLS_MADE.load(Ordering::Relaxed)
}

/// What is being run and how to read the progress lines.
fn print_introduction(options: &Options, barrier_mode: rcu_runtime::config::BarrierMode) {
    println!(
        "rcu_mutex: readers use a locked record's #[rcu] fields without its lock, an updater changes them under it"
    );
    println!("  record:   Frontend {{ #[rcu] limits, #[rcu] pool, 3 writer-only counters }} in an RcuMutex");
    println!(
        "  readers:  {} threads; each read is a read_lock() section that dereferences both #[rcu] fields\n            \
         through RcuMutex::rcu() (which has no method for the counters), admits or rejects a request\n            \
         by the limits and picks a backend from the pool; no lock taken",
        options.readers
    );
    println!(
        "  updater:  every {:?}, under the lock: new limits (Rcu::replace; the old ones freed by\n            \
         drop_async), and every 4th time a new pool (copy_update; the old one freed by defer_drop)",
        options.update_every
    );
    println!(
        "  checks:   every value a reader sees is whole (freed ones are poisoned first), versions never go back"
    );
    println!("  barriers: {}", describe_barriers(barrier_mode));
    println!("  options:  --help (run length, readers, update interval)");
    println!(
        "every 0.5s: reads so far by all readers (millions) and per second; updates; grace periods completed:"
    );
    println!(
        "fewer than updates, because retired values are freed in batches, one grace period per batch; values"
    );
    println!("(limits and pools) freed so far; pending: retired values waiting for their grace period.");
}

/// Admits or rejects requests against the current limits and picks a backend for each, as fast
/// as it can, checking everything it sees.
fn reader(id: u64, frontend: &RcuMutex<Frontend>, stop: &AtomicBool, reads: &AtomicU64) -> Tally {
    let view = frontend.rcu(); // the reader view: `limits()` and `pool()`, nothing else
    let mut request = id.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let (mut last_limits, mut last_pool) = (0, 0);
    let mut tally = Tally::default();
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..1024 {
            request = request.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let guard = read_lock();
            let limits = view.limits().dereference(&guard).expect("limits are always published");
            let pool = view.pool().dereference(&guard).expect("the pool is always published");
            assert!(
                limits.is_well_formed(),
                "reader {id} saw torn or freed limits (version {:#x})",
                limits.version
            );
            assert!(
                pool.is_well_formed(),
                "reader {id} saw a torn or freed pool (version {:#x})",
                pool.version
            );
            assert!(limits.version >= last_limits, "reader {id}: limits went back in time");
            assert!(pool.version >= last_pool, "reader {id}: the pool went back in time");
            last_limits = limits.version;
            last_pool = pool.version;

            let tier = (request >> 33) as usize % TIERS;
            if (request >> 40) % 1000 < limits.per_mille[tier] {
                let backend = &pool.backends[(request >> 20) as usize % pool.backends.len()];
                assert!(backend.is_well_named(), "reader {id} saw a torn or freed backend name");
                tally.admitted += 1;
            }
            // The updater changes the pool on every fourth update (see `updater`).
            tally.mixed += u64::from(limits.version / 4 != pool.version);
            tally.reads += 1;
            // `guard` ends here: `limits` and `pool` cannot be used past it (they borrow it).
        }
        reads.fetch_add(1024, Ordering::Relaxed);
    }
    tally
}

/// Reloads the limits on every update and changes the pool on every fourth, under the lock.
fn updater(frontend: &RcuMutex<Frontend>, stop: &AtomicBool, every: Duration) {
    while !stop.load(Ordering::Relaxed) {
        let mut guard = frontend.lock();
        let fields = guard.project(); // RcuMut for `#[rcu]` fields, &mut u64 for the counters
        *fields.generation += 1;
        let generation = *fields.generation;

        // Replace with a fresh value; free the old one through its own head, without waiting.
        if let Some(old) = fields.limits.replace(Limits::new(generation)) {
            old.drop_async();
        }
        *fields.limit_reloads += 1;

        if generation.is_multiple_of(4) {
            // Read-copy-update: the next pool is built from the current one.
            let old = fields
                .pool
                .copy_update(|current| Some(current.expect("the pool is always published").next()));
            if let Some(old) = old {
                old.defer_drop();
            }
            *fields.pool_changes += 1;
        }
        drop(guard);
        thread::sleep(every);
    }
}
