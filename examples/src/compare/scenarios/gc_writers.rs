//! Scenario 8: grace periods spent by writers that update synchronously, as liburcu's
//! `test_urcu_gc` writers do (publish a new version, wait for a grace period, free the old one),
//! with one and two writer threads and one reader thread reading all along; and the cost of
//! retiring many values after one `synchronize_rcu`.
//!
//! Each writer loops on `cell.replace(new)` and drops the `RcuOld` at once (which waits until a
//! grace period has elapsed since the swap). The figure is grace periods per update, from
//! `rcu_runtime::stats().grace_periods`: 1.0 means one grace period per update; two writers share
//! grace periods (concurrent callers join one), and an old value whose grace period has already
//! elapsed (another writer's grace period covered it) costs none. liburcu's figure is not
//! counted: its public API exposes no grace-period counter.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{RcuCell, read_lock, stats, synchronize_rcu};

use crate::compare::options::Options;
use crate::compare::payload::Payload;
use crate::compare::report::{self, Check, Section, Table};
use crate::compare::sample::Samples;

/// How many values the "retire after one `synchronize_rcu`" case retires.
const RETIRED: usize = 1_000;

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let duration = options.throughput_rep();
    let mut per_update = [Samples::default(), Samples::default()];
    let mut rate = [Samples::default(), Samples::default()];
    for round in 0..=options.reps {
        for (writers, (per_update, rate)) in [1, 2].into_iter().zip(per_update.iter_mut().zip(&mut rate)) {
            let (updates, grace_periods) = writers_loop(writers, duration);
            if round > 0 {
                per_update.push(grace_periods as f64 / updates as f64);
                rate.push(updates as f64 / duration.as_secs_f64() / 1e6);
            }
        }
    }
    let batch = retire_after_one_synchronize();

    let mut table = Table::new(
        "10. Grace periods per synchronous update (liburcu's test_urcu_gc writers)",
        &format!(
            "Writers loop on RcuCell::replace and drop the old value at once (which waits), for {} ms, \
             with one reader thread reading all along. Grace periods per update from \
             rcu_runtime::stats(). liburcu: not counted (no grace-period counter in its API).",
            duration.as_millis()
        ),
        &["writers", "grace periods per update", "updates"],
    );
    for (writers, (per_update, rate)) in [1, 2].into_iter().zip(per_update.iter().zip(&rate)) {
        table.row(vec![
            writers.to_string(),
            format!("{} {}", report::sig3(per_update.median()), spread(per_update)),
            report::mops(rate),
        ]);
    }
    table.row(vec![
        format!("{RETIRED} olds dropped after one synchronize_rcu"),
        format!("{batch} in all"),
        "–".to_owned(),
    ]);
    section.tables.push(table);
    section.checks.push(Check::at_most(
        &format!("{RETIRED} RcuOld dropped after one synchronize_rcu: grace periods in all"),
        batch as f64,
        1.0,
        "",
    ));
    section
}

fn spread(samples: &Samples) -> String {
    format!("±{:.0}%", samples.spread() * 100.0)
}

/// Runs `writers` synchronous writers and one reader for `duration`; returns the updates made
/// and the grace periods completed meanwhile.
fn writers_loop(writers: usize, duration: Duration) -> (u64, u64) {
    let cell = RcuCell::new(Payload::boxed(0));
    let stop = AtomicBool::new(false);
    let updates = AtomicU64::new(0);
    let before = stats().grace_periods;
    thread::scope(|s| {
        s.spawn(|| {
            let mut sum = 0_u64;
            // Relaxed: the flag carries no data.
            while !stop.load(Ordering::Relaxed) {
                sum = sum.wrapping_add(cell.dereference(&read_lock()).map_or(0, |p| p.read()));
            }
            core::hint::black_box(sum);
        });
        for _ in 0..writers {
            s.spawn(|| {
                let mut mine = 0;
                let end = Instant::now() + duration;
                while Instant::now() < end {
                    drop(cell.replace(Payload::boxed(mine)));
                    mine += 1;
                }
                // Relaxed: read after the scope joins this thread.
                updates.fetch_add(mine, Ordering::Relaxed);
            });
        }
        // The writers stop by themselves; the reader a little after them.
        thread::sleep(duration + Duration::from_millis(5));
        stop.store(true, Ordering::Relaxed);
    });
    let grace_periods = stats().grace_periods - before;
    drop(cell.take());
    (updates.load(Ordering::Relaxed), grace_periods)
}

/// Retires `RETIRED` values, calls `synchronize_rcu` once and drops them all; returns the grace
/// periods the drops cost beyond that one (0 when each drop sees its grace period elapsed).
fn retire_after_one_synchronize() -> u64 {
    drop(read_lock());
    // No callback left over from an earlier scenario may drive a grace period meanwhile.
    rcu_runtime::rcu_barrier();
    let cells: Vec<RcuCell<Box<Payload>>> =
        (0..RETIRED).map(|i| RcuCell::new(Payload::boxed(i as u64))).collect();
    let olds: Vec<_> = cells.iter().filter_map(RcuCell::take).collect();
    let before = stats().grace_periods;
    synchronize_rcu();
    drop(olds);
    stats().grace_periods - before
}
