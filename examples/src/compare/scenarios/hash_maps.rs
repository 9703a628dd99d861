//! Scenario 7: `RcuHashMap` against concurrent hash maps (papaya, dashmap, scc), the locked std
//! map (`RwLock`, `Mutex`) and the unsynchronized std `HashMap` floor, all with std's hasher.
//!
//! Workloads: `u64 → u64` and `String → small struct`, 1 k and 1 M keys (100 k with `--quick`),
//! 100 %, 99 % and 90 % lookups (the rest replace a value), 1 and 2 threads; then inserts and
//! removes alone; and the resident memory per entry of each map after it is filled. Every map is
//! filled once per workload and size; the operations pick keys uniformly at random, every key
//! is present. Each thread runs batches of 64 operations until a stop flag; readers that need a
//! guard (ours, papaya) take one per batch (a second row shows ours with a guard per lookup).
//! Systems are visited in turn in each round, and each figure is the median over the rounds.

mod peers;

use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use self::peers::{MapPeer, Strings, U64s, Workload};
use crate::compare::machine::{pin_current_thread, rss_bytes, trim_heap};
use crate::compare::options::Options;
use crate::compare::report::{Check, Panel, Section, Table};
use crate::compare::sample::Samples;

const OURS: &str = "rcu-runtime RcuHashMap";
const PEERS: [&str; 3] = ["papaya", "dashmap", "scc HashMap"];
const FLOOR: &str = "std HashMap, unsynchronized (floor)";

/// Lookup mixes: updates per thousand operations.
const MIXES: [(u64, &str); 3] = [(0, "100 %"), (10, "99 %"), (100, "90 %")];

/// The throughputs of one system in one workload and size: per mix and thread count.
#[derive(Default)]
struct Figures {
    /// `[mix][threads - 1]`: operations per second.
    ops: [[Samples; 2]; 3],
    /// Inserts + removes per second, with 1 and 2 threads.
    updates: [Samples; 2],
    bytes_per_entry: f64,
}

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let sizes: [u64; 2] = [1_000, if options.quick { 100_000 } else { 1_000_000 }];
    for size in sizes {
        measure::<U64s>(options, size, &mut section);
        measure::<Strings>(options, size, &mut section);
    }
    section
}

fn size_name(size: u64) -> String {
    if size >= 1_000_000 { format!("{} M", size / 1_000_000) } else { format!("{} k", size / 1_000) }
}

/// Fills every system with `size` keys of workload `W`, measures them and adds a table and the
/// target checks to `section`.
fn measure<W: Workload>(options: &Options, size: u64, section: &mut Section) {
    let keys: Vec<W::K> = (0..size).map(W::key).collect();
    let peers = peers::all::<W>();
    let mut figures: Vec<Figures> = peers.iter().map(|_| Figures::default()).collect();
    for (peer, figure) in peers.iter().zip(&mut figures) {
        figure.bytes_per_entry = fill(peer.as_ref(), size);
    }
    let rep = options.throughput_rep();
    for round in 0..=options.reps {
        for (m, &(permille, _)) in MIXES.iter().enumerate() {
            for threads in 1..=2 {
                for (peer, figure) in peers.iter().zip(&mut figures) {
                    if threads > 1 && permille > 0 && !peer.concurrent_updates() {
                        continue;
                    }
                    let ops = throughput(peer.as_ref(), &keys, threads, permille, rep);
                    // Round 0 is the warm-up.
                    if round > 0 {
                        figure.ops[m][threads - 1].push(ops);
                    }
                }
            }
        }
        if W::NAME == U64s::NAME {
            for threads in 1..=2 {
                for (peer, figure) in peers.iter().zip(&mut figures) {
                    if threads > 1 && !peer.concurrent_updates() {
                        continue;
                    }
                    let ops = update_throughput(peer.as_ref(), &keys, threads, rep);
                    if round > 0 {
                        figure.updates[threads - 1].push(ops);
                    }
                }
            }
        }
    }
    drop(peers);
    report::<W>(size, &figures, section);
}

/// Fills `peer` with keys `0..size` and returns the resident memory it took per entry.
fn fill<W: Workload>(peer: &dyn MapPeer<W>, size: u64) -> f64 {
    rcu_runtime::rcu_barrier();
    trim_heap();
    let before = rss_bytes();
    for i in 0..size {
        peer.insert(W::key(i), W::value(i));
    }
    rcu_runtime::rcu_barrier();
    let after = rss_bytes();
    after.saturating_sub(before) as f64 / size as f64
}

/// Operations per second of `threads` threads running the mix on `peer` for `duration`.
fn throughput<W: Workload>(
    peer: &dyn MapPeer<W>,
    keys: &[W::K],
    threads: usize,
    update_permille: u64,
    duration: Duration,
) -> f64 {
    run_threads(threads, duration, |thread, stop| {
        let mut rng = 0x2545_f491_4f6c_dd1d ^ (thread as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut batches = 0_u64;
        let mut sum = 0_u64;
        while !stop.load(Ordering::Relaxed) {
            sum = sum.wrapping_add(peer.batch(keys, &mut rng, update_permille));
            batches += 1;
        }
        core::hint::black_box(sum);
        batches * u64::from(peers::BATCH)
    })
}

/// Removes and re-inserts random keys: (removes + inserts) per second.
fn update_throughput<W: Workload>(
    peer: &dyn MapPeer<W>,
    keys: &[W::K],
    threads: usize,
    duration: Duration,
) -> f64 {
    run_threads(threads, duration, |thread, stop| {
        let mut rng = 0x9e37_79b9_7f4a_7c15 ^ (thread as u64 + 7);
        let mut updates = 0_u64;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..peers::BATCH {
                let index = (peers::next(&mut rng) >> 11) % keys.len() as u64;
                let key = &keys[index as usize];
                peer.remove(key);
                peer.insert(key.clone(), W::value(index));
                updates += 2;
            }
        }
        updates
    })
}

