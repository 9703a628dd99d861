//! The main demo: a routing table that reader threads query continuously while an updater
//! hot-reloads it.
//!
//! What it shows: readers look routes up through `RcuMutex::rcu()` without ever taking a lock;
//! the updater takes the lock, publishes a new table with `Rcu::replace` and frees the old one
//! asynchronously with `drop_async` (through the table's `#[rcu_head]`, no allocation). Every
//! reader checks that each table it sees is internally consistent and never older than the last
//! one it saw, so a torn or reclaimed table would be caught. At the end: reads per second,
//! reloads, grace periods and reclaimed tables.
//!
//! With `--qsbr`, the readers are `QsbrReader`s instead: no section per lookup, a quiescent
//! state after every 1024 lookups.
//!
//! ```text
//! cargo run --release -p examples --bin routing_table -- [--seconds N] [--readers N] [--reload-us N] [--qsbr]
//! ```

#[path = "../cli.rs"]
mod cli;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use std::pin::Pin;

use cli::Args;
use rcu_runtime::{
    Guard, PinnedDrop, QsbrReader, Rcu, RcuHead, RcuMutex, RcuProtected, rcu_barrier, read_lock, stats,
};

/// Tables freed so far (by the callback worker).
static RECLAIMED: AtomicU64 = AtomicU64::new(0);

/// One version of the routing table: prefix -> next hop, for /8, /16 and /24 prefixes.
#[derive(RcuProtected)]
#[rcu_protected(PinnedDrop)]
struct RouteTable {
    version: u64,
    routes: HashMap<(u32, u8), u32>,
    /// Every next hop of this version is `version * 1000 + (prefix % 1000)`: readers check it.
    #[rcu_head]
    head: RcuHead,
}

impl RouteTable {
    fn generate(version: u64, size: u32) -> Box<Self> {
        let mut routes = HashMap::with_capacity(size as usize);
        for i in 0..size {
            let len = [8_u8, 16, 24][(i % 3) as usize];
            let prefix = i.wrapping_mul(2_654_435_761) & mask(len);
            routes.insert((prefix, len), next_hop(version, prefix));
        }
        Box::new(Self { version, routes, head: RcuHead::new() })
    }

    /// Longest-prefix match over the three prefix lengths.
    fn lookup(&self, addr: u32) -> Option<(u32, u32)> {
        [24_u8, 16, 8].iter().find_map(|&len| {
            let prefix = addr & mask(len);
            self.routes.get(&(prefix, len)).map(|&hop| (prefix, hop))
        })
    }
}

// The derive proves structural pinning, so a plain `Drop` impl is rejected; `PinnedDrop` is the
// pinned equivalent.
impl PinnedDrop for RouteTable {
    fn drop(self: Pin<&mut Self>) {
        RECLAIMED.fetch_add(1, Ordering::Relaxed);
    }
}

fn mask(len: u8) -> u32 {
    u32::MAX << (32 - u32::from(len))
}

fn next_hop(version: u64, prefix: u32) -> u32 {
    (version as u32).wrapping_mul(1000).wrapping_add(prefix % 1000)
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
    let mut args = Args::new(
        "usage: routing_table [--seconds N] [--readers N] [--reload-us N] [--table-size N] [--qsbr]",
    );
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
    options
}

