//! Scenario 3: the cost of a read while one updater replaces the payload continuously.
//!
//! For each system: one reader thread times its reads with nobody updating, while an updater
//! thread replaces the payload about a million times per second (in bursts once a millisecond,
//! sleeping between them), and while it replaces flat out; one of each per round. The reader runs
//! on CPU 0 and the updater on CPU 1; the systems' own reclaiming threads go where they may. Every replaced
//! payload is retired the system's asynchronous way (ours: `drop_async`; liburcu: `call_rcu`;
//! crossbeam: `defer_destroy`; arc-swap and `RwLock`: the last `Arc` reference frees it).

use core::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use super::{ratio_of, time_reads};
use crate::compare::machine::pin_current_thread;
use crate::compare::options::Options;
use crate::compare::pacing::{self, Rate};
use crate::compare::peers::arc_swap::ArcSwapPeer;
use crate::compare::peers::crossbeam::CrossbeamEpoch;
use crate::compare::peers::ours::OursMutex;
use crate::compare::peers::rwlock::RwLockPeer;
use crate::compare::peers::{UpdatePeer, on_thread};
use crate::compare::report::{self, Check, Panel, Section, Table};
use crate::compare::sample::Samples;

/// The steady update rate of the paced updater.
pub(crate) const STEADY_RATE: u64 = 1_000_000;

/// What the updater does while the reader is timed.
#[derive(Clone, Copy)]
enum Updates {
    None,
    Steady,
    FlatOut,
}

/// A peer's read cost under each kind of update load, and the rates the updater reached.
struct Outcome {
    idle: Samples,
    steady: Samples,
    flat_out: Samples,
    steady_rate: Option<Rate>,
    flat_out_rate: Option<Rate>,
}

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let mut table = Table::new(
        "3. Reads while one updater replaces the payload",
        "Cost of one read on a reader thread, idle, while an updater replaces the payload at about \
         1M/s (bursts every millisecond), and while it replaces flat out; × idle = slowdown.",
        &["system", "idle", "at ~1M updates/s", "× idle", "updater flat out", "× idle", "updates/s"],
    );
    let mut panel_bars = Vec::new();
    let mut run_peer = |peer: &dyn UpdatePeer, section: &mut Section| {
        let outcome = measure(peer, options);
        let idle = outcome.idle.median();
        let steady = ratio_of(outcome.steady.median(), idle);
        let flat = ratio_of(outcome.flat_out.median(), idle);
        let rates = format!(
            "{} / {}",
            outcome.steady_rate.map_or("–".into(), |r| format!("{:.2}M", r.per_second() / 1e6)),
            outcome.flat_out_rate.map_or("–".into(), |r| format!("{:.2}M", r.per_second() / 1e6)),
        );
        table.row(vec![
            peer.name().to_owned(),
            report::ns(&outcome.idle),
            report::ns(&outcome.steady),
            report::ratio(steady),
            report::ns(&outcome.flat_out),
            report::ratio(flat),
            rates,
        ]);
        panel_bars.push((peer.name().to_owned(), steady));
        if peer.name().starts_with("rcu-runtime") {
            section.checks.push(Check::at_most(
                "reads under ~1M updates/s / idle reads, ours",
                steady,
                2.0,
                "×",
            ));
        }
    };
    run_peer(&OursMutex::new(), &mut section);
    #[cfg(feature = "liburcu")]
    run_peer(&crate::compare::peers::Liburcu::new(), &mut section);
    #[cfg(not(feature = "liburcu"))]
    section.skipped.push(crate::compare::peers::LIBURCU_SKIPPED.to_owned());
    run_peer(&CrossbeamEpoch::new(), &mut section);
    run_peer(&ArcSwapPeer::new(), &mut section);
    run_peer(&RwLockPeer::new(), &mut section);
    section.tables.push(table);
    section.panels.push(Panel {
        title: "Reads while ~1M updates/s: slowdown against idle reads (lower is better)".to_owned(),
        unit: "× idle".to_owned(),
        bars: panel_bars,
    });
    section
}

fn measure(peer: &dyn UpdatePeer, options: &Options) -> Outcome {
    let mut outcome = Outcome {
        idle: Samples::default(),
        steady: Samples::default(),
        flat_out: Samples::default(),
        steady_rate: None,
        flat_out_rate: None,
    };
    // One reader thread for the whole measurement; each round times it once per kind of load,
    // back to back, so that background load on the machine hits the three alike.
    thread::scope(|s| {
        s.spawn(|| {
            pin_current_thread(0);
            on_thread(peer, || {
                for round in 0..=options.reps {
                    let (idle, _) = reads_while(peer, Updates::None, options);
                    let (steady, steady_rate) = reads_while(peer, Updates::Steady, options);
                    let (flat_out, flat_out_rate) = reads_while(peer, Updates::FlatOut, options);
                    // Round 0 is the warm-up.
                    if round > 0 {
                        outcome.idle.push(idle);
                        outcome.steady.push(steady);
                        outcome.flat_out.push(flat_out);
                        outcome.steady_rate = add(outcome.steady_rate, steady_rate);
                        outcome.flat_out_rate = add(outcome.flat_out_rate, flat_out_rate);
                    }
                }
                peer.drain();
            });
        });
    });
    outcome
}

/// The updates and time of two runs together.
fn add(total: Option<Rate>, more: Option<Rate>) -> Option<Rate> {
    match (total, more) {
        (Some(a), Some(b)) => Some(Rate { updates: a.updates + b.updates, elapsed: a.elapsed + b.elapsed }),
        (a, b) => a.or(b),
    }
}

/// On the calling reader thread (entered into `peer`), times reads once while an updater thread
/// does `updates`; returns the cost of a read and the updater's rate.
fn reads_while(peer: &dyn UpdatePeer, updates: Updates, options: &Options) -> (f64, Option<Rate>) {
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        let updater = match updates {
            Updates::None => None,
            Updates::Steady => {
                Some(s.spawn(|| on_thread(peer, || pacing::paced(STEADY_RATE, &stop, |i| peer.update(i)))))
            }
            Updates::FlatOut => {
                Some(s.spawn(|| on_thread(peer, || pacing::flat_out(&stop, |i| peer.update(i)))))
            }
        };
        // Let the updater reach its pace (and the reader its caches) before timing.
        time_reads(peer, options.read_rep() / 4);
        let ns = time_reads(peer, options.read_rep());
        // Relaxed: the flag carries no data; `join` orders the result.
        stop.store(true, Ordering::Relaxed);
        let rate = updater.map(|u| u.join().expect("the updater thread panicked"));
        (ns, rate)
    })
}
