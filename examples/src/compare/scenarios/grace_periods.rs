//! Scenario 4: how long `synchronize_rcu` takes.
//!
//! Two cases per system: no reader inside a critical section (the calling thread is a registered
//! reader, idle, so the grace period does its full work), and one reader thread running short
//! critical sections back to back; each with one caller and with two threads calling
//! `synchronize_rcu` in a loop at the same time (concurrent callers should share grace periods).
//! Each repetition times every call and keeps the median call. Callers run on CPU 0 and the
//! reader on CPU 1, so that the reader is always running when a grace period starts.

use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use super::{median_us, ratio_of};
use crate::compare::machine::pin_current_thread;
use crate::compare::options::Options;
use crate::compare::peers::ours::OursRcu;
use crate::compare::peers::{GracePeriodPeer, on_thread};
use crate::compare::report::{self, Check, Panel, Section, Table};
use crate::compare::sample::Samples;

/// The latencies of one system in the three cases.
#[derive(Default)]
struct Latencies {
    idle: Samples,
    busy: Samples,
    two_idle: Samples,
    two_busy: Samples,
}

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    #[cfg_attr(not(feature = "liburcu"), expect(unused_mut, reason = "liburcu joins with its feature only"))]
    let mut peers: Vec<Box<dyn GracePeriodPeer>> = vec![Box::new(OursRcu::new())];
    #[cfg(feature = "liburcu")]
    peers.push(Box::new(crate::compare::peers::Liburcu::new()));
    #[cfg(not(feature = "liburcu"))]
    section.skipped.push(crate::compare::peers::LIBURCU_SKIPPED.to_owned());

    let calls = options.sync_calls();
    let mut results: Vec<Latencies> = peers.iter().map(|_| Latencies::default()).collect();
    for round in 0..=options.reps {
        for (peer, result) in peers.iter().zip(&mut results) {
            let peer = peer.as_ref();
            let idle = median_us(&synchronize_calls(peer, 1, false, calls));
            let busy = median_us(&synchronize_calls(peer, 1, true, calls));
            let two_idle = median_us(&synchronize_calls(peer, 2, false, calls));
            let two_busy = median_us(&synchronize_calls(peer, 2, true, calls));
            // Round 0 is the warm-up.
            if round > 0 {
                result.idle.push(idle);
                result.busy.push(busy);
                result.two_idle.push(two_idle);
                result.two_busy.push(two_busy);
            }
        }
    }

    let mut table = Table::new(
        "4. synchronize_rcu latency",
        "Median time of one call. No reader: the caller is a registered, idle reader. Busy reader: \
         one thread runs short read-side sections back to back. 2 callers: two threads call it in \
         a loop at the same time; ratio = per-call time with two callers / with one.",
        &["system", "no reader", "2 callers", "ratio", "busy reader", "2 callers", "ratio"],
    );
    for (peer, result) in peers.iter().zip(&results) {
        table.row(vec![
            peer.name().to_owned(),
            report::us(&result.idle),
            report::us(&result.two_idle),
            report::ratio(ratio_of(result.two_idle.median(), result.idle.median())),
            report::us(&result.busy),
            report::us(&result.two_busy),
            report::ratio(ratio_of(result.two_busy.median(), result.busy.median())),
        ]);
    }
    section.tables.push(table);

    if let [ours, liburcu] = &results[..] {
        section.checks.push(Check::at_most(
            "synchronize_rcu, no reader: ours / liburcu memb",
            ratio_of(ours.idle.median(), liburcu.idle.median()),
            1.2,
            "×",
        ));
        section.checks.push(Check::at_most(
            "synchronize_rcu, busy reader: ours / liburcu memb",
            ratio_of(ours.busy.median(), liburcu.busy.median()),
            1.2,
            "×",
        ));
    }
    if let Some(ours) = results.first() {
        section.checks.push(Check::at_most(
            "synchronize_rcu, no reader: two concurrent callers / one, ours",
            ratio_of(ours.two_idle.median(), ours.idle.median()),
            1.5,
            "×",
        ));
        section.checks.push(Check::at_most(
            "synchronize_rcu, busy reader: two concurrent callers / one, ours",
            ratio_of(ours.two_busy.median(), ours.busy.median()),
            1.5,
            "×",
        ));
    }
    section.panels.push(Panel {
        title: "synchronize_rcu with a busy reader: µs per call (lower is better)".to_owned(),
        unit: "µs".to_owned(),
        bars: peers.iter().zip(&results).map(|(p, r)| (p.name().to_owned(), r.busy.median())).collect(),
    });
    section
}

/// Times `calls` calls of `synchronize` on each of `callers` threads, with or without a busy
/// reader thread; returns every call's duration.
fn synchronize_calls(
    peer: &dyn GracePeriodPeer,
    callers: usize,
    busy_reader: bool,
    calls: usize,
) -> Vec<Duration> {
    let stop = AtomicBool::new(false);
    let start = Barrier::new(callers + usize::from(busy_reader));
    thread::scope(|s| {
        let reader = busy_reader.then(|| {
            s.spawn(|| {
                // The reader runs on a CPU of its own, so it is really running when a grace
                // period starts (and membarrier has to interrupt it).
                pin_current_thread(1);
                on_thread(peer, || {
                    start.wait();
                    peer.read_until(&stop)
                })
            })
        });
        let callers: Vec<_> = (0..callers)
            .map(|_| {
                s.spawn(|| {
                    pin_current_thread(0);
                    on_thread(peer, || {
                        start.wait();
                        (0..calls)
                            .map(|_| {
                                let began = Instant::now();
                                peer.synchronize();
                                began.elapsed()
                            })
                            .collect::<Vec<_>>()
                    })
                })
            })
            .collect();
        let times = callers.into_iter().flat_map(|c| c.join().expect("a caller thread panicked")).collect();
        // Relaxed: the flag carries no data.
        stop.store(true, Ordering::Relaxed);
        if let Some(reader) = reader {
            reader.join().expect("the reader thread panicked");
        }
        times
    })
}
