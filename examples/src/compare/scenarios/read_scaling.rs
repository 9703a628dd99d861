//! Scenario 2: read throughput with one and with two reader threads.
//!
//! Each reader thread reads in a loop for a fixed time; the throughput is the sum over threads of
//! reads per second, each thread timing itself from a common start; reader i runs on CPU i. Scaling is the median over
//! rounds of (two-thread throughput / one-thread throughput) measured back to back.

use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use crate::compare::machine::pin_current_thread;
use crate::compare::options::Options;
use crate::compare::peers::arc_swap::ArcSwapPeer;
use crate::compare::peers::crossbeam::CrossbeamEpoch;
use crate::compare::peers::ours::OursRcu;
use crate::compare::peers::ours_qsbr::OursQsbr;
use crate::compare::peers::plain::PlainAtomic;
use crate::compare::peers::rwlock::RwLockPeer;
use crate::compare::peers::{ReadPeer, on_thread};
use crate::compare::report::{self, Check, Panel, Section, Table};
use crate::compare::sample::Samples;

const OURS: &str = "rcu-runtime Rcu";

/// One and two threads' throughput, and their ratio, for one peer.
#[derive(Default)]
struct Scaling {
    one: Samples,
    two: Samples,
    ratio: Samples,
}

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let mut peers: Vec<Box<dyn ReadPeer>> =
        vec![Box::new(PlainAtomic::new()), Box::new(OursRcu::new()), Box::new(OursQsbr::new())];
    #[cfg(feature = "liburcu")]
    {
        peers.push(Box::new(crate::compare::peers::Liburcu::new()));
        peers.push(Box::new(crate::compare::peers::LiburcuQsbr::new()));
    }
    #[cfg(not(feature = "liburcu"))]
    section.skipped.extend(
        [crate::compare::peers::LIBURCU_SKIPPED, crate::compare::peers::LIBURCU_QSBR_SKIPPED]
            .map(str::to_owned),
    );
    peers.push(Box::new(CrossbeamEpoch::new()));
    peers.push(Box::new(ArcSwapPeer::new()));
    peers.push(Box::new(RwLockPeer::new()));

    let mut results: Vec<Scaling> = peers.iter().map(|_| Scaling::default()).collect();
    for round in 0..=options.reps {
        for (peer, result) in peers.iter().zip(&mut results) {
            let one = throughput(peer.as_ref(), 1, options.throughput_rep());
            let two = throughput(peer.as_ref(), 2, options.throughput_rep());
            // Round 0 is the warm-up.
            if round > 0 {
                result.one.push(one / 1e6);
                result.two.push(two / 1e6);
                result.ratio.push(two / one);
            }
        }
    }

    let mut table = Table::new(
        "2. Read throughput, one and two reader threads",
        "Reads per second summed over the reader threads (each reads in a loop for a fixed time); \
         scaling = two threads / one thread, median over rounds.",
        &["system", "1 reader", "2 readers", "scaling"],
    );
    for (peer, result) in peers.iter().zip(&results) {
        table.row(vec![
            peer.name().to_owned(),
            report::mops(&result.one),
            report::mops(&result.two),
            report::ratio(result.ratio.median()),
        ]);
    }
    section.tables.push(table);
    if let Some((_, ours)) = peers.iter().zip(&results).find(|(p, _)| p.name() == OURS) {
        section.checks.push(Check::at_least(
            "two readers / one reader, ours",
            ours.ratio.median(),
            1.85,
            "×",
        ));
    }
    section.panels.push(Panel {
        title: "Read throughput with two reader threads: million reads per second (higher is better)"
            .to_owned(),
        unit: "M/s".to_owned(),
        bars: peers.iter().zip(&results).map(|(p, r)| (p.name().to_owned(), r.two.median())).collect(),
    });
    section
}

/// Reads per second with `threads` readers reading for `duration`.
fn throughput(peer: &dyn ReadPeer, threads: usize, duration: Duration) -> f64 {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(threads + 1);
    thread::scope(|s| {
        let readers: Vec<_> = (0..threads)
            .map(|cpu| {
                let (stop, start) = (&stop, &start);
                s.spawn(move || {
                    // One reader per CPU, as a deployment that wants read scaling would place them.
                    pin_current_thread(cpu);
                    on_thread(peer, || {
                        // Warm the thread's registration and caches before the common start.
                        core::hint::black_box(peer.read_n(1024));
                        start.wait();
                        let began = Instant::now();
                        let reads = peer.read_until(stop);
                        reads as f64 / began.elapsed().as_secs_f64()
                    })
                })
            })
            .collect();
        start.wait();
        thread::sleep(duration);
        // Relaxed: the flag carries no data; `join` orders the results.
        stop.store(true, Ordering::Relaxed);
        readers.into_iter().map(|r| r.join().expect("a reader thread panicked")).sum()
    })
}
