//! Scenario 5: replace + asynchronous free, flat out, on one updater thread with no readers.
//!
//! Each repetition replaces the payload N times, retiring each old payload without waiting, then
//! waits until every retired payload has been freed. Throughput = N / (loop + drain). The loop
//! alone, per update, is the enqueue cost (it includes ours' backpressure waits, which liburcu,
//! having no cap, never does). Ours and crossbeam own their pointer outright (a single updater
//! needs no lock); liburcu exchanges its C global; all three allocate the same 32-byte payload.

use core::pin::pin;
use core::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_epoch::{self as epoch, Atomic, Owned};
use rcu_runtime::{Rcu, rcu_barrier, read_lock};

use super::ratio_of;
use crate::compare::options::Options;
use crate::compare::payload::Payload;
use crate::compare::report::{self, Check, Panel, Section, Table};
use crate::compare::sample::Samples;

/// One way of replacing and retiring.
struct Case {
    name: &'static str,
    /// Does `n` replacements; returns the time of the loop and of loop + drain.
    run: fn(u64) -> (Duration, Duration),
}

const OURS: &str = "rcu-runtime replace + drop_async";
const LIBURCU: &str = "liburcu memb rcu_xchg_pointer + call_rcu";

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let mut cases = vec![
        Case { name: OURS, run: ours_drop_async },
        Case { name: "rcu-runtime replace + defer_drop", run: ours_defer_drop },
    ];
    #[cfg(feature = "liburcu")]
    cases.push(Case { name: LIBURCU, run: liburcu_call_rcu });
    #[cfg(not(feature = "liburcu"))]
    section.skipped.push(crate::compare::peers::LIBURCU_SKIPPED.to_owned());
    cases.push(Case { name: "crossbeam-epoch swap + defer_destroy", run: crossbeam_defer_destroy });

    let n = options.async_updates();
    let mut enqueue: Vec<Samples> = cases.iter().map(|_| Samples::default()).collect();
    let mut throughput: Vec<Samples> = cases.iter().map(|_| Samples::default()).collect();
    for round in 0..=options.reps {
        for (i, case) in cases.iter().enumerate() {
            let (looped, total) =
                thread::scope(|s| s.spawn(|| (case.run)(n)).join().expect("updater panicked"));
            // Round 0 is the warm-up.
            if round > 0 {
                enqueue[i].push(looped.as_nanos() as f64 / n as f64);
                throughput[i].push(n as f64 / total.as_secs_f64() / 1e6);
            }
        }
    }

    let ours = throughput[0].median();
    let mut table = Table::new(
        "5. Replace + asynchronous free, one updater, flat out",
        &format!(
            "{n} replacements per repetition, then a wait until all are freed (crossbeam offers no \
             such wait: a few flushes instead). Loop = time per replacement before the wait; \
             throughput includes the wait."
        ),
        &["system", "loop, per update", "throughput", "× ours"],
    );
    for (i, case) in cases.iter().enumerate() {
        table.row(vec![
            case.name.to_owned(),
            report::ns(&enqueue[i]),
            report::mops(&throughput[i]),
            report::ratio(ratio_of(throughput[i].median(), ours)),
        ]);
    }
    section.tables.push(table);
    if let Some(i) = cases.iter().position(|c| c.name == LIBURCU) {
        section.checks.push(Check::at_least(
            "replace + async free throughput: ours / liburcu call_rcu",
            ratio_of(ours, throughput[i].median()),
            1.0,
            "×",
        ));
    }
    section.panels.push(Panel {
        title: "Replace + asynchronous free: million updates per second, freeing included (higher is better)"
            .to_owned(),
        unit: "M/s".to_owned(),
        bars: cases.iter().zip(&throughput).map(|(c, t)| (c.name.to_owned(), t.median())).collect(),
    });
    section
}

/// Registers the thread as a reader, as liburcu's updater must be, so that both engines' grace
/// periods have the updater to look at.
fn register() {
    drop(read_lock());
}

fn ours_drop_async(n: u64) -> (Duration, Duration) {
    register();
    let mut current = pin!(Rcu::new(Payload::boxed(0)));
    let start = Instant::now();
    for i in 1..=n {
        if let Some(old) = current.as_mut().replace(Payload::boxed(i)) {
            old.drop_async();
        }
    }
    let looped = start.elapsed();
    rcu_barrier();
    let total = start.elapsed();
    if let Some(last) = current.as_mut().take() {
        last.drop_async();
    }
    (looped, total)
}

fn ours_defer_drop(n: u64) -> (Duration, Duration) {
    register();
    let mut current = pin!(Rcu::new(Payload::boxed(0)));
    let start = Instant::now();
    for i in 1..=n {
        if let Some(old) = current.as_mut().replace(Payload::boxed(i)) {
            old.defer_drop();
        }
    }
    let looped = start.elapsed();
    rcu_barrier();
    let total = start.elapsed();
    if let Some(last) = current.as_mut().take() {
        last.defer_drop();
    }
    (looped, total)
}

#[cfg(feature = "liburcu")]
fn liburcu_call_rcu(n: u64) -> (Duration, Duration) {
    use crate::compare::peers::{Liburcu, UpdatePeer, on_thread};

    let peer = Liburcu::new();
    let times = on_thread(&peer, || {
        let start = Instant::now();
        peer.update_n(1, n);
        let looped = start.elapsed();
        peer.drain();
        (looped, start.elapsed())
    });
    drop(peer);
    times
}

fn crossbeam_defer_destroy(n: u64) -> (Duration, Duration) {
    let current = Atomic::new(Payload::new(0));
    let start = Instant::now();
    for i in 1..=n {
        let guard = epoch::pin();
        // AcqRel, as a shared pointer would need (there are no readers here, but the cost is
        // the one a real updater pays).
        let old = current.swap(Owned::new(Payload::new(i)), Ordering::AcqRel, &guard);
        // SAFETY: `old` was unpublished by the swap and is destroyed only here, after every
        // guard pinned now is dropped.
        unsafe { guard.defer_destroy(old) };
    }
    let looped = start.elapsed();
    for _ in 0..4 {
        epoch::pin().flush();
    }
    let total = start.elapsed();
    // SAFETY: no other thread can reach `current`; the unprotected guard is fine without
    // concurrency, and the last payload is owned by the pointer.
    unsafe {
        let last = current.swap(epoch::Shared::null(), Ordering::Relaxed, epoch::unprotected());
        drop(last.into_owned());
    }
    (looped, total)
}
