//! A DNS cache served lock-free to resolver threads: the everyday use of `RcuHashMap`.
//!
//! Resolver threads answer queries for host names from a shared cache: a hit is one lock-free
//! lookup; a miss "asks upstream" (a simulated round trip) and caches the answer with
//! `get_or_insert_with`, so two resolvers that miss the same name at once still agree on one
//! record. A maintenance thread refreshes records and evicts expired ones; the cache grows and
//! shrinks its table by itself as the number of names changes, while the resolvers go on.
//! Every answer a resolver gets is checked against its name, so a torn or freed record would
//! be caught.
//!
//! ```text
//! cargo run --release -p examples --bin dns_cache -- [--seconds N] [--resolvers N] [--names N]
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use examples::cli::Args;
use rcu_runtime::{RcuHashMap, rcu_barrier, read_lock, stats};

const USAGE: &str = "usage: dns_cache [--seconds N] [--resolvers N] [--names N]";

/// A cached answer.
struct Record {
    addr: [u8; 4],
    /// Which refresh produced it (0: resolved on a miss).
    generation: u64,
    expires: Instant,
}

/// What upstream answers for `name` in refresh `generation`: derived from both, so a reader can
/// check that a record belongs to the name it looked up.
fn answer(name: &str, generation: u64) -> [u8; 4] {
    let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ generation;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    [10, (h >> 8) as u8, (h >> 16) as u8, (h >> 24) as u8]
}

/// How long a record stays cached: 0.4 to 1.2 s, depending on the name.
fn ttl(name: &str) -> Duration {
    Duration::from_millis(400 + u64::from(answer(name, 0)[3]) * 800 / 255)
}

fn name(i: u64) -> String {
    format!("host-{i:05}.example.org")
}

struct Counters {
    lookups: AtomicU64,
    hits: AtomicU64,
    upstream: AtomicU64,
    refreshed: AtomicU64,
    evicted: AtomicU64,
}

fn main() {
    let mut args = Args::new(USAGE);
    let (mut seconds, mut resolvers, mut names) = (3.0_f64, 2_usize, 20_000_u64);
    while let Some(flag) = args.next_flag() {
        match flag.as_str() {
            "--seconds" => seconds = args.value(&flag),
            "--resolvers" => resolvers = args.value(&flag),
            "--names" => names = args.value(&flag),
            other => args.fail(&format!("unknown option {other}")),
        }
    }
    if names == 0 || resolvers == 0 {
        args.fail("--names and --resolvers must be at least 1");
    }
    println!(
        "DNS cache: {resolvers} resolver threads answer queries for {names} host names; a maintenance \
         thread refreshes and evicts records. Each line: the last half second."
    );
    println!(
        "{:>6}  {:>12}  {:>8}  {:>9}  {:>9}  {:>9}  {:>8}",
        "time", "queries/s", "hit rate", "cached", "buckets", "refreshed", "evicted"
    );

    let cache: RcuHashMap<String, Record> = RcuHashMap::new();
    let counters = Counters {
        lookups: AtomicU64::new(0),
        hits: AtomicU64::new(0),
        upstream: AtomicU64::new(0),
        refreshed: AtomicU64::new(0),
        evicted: AtomicU64::new(0),
    };
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let grace_periods_before = stats().grace_periods;
    thread::scope(|s| {
        for resolver in 0..resolvers {
            let (cache, counters, stop) = (&cache, &counters, &stop);
            s.spawn(move || {
                let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ (resolver as u64 + 1);
                let names_in_use: Vec<String> = (0..names).map(name).collect();
                while !stop.load(Ordering::Relaxed) {
                    let guard = read_lock();
                    for _ in 0..256 {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        // Popular names are asked for more often: the square of a uniform draw.
                        let u = (rng >> 11) & 0xf_ffff;
                        let pick = (((u * u) >> 20) * names) >> 20;
                        let host = &names_in_use[pick as usize];
                        let record = match cache.get(host.as_str(), &guard) {
                            Some(record) => {
                                counters.hits.fetch_add(1, Ordering::Relaxed);
                                record
                            }
                            None => cache.get_or_insert_with(
                                host.clone(),
                                || {
                                    counters.upstream.fetch_add(1, Ordering::Relaxed);
                                    Record {
                                        addr: answer(host, 0),
                                        generation: 0,
                                        expires: Instant::now() + ttl(host),
                                    }
                                },
                                &guard,
                            ),
                        };
                        assert_eq!(
                            record.addr,
                            answer(host, record.generation),
                            "a record for the wrong name"
                        );
                    }
                    counters.lookups.fetch_add(256, Ordering::Relaxed);
                }
            });
        }
        {
            let (cache, counters, stop) = (&cache, &counters, &stop);
            s.spawn(move || {
                let mut generation = 0;
                let mut expired = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    generation += 1;
                    let now = Instant::now();
                    let guard = read_lock();
                    expired.clear();
                    let mut refresh = Vec::new();
                    for (host, record) in cache.iter(&guard) {
                        if record.expires <= now {
                            expired.push(host.clone());
                        } else if generation % 5 == 0 && host.as_bytes()[9] % 3 == 0 {
                            refresh.push(host.clone());
                        }
                    }
                    drop(guard);
                    for host in &expired {
                        cache.remove(host.as_str());
                    }
                    for host in refresh {
                        let record =
                            Record { addr: answer(&host, generation), generation, expires: now + ttl(&host) };
                        cache.insert(host, record);
                        counters.refreshed.fetch_add(1, Ordering::Relaxed);
                    }
                    counters.evicted.fetch_add(expired.len() as u64, Ordering::Relaxed);
                    thread::sleep(Duration::from_millis(20));
                }
            });
        }
        let mut last = (0, 0, 0, 0, 0);
        let mut tick = started;
        while started.elapsed().as_secs_f64() < seconds {
            tick += Duration::from_millis(500);
            thread::sleep(tick.saturating_duration_since(Instant::now()));
            let now = (
                counters.lookups.load(Ordering::Relaxed),
                counters.hits.load(Ordering::Relaxed),
                counters.upstream.load(Ordering::Relaxed),
                counters.refreshed.load(Ordering::Relaxed),
                counters.evicted.load(Ordering::Relaxed),
            );
            let lookups = now.0 - last.0;
            let hit_rate = 100.0 * (now.1 - last.1) as f64 / lookups.max(1) as f64;
            println!(
                "{:>5.1}s  {:>12.0}  {:>7.1}%  {:>9}  {:>9}  {:>9}  {:>8}",
                started.elapsed().as_secs_f64(),
                lookups as f64 * 2.0,
                hit_rate,
                cache.len(),
                cache.buckets(),
                now.3 - last.3,
                now.4 - last.4
            );
            last = now;
        }
        stop.store(true, Ordering::Relaxed);
    });
    rcu_barrier();
    let total = counters.lookups.load(Ordering::Relaxed);
    println!(
        "\n{total} queries answered without a lock ({} from the cache, {} asked upstream); every answer \
         matched its name.",
        counters.hits.load(Ordering::Relaxed),
        counters.upstream.load(Ordering::Relaxed)
    );
    println!(
        "Evicted and replaced records were freed after grace periods ({} grace periods ran), without \
         the maintenance thread ever waiting for the resolvers.",
        stats().grace_periods - grace_periods_before
    );
}
