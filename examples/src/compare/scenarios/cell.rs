//! Scenario 7: `RcuCell` against arc-swap, on arc-swap's job (one `Arc` read everywhere, replaced
//! now and then by any thread).
//!
//! - Reads, one thread: `dereference` under a guard, the `read()` snapshot, and `dereference` +
//!   `to_arc` (an owned `Arc`), against arc-swap's `load()` and `load_full()`.
//! - Replace + asynchronous free, one updater, flat out: `replace` + `drop_async` (a boxed
//!   payload, freed through its `RcuHead`) and `replace` + `defer_drop` (an `Arc`), against
//!   `ArcSwap::store` (which frees the old `Arc` at once when no reader holds it). Throughput
//!   includes the wait until everything retired is freed.
//! - `copy_update` from two writer threads at once (each update reads the current value and
//!   publishes value + 1; the loser of a race runs again), against arc-swap's `rcu`.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use rcu_runtime::{RcuCell, rcu_barrier, read_lock};

use super::{ratio_of, sample_reads_in_rounds};
use crate::compare::options::Options;
use crate::compare::payload::Payload;
use crate::compare::peers::ReadPeer;
use crate::compare::peers::arc_swap::ArcSwapPeer;
use crate::compare::peers::cell::{ArcSwapFull, CellRead, OursCell};
use crate::compare::report::{self, Check, Panel, Section, Table};
use crate::compare::sample::Samples;

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    reads(options, &mut section);
    updates(options, &mut section);
    section
}

fn reads(options: &Options, section: &mut Section) {
    let peers: Vec<Box<dyn ReadPeer>> = vec![
        Box::new(OursCell::new(CellRead::Dereference)),
        Box::new(OursCell::new(CellRead::Snapshot)),
        Box::new(ArcSwapPeer::new()),
        Box::new(OursCell::new(CellRead::ToArc)),
        Box::new(ArcSwapFull::new()),
    ];
    let samples = sample_reads_in_rounds(options, &peers);
    let median = |name: &str| {
        peers.iter().zip(&samples).find(|(p, _)| p.name() == name).map_or(f64::NAN, |(_, s)| s.median())
    };
    let load = median("arc-swap load");
    let mut table = Table::new(
        "9a. RcuCell against arc-swap: reads, one thread",
        "Per read of an Arc<Payload>: RcuCell dereference = read_lock + dereference + read a field + \
         drop the guard; read() = the same through a snapshot that carries its guard; to_arc = an \
         owned Arc from the borrow (one reference-count increment and decrement), as load_full.",
        &["system", "per read", "× arc-swap load"],
    );
    for (peer, samples) in peers.iter().zip(&samples) {
        table.row(vec![
            peer.name().to_owned(),
            report::ns(samples),
            report::ratio(ratio_of(samples.median(), load)),
        ]);
    }
    section.tables.push(table);
    section.checks.push(Check::at_least(
        "RcuCell read: arc-swap load / RcuCell dereference",
        ratio_of(load, median("RcuCell dereference")),
        8.0,
        "×",
    ));
    section.checks.push(Check::at_least(
        "RcuCell read() snapshot: arc-swap load / read()",
        ratio_of(load, median("RcuCell read()")),
        5.0,
        "×",
    ));
    section.checks.push(Check::at_most(
        "owned Arc snapshot: RcuCell to_arc / arc-swap load_full",
        ratio_of(median("RcuCell dereference + to_arc"), median("arc-swap load_full")),
        1.0,
        "×",
    ));
    section.panels.push(Panel {
        title: "RcuCell against arc-swap: ns per read (lower is better)".to_owned(),
        unit: "ns".to_owned(),
        bars: peers.iter().zip(&samples).map(|(p, s)| (p.name().to_owned(), s.median())).collect(),
    });
}

/// One way of updating, timed for `n` updates; returns the time including the drain.
struct Case {
    name: &'static str,
    run: fn(u64) -> Duration,
}

const DROP_ASYNC: &str = "RcuCell<Box> replace + drop_async";
const STORE: &str = "arc-swap store";
const COPY_UPDATE: &str = "RcuCell copy_update + drop_async, 2 writers";
const RCU: &str = "arc-swap rcu, 2 writers";

