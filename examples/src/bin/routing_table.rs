//! The main demo: a routing table that reader threads query continuously while an updater
//! hot-reloads it.
//!
//! What it shows: readers look routes up through `RcuMutex::rcu()` without ever taking a lock;
//! the updater takes the lock, publishes a new table with `Rcu::replace` and frees the old one
//! asynchronously with `drop_async` (through the table's `#[rcu_head]`, no allocation).
//!
//! The table is a forwarding table as routers compile it: one slot per prefix of a fixed length
//! (default 4096 slots, so /12 prefixes), each holding a next hop or "no route". A lookup is one
//! array index, so what a read-side section costs is not hidden behind the lookup: compare the
//! "ns of reader CPU per lookup" with and without `--qsbr`.
//!
//! Every reader checks each lookup: the hop must be the one its table's version says (a torn,
//! mixed or freed table fails this; freed tables are poisoned first), and a reader must never
//! see a version older than one it already saw (a stale read). The run counts both, expects
//! zero, and also checks that every table published is freed exactly once. It ends with a
//! one-line verdict and exits with status 1 if anything failed.
//!
//! With `--qsbr`, the readers are `QsbrReader`s instead: no section per lookup (a read is a plain
//! load), a quiescent state after every 1024 lookups.
//!
//! ```text
//! cargo run --release -p examples --bin routing_table -- [--seconds N] [--readers N]
//!     [--reload-us N] [--table-size N] [--qsbr]
//! ```

use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use examples::cli::Args;
use examples::demo::{StopOnDrop, describe_barriers, thousands};
use rcu_runtime::{
    Guard, PinnedDrop, QsbrReader, Rcu, RcuHead, RcuMutex, RcuProtected, rcu_barrier, read_lock, stats,
};

const HELP: &str = "\
usage: routing_table [--seconds N] [--readers N] [--reload-us N] [--table-size N] [--qsbr]
  --seconds N      how long to run (default 5)
  --readers N      reader threads (default: one per CPU)
  --reload-us N    microseconds the updater sleeps between two reloads (default 200)
  --table-size N   slots in the table, a power of two from 2 to 16777216 (default 4096: /12 prefixes)
  --qsbr           readers are QsbrReaders: a plain load per lookup, a quiescent state per 1024
  -h, --help       this text";

/// Lookups a reader makes between two updates of the shared progress counter (and, with
/// `--qsbr`, between two quiescent states).
const BATCH: u64 = 1024;
/// A slot without a route.
const NO_ROUTE: u32 = 0;
/// Written over a table's version before its memory is freed.
const POISON: u64 = 0xdead_dead_dead_dead;

/// Tables freed so far (by the callback worker, or by the router's drop for the last one).
static RECLAIMED: AtomicU64 = AtomicU64::new(0);

/// One version of the routing table: a next hop per prefix of one length, found by indexing.
#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct RouteTable {
    version: u64,
    /// Slot `i`: the next hop of the prefix whose top bits are `i`, or `NO_ROUTE`. Every slot is
    /// `expected_hop(version, i)`: readers check it.
    hops: Box<[u32]>,
    /// `32 - prefix length`: an address's slot is `address >> shift`.
    shift: u32,
    #[rcu_head]
    head: RcuHead,
}

impl RouteTable {
    fn generate(version: u64, size: u32) -> Box<Self> {
        let hops = (0..size).map(|slot| expected_hop(version, slot)).collect();
        Box::new(Self { version, hops, shift: 32 - size.trailing_zeros(), head: RcuHead::new() })
    }

    /// The slot of `addr` and its next hop (`NO_ROUTE` if none).
    fn lookup(&self, addr: u32) -> (u32, u32) {
        let slot = (u64::from(addr) >> self.shift) as u32;
        (slot, self.hops[slot as usize])
    }
}

