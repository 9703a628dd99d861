//! A configuration reloaded under live async traffic: tokio tasks serve requests from a
//! `static CONFIG: RcuCell<Arc<Config>>`, and an updater task replaces it now and then.
//!
//! What it shows:
//! - a request takes an owned snapshot of the configuration (`dereference(&guard)?.to_arc()`,
//!   one reference-count increment, arc-swap's `load_full`) and keeps it across its `.await`s:
//!   the whole request sees one version even if a reload happens meanwhile. (A `Guard` cannot be
//!   held across an `.await` in a spawned task: it is not `Send`, so the compiler refuses.)
//! - a quick check that needs no snapshot reads through `CONFIG.read()` (a borrow with its own
//!   guard, no reference count), between two `.await`s;
//! - the updater publishes each new version with `replace` and gets the old `Arc` back with
//!   `RcuOld::wait_async().await`: the task sleeps until the grace period ends, woken by the RCU
//!   engine, without blocking a worker thread (a heartbeat task measures that);
//! - once the grace period has elapsed no reader *borrows* the old version, but requests that
//!   took a snapshot may still *own* it: the updater prints how many.
//!
//! ```text
//! cargo run --release -p examples --bin config_reload
//! cargo run --release -p examples --bin config_reload -- --seconds 5 --tasks 64 --reload-ms 100
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rcu_runtime::{RcuCell, read_lock, stats};

/// What the requests read: a version and the settings of that version.
struct Config {
    version: u64,
    /// How long a request of this version "works" (awaits) per step.
    step: Duration,
    /// `!version`: a request that saw a torn or freed configuration would see it differ.
    check: u64,
}

impl Config {
    fn new(version: u64) -> Self {
        Self { version, step: Duration::from_micros(200 + 100 * (version % 4)), check: !version }
    }

    fn assert_intact(&self) {
        assert_eq!(self.check, !self.version, "a request saw a torn or freed configuration");
    }
}

/// The configuration every task reads. `null()` is `const`, so it can be a `static`.
static CONFIG: RcuCell<Arc<Config>> = RcuCell::null();

/// Requests served, by the version they saw.
static SERVED: AtomicU64 = AtomicU64::new(0);
/// Requests during which a newer version was published (they kept theirs).
static RELOADED_UNDER: AtomicU64 = AtomicU64::new(0);

struct Options {
    seconds: f64,
    tasks: usize,
    reload_ms: u64,
}

const USAGE: &str = "usage: config_reload [--seconds S] [--tasks N] [--reload-ms M]
  --seconds S     how long the requests run (default 2)
  --tasks N       request tasks (default 32)
  --reload-ms M   time between two reloads (default 200)";