fn updates(options: &Options, section: &mut Section) {
    let cases = [
        Case { name: DROP_ASYNC, run: ours_replace_drop_async },
        Case { name: "RcuCell<Arc> replace + defer_drop", run: ours_replace_defer_drop },
        Case { name: STORE, run: arc_swap_store },
        Case { name: COPY_UPDATE, run: ours_copy_update_two_writers },
        Case { name: RCU, run: arc_swap_rcu_two_writers },
    ];
    let n = options.async_updates();
    let mut throughput: Vec<Samples> = cases.iter().map(|_| Samples::default()).collect();
    for round in 0..=options.reps {
        for (case, samples) in cases.iter().zip(&mut throughput) {
            let total = (case.run)(n);
            if round > 0 {
                samples.push(n as f64 / total.as_secs_f64() / 1e6);
            }
        }
    }
    let median = |name: &str| {
        cases.iter().zip(&throughput).find(|(c, _)| c.name == name).map_or(f64::NAN, |(_, s)| s.median())
    };
    let mut table = Table::new(
        "9b. RcuCell against arc-swap: updates",
        &format!(
            "{n} updates per repetition, no readers. One updater: replace and retire without waiting, \
             then wait until all is freed (arc-swap's store frees at once). Two writers: {n} updates \
             in all, each publishing the current value + 1 (a lost race runs the closure again)."
        ),
        &["system", "throughput", "× arc-swap"],
    );
    for (case, samples) in cases.iter().zip(&throughput) {
        let peer = if case.name.contains("2 writers") { median(RCU) } else { median(STORE) };
        table.row(vec![
            case.name.to_owned(),
            report::mops(samples),
            report::ratio(ratio_of(samples.median(), peer)),
        ]);
    }
    section.tables.push(table);
    section.checks.push(Check::at_least(
        "RcuCell replace + async free / arc-swap store, throughput",
        ratio_of(median(DROP_ASYNC), median(STORE)),
        1.0,
        "×",
    ));
    section.checks.push(Check::at_least(
        "RcuCell copy_update / arc-swap rcu, two writers, throughput (no target in the design; reported)",
        ratio_of(median(COPY_UPDATE), median(RCU)),
        0.0,
        "×",
    ));
}

fn ours_replace_drop_async(n: u64) -> Duration {
    thread::scope(|s| {
        s.spawn(|| {
            drop(read_lock());
            let cell = RcuCell::new(Payload::boxed(0));
            let start = Instant::now();
            for i in 1..=n {
                if let Some(old) = cell.replace(Payload::boxed(i)) {
                    old.drop_async();
                }
            }
            rcu_barrier();
            let total = start.elapsed();
            if let Some(last) = cell.take() {
                last.drop_async();
            }
            total
        })
        .join()
        .expect("the updater panicked")
    })
}

fn ours_replace_defer_drop(n: u64) -> Duration {
    thread::scope(|s| {
        s.spawn(|| {
            drop(read_lock());
            let cell = RcuCell::new(Arc::new(Payload::new(0)));
            let start = Instant::now();
            for i in 1..=n {
                if let Some(old) = cell.replace(Arc::new(Payload::new(i))) {
                    old.defer_drop();
                }
            }
            rcu_barrier();
            let total = start.elapsed();
            if let Some(last) = cell.take() {
                last.defer_drop();
            }
            total
        })
        .join()
        .expect("the updater panicked")
    })
}

fn arc_swap_store(n: u64) -> Duration {
    thread::scope(|s| {
        s.spawn(|| {
            let current = ArcSwap::from_pointee(Payload::new(0));
            let start = Instant::now();
            for i in 1..=n {
                current.store(Arc::new(Payload::new(i)));
            }
            start.elapsed()
        })
        .join()
        .expect("the updater panicked")
    })
}

fn ours_copy_update_two_writers(n: u64) -> Duration {
    let cell = RcuCell::new(Payload::boxed(0));
    let start = Barrier::new(2);
    let began = Instant::now();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                drop(read_lock());
                start.wait();
                for _ in 0..n / 2 {
                    let old = cell.copy_update(|cur| Some(Payload::boxed(cur.map_or(0, |p| p.read()) + 1)));
                    if let Some(old) = old {
                        old.drop_async();
                    }
                }
            });
        }
    });
    rcu_barrier();
    let total = began.elapsed();
    assert_eq!(cell.read().map(|p| p.read()), Some(n / 2 * 2), "RcuCell lost an update");
    if let Some(last) = cell.take() {
        last.drop_async();
    }
    total
}

fn arc_swap_rcu_two_writers(n: u64) -> Duration {
    let current = ArcSwap::from_pointee(Payload::new(0));
    let start = Barrier::new(2);
    let began = Instant::now();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                start.wait();
                for _ in 0..n / 2 {
                    current.rcu(|cur| Arc::new(Payload::new(cur.read() + 1)));
                }
            });
        }
    });
    let total = began.elapsed();
    assert_eq!(current.load().read(), n / 2 * 2, "arc-swap lost an update");
    total
}