/// What slot `slot` of table version `version` holds: one prefix in 16 has no route (which ones
/// changes with the version), the others a hop that encodes the version.
fn expected_hop(version: u64, slot: u32) -> u32 {
    let version = version as u32;
    if (slot ^ version).is_multiple_of(16) {
        NO_ROUTE
    } else {
        (version.wrapping_mul(0x9e37_79b9) ^ slot) | 1
    }
}

// The derive proves structural pinning, so a plain `Drop` impl is rejected; `PinnedDrop` is the
// pinned equivalent. `RouteTable` has no pinned field, so it is `Unpin` and `get_mut` is available.
impl PinnedDrop for RouteTable {
    fn drop(self: Pin<&mut Self>) {
        // Poison: a reader that reached a freed table would count a torn read.
        let this = self.get_mut();
        this.version = POISON;
        this.hops.fill(NO_ROUTE);
        RECLAIMED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The service state: the table readers follow without the lock, and writer-only bookkeeping.
#[derive(RcuProtected)]
struct Router {
    #[rcu]
    table: Rcu<Box<RouteTable>>,
    reloads: u64,
}

struct Options {
    seconds: f64,
    readers: usize,
    reload_every: Duration,
    table_size: u32,
    qsbr: bool,
}

fn parse_options() -> Options {
    let mut options = Options {
        seconds: 5.0,
        readers: thread::available_parallelism().map_or(2, |n| n.get()),
        reload_every: Duration::from_micros(200),
        table_size: 4096,
        qsbr: false,
    };
    let mut args = Args::new(HELP);
    while let Some(flag) = args.next_flag() {
        match flag.as_str() {
            "--seconds" => options.seconds = args.value(&flag),
            "--readers" => options.readers = args.value(&flag),
            "--reload-us" => options.reload_every = Duration::from_micros(args.value(&flag)),
            "--table-size" => options.table_size = args.value(&flag),
            "--qsbr" => options.qsbr = true,
            other => args.fail(&format!("unknown argument {other}")),
        }
    }
    if !(options.seconds.is_finite() && options.seconds >= 0.0) {
        args.fail("--seconds must be a non-negative number");
    }
    if options.readers == 0 {
        args.fail("--readers must be at least 1");
    }
    if !(options.table_size.is_power_of_two() && (2..=1 << 24).contains(&options.table_size)) {
        args.fail("--table-size must be a power of two from 2 to 16777216");
    }
    options
}

fn main() -> ExitCode {
    let options = parse_options();
    let router =
        RcuMutex::new(Router { table: Rcu::new(RouteTable::generate(1, options.table_size)), reloads: 0 });
    let stop = AtomicBool::new(false);
    let lookups = AtomicU64::new(0);
    let start_stats = stats();
    print_introduction(&options, start_stats.barrier_mode);
    let started = Instant::now();

    let tally = thread::scope(|s| {
        let _stop_on_unwind = StopOnDrop(&stop);
        let readers: Vec<_> = (0..options.readers)
            .map(|id| {
                let (router, stop, lookups) = (&router, &stop, &lookups);
                let qsbr = options.qsbr;
                s.spawn(move || reader(id as u32, router, stop, lookups, qsbr))
            })
            .collect();
        s.spawn(|| updater(&router, &stop, &options));

        println!("   time   lookups  lookups/s   reloads  grace periods  tables freed  pending");
        let deadline = Duration::from_secs_f64(options.seconds);
        while started.elapsed() < deadline {
            thread::sleep(Duration::from_millis(500).min(deadline.saturating_sub(started.elapsed())));
            let now = stats();
            let elapsed = started.elapsed().as_secs_f64();
            let count = lookups.load(Ordering::Relaxed) as f64;
            println!(
                "  {elapsed:4.1}s  {:>7.1}M  {:>7.1}M/s  {:>8}  {:>13}  {:>12}  {:>7}",
                count / 1e6,
                count / 1e6 / elapsed,
                router.lock().reloads,
                now.grace_periods - start_stats.grace_periods,
                RECLAIMED.load(Ordering::Relaxed),
                now.callbacks_pending,
            );
        }
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().expect("reader panicked")).fold(Tally::default(), Tally::add)
    });

    let elapsed = started.elapsed().as_secs_f64();
    let reloads = router.lock().reloads;
    // Every retired table is queued on the callback worker; wait until all of them have run.
    rcu_barrier();
    let end = stats();
    let freed_after_grace_period = RECLAIMED.load(Ordering::Relaxed);
    let grace_periods = end.grace_periods - start_stats.grace_periods;
    drop(router); // the published table: `Rcu`'s drop waits for a grace period, then frees it
    let published = reloads + 1;
    let freed = RECLAIMED.load(Ordering::Relaxed);

    let ns_per_lookup = tally.cpu.as_secs_f64() * 1e9 / tally.lookups.max(1) as f64;
    println!("summary after {elapsed:.1}s:");
    println!(
        "  lookups:        {} ({:.1}M/s by all readers), no lock taken",
        thousands(tally.lookups),
        tally.lookups as f64 / elapsed / 1e6
    );
    println!(
        "  cost:           {ns_per_lookup:.1} ns of reader CPU time per lookup, {}",
        if options.qsbr {
            "no section to enter or leave\n                  (QSBR; compare without --qsbr)"
        } else {
            "read_lock() section included\n                  (compare with --qsbr)"
        }
    );
    println!(
        "  no route:       {} ({:.1}%; as built, 1 prefix in 16 has none)",
        thousands(tally.misses),
        100.0 * tally.misses as f64 / tally.lookups.max(1) as f64
    );
    println!("  stale reads:    {} (a table older than one the same reader had already seen)", tally.stale);
    println!(
        "  torn reads:     {} (a hop that does not match its table's version, or a freed table)",
        tally.torn
    );
    println!(
        "  tables:         {} published: {} replaced, of which {} freed after a grace period\n                  \
         ({} pending after rcu_barrier), and the last one, freed when the router was dropped",
        thousands(published),
        thousands(reloads),
        thousands(freed_after_grace_period),
        end.callbacks_pending
    );
    println!(
        "  grace periods:  {} for {} replaced tables ({:.1} per grace period: freed in batches)",
        thousands(grace_periods),
        thousands(reloads),
        reloads as f64 / grace_periods.max(1) as f64
    );

    let mut failures = Vec::new();
    if tally.stale + tally.torn > 0 {
        failures.push(format!("{} stale and {} torn reads", tally.stale, tally.torn));
    }
    if freed_after_grace_period != reloads {
        failures
            .push(format!("{freed_after_grace_period} of {reloads} replaced tables freed after rcu_barrier"));
    }
    if freed != published {
        failures.push(format!("{freed} tables freed, {published} published"));
    }
    if failures.is_empty() {
        println!(
            "verdict: OK: 0 stale and 0 torn reads in {:.1}M lock-free lookups during {} reloads; \
             all {} tables freed exactly once",
            tally.lookups as f64 / 1e6,
            thousands(reloads),
            thousands(published)
        );
        ExitCode::SUCCESS
    } else {
        println!("verdict: FAILED: {}", failures.join("; "));
        ExitCode::FAILURE
    }
}

/// What is being run and how to read the progress lines.
fn print_introduction(options: &Options, barrier_mode: rcu_runtime::config::BarrierMode) {
    println!("routing_table: lookups in a routing table that is replaced while it is being read");
    println!(
        "  readers:  {} threads look up random addresses, {}",
        options.readers,
        if options.qsbr {
            "as QsbrReaders: a plain load per lookup,\n            a quiescent state per 1024 lookups; no lock taken"
        } else {
            "each lookup in its own read_lock()\n            section; no lock taken"
        }
    );
    println!(
        "  updater:  1 thread builds a new table every {:?}, publishes it with Rcu::replace under the\n            \
         RcuMutex lock and retires the old one with drop_async (freed after a grace period)",
        options.reload_every
    );
    println!(
        "  table:    {} slots, one per /{} prefix, each a next hop or \"no route\" (1 in 16)",
        options.table_size,
        options.table_size.trailing_zeros()
    );
    println!(
        "  checks:   every hop against its table's version (torn read), versions never go back (stale read)"
    );
    println!("  barriers: {}", describe_barriers(barrier_mode));
    println!("  options:  --help (run length, readers, reload interval, table size, --qsbr)");
    println!(
        "every 0.5s: lookups so far by all readers (millions) and per second; reloads (tables published);"
    );
    println!("grace periods completed: fewer than reloads, because retired tables are freed in batches, one");
    println!(
        "grace period per batch; tables freed so far; pending: retired tables waiting for their grace period."
    );
}

/// What the readers did.
#[derive(Default)]
struct Tally {
    lookups: u64,
    misses: u64,
    stale: u64,
    torn: u64,
    /// CPU time the reader threads used.
    cpu: Duration,
}

impl Tally {
    fn add(self, other: Self) -> Self {
        Self {
            lookups: self.lookups + other.lookups,
            misses: self.misses + other.misses,
            stale: self.stale + other.stale,
            torn: self.torn + other.torn,
            cpu: self.cpu + other.cpu,
        }
    }
}

/// Looks up addresses until told to stop, in a read-side section per lookup or, with `qsbr`, as
/// a QSBR reader with a quiescent state per `BATCH` lookups.
fn reader(id: u32, router: &RcuMutex<Router>, stop: &AtomicBool, lookups: &AtomicU64, qsbr: bool) -> Tally {
    let cpu_at_start = thread_cpu_time();
    let mut qsbr = qsbr.then(QsbrReader::register);
    let mut seen = Seen { addr: id.wrapping_mul(0x9e37_79b9), last_version: 0, tally: Tally::default() };
    while !stop.load(Ordering::Relaxed) {
        match &mut qsbr {
            Some(qsbr) => {
                for _ in 0..BATCH {
                    seen.look_up(router, qsbr.guard());
                }
                qsbr.quiescent_state(); // no table reference survives the batch
            }
            None => {
                for _ in 0..BATCH {
                    seen.look_up(router, &read_lock());
                }
            }
        }
        lookups.fetch_add(BATCH, Ordering::Relaxed);
    }
    drop(qsbr);
    seen.tally.cpu = thread_cpu_time().saturating_sub(cpu_at_start);
    seen.tally
}

/// One reader's state: its address generator, the newest table version it saw, its counts.
struct Seen {
    addr: u32,
    last_version: u64,
    tally: Tally,
}

impl Seen {
    /// Looks the next address up in the current table and checks what it found.
    fn look_up(&mut self, router: &RcuMutex<Router>, guard: &Guard) {
        self.addr = self.addr.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let table = router.rcu().table().dereference(guard).expect("the table is always published");
        let version = table.version;
        let (slot, hop) = table.lookup(self.addr);
        self.tally.stale += u64::from(version < self.last_version);
        self.tally.torn += u64::from(version == POISON || hop != expected_hop(version, slot));
        self.tally.misses += u64::from(hop == NO_ROUTE);
        self.tally.lookups += 1;
        self.last_version = version;
    }
}

/// Publishes a new table version at the configured rate; frees old ones without waiting.
fn updater(router: &RcuMutex<Router>, stop: &AtomicBool, options: &Options) {
    let mut version = 1;
    while !stop.load(Ordering::Relaxed) {
        version += 1;
        let table = RouteTable::generate(version, options.table_size);
        let mut guard = router.lock();
        let fields = guard.project();
        *fields.reloads += 1;
        if let Some(old) = fields.table.replace(table) {
            old.drop_async(); // call_rcu through the table's own head: no allocation, no waiting
        }
        drop(guard);
        thread::sleep(options.reload_every);
    }
}

/// CPU time the calling thread has used so far.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable `timespec` for the call to fill in.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}