fn parse() -> Result<Option<Options>, String> {
    let mut options = Options { seconds: 2.0, tasks: 32, reload_ms: 200 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--seconds" => options.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--tasks" => options.tasks = value()?.parse().map_err(|e| format!("--tasks: {e}"))?,
            "--reload-ms" => options.reload_ms = value()?.parse().map_err(|e| format!("--reload-ms: {e}"))?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if options.tasks == 0 || options.reload_ms == 0 || options.seconds <= 0.0 {
        return Err("--seconds, --tasks and --reload-ms must be positive".to_owned());
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    let options = match parse() {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("config_reload: {error}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    println!("config_reload: a configuration reloaded under live async traffic");
    println!(
        "  requests: {} tokio tasks on 2 worker threads; each request takes an Arc snapshot of the",
        options.tasks
    );
    println!("            configuration (to_arc) and keeps it across its .awaits, so it sees one version");
    println!(
        "  updater:  a task publishes a new version every {} ms with RcuCell::replace, then awaits",
        options.reload_ms
    );
    println!("            RcuOld::wait_async: no worker thread blocks while the grace period runs");
    println!("  heartbeat: a task that wakes every 5 ms and records how late it woke\n");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("cannot start the tokio runtime");
    let report = runtime.block_on(run(&options));
    let ok = report.print();
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// What the run found.
struct Report {
    reloads: u64,
    served: u64,
    reloaded_under: u64,
    seen: BTreeMap<u64, u64>,
    grace_wait_us: Vec<f64>,
    still_owned: Vec<usize>,
    heartbeat_late_ms: f64,
    grace_periods: u64,
}

impl Report {
    fn print(&self) -> bool {
        let mean_wait = self.grace_wait_us.iter().sum::<f64>() / self.grace_wait_us.len().max(1) as f64;
        println!("\nsummary:");
        println!("  requests served:            {}", self.served);
        println!(
            "  versions seen by requests:  {} (v{}..v{}); each request saw exactly one",
            self.seen.len(),
            self.seen.keys().next().copied().unwrap_or(0),
            self.seen.keys().last().copied().unwrap_or(0)
        );
        println!("  requests that outlived a reload and kept their version: {}", self.reloaded_under);
        println!("  reloads: {}; grace periods completed meanwhile: {}", self.reloads, self.grace_periods);
        println!("  updater's wait_async per reload: {mean_wait:.0} µs on average (no thread blocked)");
        println!(
            "  an old version was still owned by up to {} requests after its grace period: RCU only \
             guarantees that nobody *borrows* it; an Arc snapshot keeps it alive as long as needed",
            self.still_owned.iter().max().copied().unwrap_or(0)
        );
        println!(
            "  heartbeat woke at most {:.1} ms late (timer granularity and other load on the machine; \
             the updater never blocked a worker: it awaited)",
            self.heartbeat_late_ms
        );
        let ok = self.served > 0 && self.reloads > 0 && self.seen.len() as u64 >= self.reloads.min(2);
        println!(
            "\nverdict: {}",
            if ok {
                "OK: every request saw one intact version from start to end, and every reload awaited its grace period"
            } else {
                "FAILED: no requests or no reloads were made"
            }
        );
        ok
    }
}

async fn run(options: &Options) -> Report {
    assert!(CONFIG.replace(Arc::new(Config::new(1))).is_none(), "the cell starts empty");
    let end = Instant::now() + Duration::from_secs_f64(options.seconds);
    let grace_periods_before = stats().grace_periods;

    let heartbeat = tokio::spawn(async move {
        let mut worst = Duration::ZERO;
        while Instant::now() < end {
            let asked = Instant::now();
            tokio::time::sleep(Duration::from_millis(5)).await;
            worst = worst.max(asked.elapsed().saturating_sub(Duration::from_millis(5)));
        }
        worst
    });

    let requests: Vec<_> = (0..options.tasks).map(|_| tokio::spawn(serve_until(end))).collect();

    let reload_every = Duration::from_millis(options.reload_ms);
    let updater = tokio::spawn(async move {
        let mut grace_wait_us = Vec::new();
        let mut still_owned = Vec::new();
        let mut version = 1;
        println!("   time  event");
        let started = Instant::now();
        while Instant::now() + reload_every < end {
            tokio::time::sleep(reload_every).await;
            version += 1;
            let old = CONFIG.replace(Arc::new(Config::new(version))).expect("always published");
            let asked = Instant::now();
            // The task sleeps here; the RCU engine wakes it when the grace period has elapsed.
            let old: Arc<Config> = old.wait_async().await;
            let waited = asked.elapsed();
            grace_wait_us.push(waited.as_secs_f64() * 1e6);
            // No reader borrows v(n-1) any more; requests may still own snapshots of it.
            let owners = Arc::strong_count(&old) - 1;
            still_owned.push(owners);
            println!(
                "  {:5.2}s  published v{version}; v{} retired after a grace period of {:>5.0} µs; \
                 {owners:>2} requests still hold an Arc of it",
                started.elapsed().as_secs_f64(),
                old.version,
                waited.as_secs_f64() * 1e6,
            );
        }
        (version - 1, grace_wait_us, still_owned)
    });

    let mut seen = BTreeMap::new();
    for request in requests {
        for (version, count) in request.await.expect("a request task panicked") {
            *seen.entry(version).or_insert(0) += count;
        }
    }
    let (reloads, grace_wait_us, still_owned) = updater.await.expect("the updater panicked");
    let heartbeat_late = heartbeat.await.expect("the heartbeat panicked");
    // The last version: retire it, and let the grace period pass without blocking.
    if let Some(last) = CONFIG.take() {
        drop(last.wait_async().await);
    }
    Report {
        reloads,
        served: SERVED.load(Ordering::Relaxed),
        reloaded_under: RELOADED_UNDER.load(Ordering::Relaxed),
        seen,
        grace_wait_us,
        still_owned,
        heartbeat_late_ms: heartbeat_late.as_secs_f64() * 1e3,
        grace_periods: stats().grace_periods - grace_periods_before,
    }
}

/// Serves requests until `end`; returns how many requests saw each version.
async fn serve_until(end: Instant) -> BTreeMap<u64, u64> {
    let mut seen = BTreeMap::new();
    while Instant::now() < end {
        // The snapshot: an owned Arc, taken under a guard that ends on this line.
        let config: Arc<Config> = CONFIG.dereference(&read_lock()).expect("always published").to_arc();
        for _ in 0..3 {
            tokio::time::sleep(config.step).await; // the snapshot crosses the .await
            config.assert_intact();
        }
        // A quick look without a snapshot: a borrow with its own guard, no reference count.
        let current = CONFIG.read().map(|c| c.version).expect("always published");
        if current != config.version {
            RELOADED_UNDER.fetch_add(1, Ordering::Relaxed);
        }
        SERVED.fetch_add(1, Ordering::Relaxed);
        *seen.entry(config.version).or_insert(0) += 1;
    }
    seen
}