fn main() {
    let options = parse_options();
    let router =
        RcuMutex::new(Router { table: Rcu::new(RouteTable::generate(1, options.table_size)), reloads: 0 });
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let start_stats = stats();
    println!(
        "routing table: {} {} readers, one updater reloading every {:?}, {} routes, {:?} barriers",
        options.readers,
        if options.qsbr { "QSBR" } else { "read_lock" },
        options.reload_every,
        options.table_size,
        start_stats.barrier_mode
    );
    let started = Instant::now();

    let (total_reads, hits) = thread::scope(|s| {
        let readers: Vec<_> = (0..options.readers)
            .map(|id| {
                let (router, stop, reads) = (&router, &stop, &reads);
                let qsbr = options.qsbr;
                s.spawn(move || reader(id as u32, router, stop, reads, qsbr))
            })
            .collect();
        s.spawn(|| updater(&router, &stop, &options));

        let deadline = Duration::from_secs_f64(options.seconds);
        while started.elapsed() < deadline {
            thread::sleep(Duration::from_millis(500).min(deadline.saturating_sub(started.elapsed())));
            let now = stats();
            let elapsed = started.elapsed().as_secs_f64();
            let count = reads.load(Ordering::Relaxed);
            println!(
                "  {elapsed:5.1}s  reads {:>7.1}M ({:>6.1}M/s)  reloads {:>7}  grace periods {:>6}  reclaimed {:>7}  pending {:>5}",
                count as f64 / 1e6,
                count as f64 / 1e6 / elapsed,
                router.lock().reloads,
                now.grace_periods - start_stats.grace_periods,
                RECLAIMED.load(Ordering::Relaxed),
                now.callbacks_pending,
            );
        }
        stop.store(true, Ordering::Relaxed);
        readers
            .into_iter()
            .map(|r| r.join().expect("reader panicked"))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });

    let elapsed = started.elapsed().as_secs_f64();
    let reloads = router.lock().reloads;
    rcu_barrier();
    let end = stats();
    println!("summary after {elapsed:.1}s:");
    println!(
        "  reads:          {total_reads} ({:.1}M/s, {hits} routes found), no lock taken",
        total_reads as f64 / elapsed / 1e6
    );
    println!("  reloads:        {reloads} ({:.0}/s)", reloads as f64 / elapsed);
    println!("  grace periods:  {}", end.grace_periods - start_stats.grace_periods);
    println!(
        "  reclaimed:      {} tables freed after their grace period, {} pending",
        RECLAIMED.load(Ordering::Relaxed),
        end.callbacks_pending
    );
    println!("  consistency:    every table every reader saw was whole and never went back in time");
}

/// Looks up addresses until told to stop, in a read-side section per lookup or, with `qsbr`, as
/// a QSBR reader with a quiescent state per 1024 lookups. Returns (lookups, hits).
fn reader(
    id: u32,
    router: &RcuMutex<Router>,
    stop: &AtomicBool,
    reads: &AtomicU64,
    qsbr: bool,
) -> (u64, u64) {
    let mut qsbr = qsbr.then(QsbrReader::register);
    let mut seen = Seen { id, addr: id.wrapping_mul(0x9e37_79b9), lookups: 0, hits: 0, last_version: 0 };
    while !stop.load(Ordering::Relaxed) {
        match &mut qsbr {
            Some(qsbr) => {
                for _ in 0..1024 {
                    seen.look_up(router, qsbr.guard());
                }
                qsbr.quiescent_state(); // no table reference survives the batch
            }
            None => {
                for _ in 0..1024 {
                    seen.look_up(router, &read_lock());
                }
            }
        }
        reads.fetch_add(1024, Ordering::Relaxed);
    }
    (seen.lookups, seen.hits)
}

/// One reader's lookups so far, and the newest table version it saw.
struct Seen {
    id: u32,
    addr: u32,
    lookups: u64,
    hits: u64,
    last_version: u64,
}

impl Seen {
    /// Looks the next address up in the current table; checks the table.
    fn look_up(&mut self, router: &RcuMutex<Router>, guard: &Guard) {
        let id = self.id;
        self.addr = self.addr.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let table = router.rcu().table().dereference(guard).expect("the table is always published");
        assert!(table.version >= self.last_version, "reader {id} went back in time");
        self.last_version = table.version;
        if let Some((prefix, hop)) = table.lookup(self.addr) {
            assert_eq!(hop, next_hop(table.version, prefix), "torn table seen by reader {id}");
            self.hits += 1;
        }
        self.lookups += 1;
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
            old.drop_async();
        }
        drop(guard);
        thread::sleep(options.reload_every);
    }
}