/// Runs `work(thread, stop)` on `threads` pinned threads from a common start for `duration`;
/// returns the sum over threads of work per second.
fn run_threads(threads: usize, duration: Duration, work: impl Fn(usize, &AtomicBool) -> u64 + Sync) -> f64 {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(threads + 1);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|cpu| {
                let (stop, start, work) = (&stop, &start, &work);
                s.spawn(move || {
                    pin_current_thread(cpu);
                    start.wait();
                    let began = Instant::now();
                    let done = work(cpu, stop);
                    done as f64 / began.elapsed().as_secs_f64()
                })
            })
            .collect();
        start.wait();
        thread::sleep(duration);
        // Relaxed: the flag carries no data; `join` orders the results.
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().expect("a map thread panicked")).sum()
    })
}

fn m(samples: &Samples) -> String {
    let median = samples.median();
    if median.is_nan() { "n/a".to_owned() } else { format!("{:.1}", median / 1e6) }
}

fn report<W: Workload>(size: u64, figures: &[Figures], section: &mut Section) {
    let names: Vec<&str> = peers::all::<W>().iter().map(|p| p.name()).collect();
    let title = format!("7. Hash maps, {}, {} keys", W::NAME, size_name(size));
    let mut header = vec!["system".to_owned(), "B/entry".to_owned()];
    for (_, mix) in MIXES {
        header.push(format!("{mix} reads, 1 thread"));
        header.push(format!("{mix} reads, 2 threads"));
    }
    if W::NAME == U64s::NAME {
        header.push("inserts+removes, 1 thread".to_owned());
        header.push("2 threads".to_owned());
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(
        &title,
        "Million operations per second summed over the threads (lookups, plus value replacements in \
         the 99 % and 90 % mixes; `n/a`: the floor cannot update from two threads); resident memory \
         per entry after filling the map; last columns: a remove and a re-insert of random keys.",
        &header,
    );
    for (name, figure) in names.iter().zip(figures) {
        let mut row = vec![(*name).to_owned(), format!("{:.0}", figure.bytes_per_entry)];
        for mix in &figure.ops {
            row.push(m(&mix[0]));
            row.push(m(&mix[1]));
        }
        if W::NAME == U64s::NAME {
            row.push(m(&figure.updates[0]));
            row.push(m(&figure.updates[1]));
        }
        table.row(row);
    }
    section.tables.push(table);

    let find = |name: &str| names.iter().position(|n| *n == name).map(|i| &figures[i]);
    let (Some(ours), Some(floor)) = (find(OURS), find(FLOOR)) else { return };
    let peers: Vec<&Figures> = PEERS.iter().filter_map(|p| find(p)).collect();
    let what = |detail: &str| format!("RcuHashMap, {}, {} keys: {detail}", W::NAME, size_name(size));
    for (m, (_, mix)) in MIXES.iter().enumerate().take(2) {
        for threads in 0..2 {
            let ours_ops = ours.ops[m][threads].median();
            // The floor cannot update from two threads: compare with its read-only throughput.
            let floor_ops =
                if m > 0 && threads == 1 { floor.ops[0][1].median() } else { floor.ops[m][threads].median() };
            section.checks.push(Check::at_most(
                &what(&format!("lookup cost / floor, {mix} reads, {} thread(s)", threads + 1)),
                floor_ops / ours_ops,
                1.2,
                "×",
            ));
            let best_peer = peers.iter().map(|p| p.ops[m][threads].median()).fold(0.0, f64::max);
            let limit = if size <= 1_000 { 1.3 } else { 1.0 };
            section.checks.push(Check::at_least(
                &what(&format!(
                    "throughput / fastest of papaya, dashmap, scc, {mix} reads, {} thread(s)",
                    threads + 1
                )),
                ours_ops / best_peer,
                limit,
                "×",
            ));
        }
    }
    if size <= 1_000
        && let Some(rwlock) = find("RwLock<HashMap>")
    {
        section.checks.push(Check::at_least(
            &what("throughput / RwLock<HashMap>, 100 % reads, 2 threads"),
            ours.ops[0][1].median() / rwlock.ops[0][1].median(),
            3.0,
            "×",
        ));
    }
    if W::NAME == U64s::NAME
        && let Some(dash) = find("dashmap")
    {
        for threads in 0..2 {
            section.checks.push(Check::at_least(
                &what(&format!("inserts+removes / dashmap, {} thread(s)", threads + 1)),
                ours.updates[threads].median() / dash.updates[threads].median(),
                0.7,
                "×",
            ));
        }
        if size >= 100_000 {
            section.checks.push(Check::at_most(
                &what("resident memory per entry / dashmap"),
                ours.bytes_per_entry / dash.bytes_per_entry,
                1.5,
                "×",
            ));
        }
    }
    section.panels.push(Panel {
        title: format!(
            "{}, {} keys, 100 % reads, 2 threads: million lookups per second",
            W::NAME,
            size_name(size)
        ),
        unit: "M/s".to_owned(),
        bars: names.iter().zip(figures).map(|(n, f)| ((*n).to_owned(), f.ops[0][1].median() / 1e6)).collect(),
    });
}
