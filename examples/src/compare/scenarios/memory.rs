//! Scenario 6: memory waiting to be freed, at a steady 1M updates/s and under a flood.
//!
//! Ours (`RcuMutex` + `drop_async`) against liburcu (`call_rcu`), each with one busy reader
//! thread. The updater counts the payloads allocated and not yet freed after every 64 updates,
//! which gives the peak exactly to within 64; a sampler thread reads the resident set size every
//! 10 ms. Steady: 1M updates/s in bursts once a millisecond, with the peaks of each tenth of the
//! run kept to show drift. Flood: the updater replaces flat out; ours must stay under
//! `config::max_pending_callbacks` (observed through `stats().callbacks_pending`), liburcu has no
//! cap (the flood is cut short if it passes 20M payloads).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::reads_under_updates::STEADY_RATE;
use crate::compare::machine::{rss_bytes, trim_heap};
use crate::compare::options::Options;
use crate::compare::pacing::{self, Rate};
use crate::compare::payload;
use crate::compare::peers::ours::OursMutex;
use crate::compare::peers::{UpdatePeer, on_thread};
use crate::compare::report::{Check, Panel, Section, Table, ratio, sig3};
use crate::compare::sample::median_of;

/// How many slices the steady run is cut into to look for drift.
const SLICES: usize = 10;
/// Where a flood of a system without a cap is cut short.
const FLOOD_LIMIT: u64 = 20_000_000;

/// What one run of one system showed.
struct Footprint {
    /// The most payloads waiting to be freed at once (allocated, not freed, not published).
    peak_waiting: u64,
    /// The same, per slice of the run.
    slice_peaks: Vec<u64>,
    /// Ours only: the most `stats().callbacks_pending` seen.
    peak_pending: Option<usize>,
    /// Peak resident set size above the one before the run, in bytes.
    rss_growth: u64,
    rate: Rate,
    cut_short: bool,
}

impl Footprint {
    /// Median peak of the last half of the slices over the median peak of the first half: above
    /// 1 when the memory waiting to be freed grows over the run. Medians, so that one stall of
    /// the machine in one slice does not read as a trend.
    fn drift(&self) -> f64 {
        let half = self.slice_peaks.len() / 2;
        let median = |s: &[u64]| median_of(s.iter().map(|&p| p as f64));
        median(&self.slice_peaks[half..]) / median(&self.slice_peaks[..half]).max(1.0)
    }

    /// The peak of each slice, in thousands: the series the drift is read from.
    fn series(&self) -> String {
        self.slice_peaks.iter().map(|p| format!("{:.1}", *p as f64 / 1000.0)).collect::<Vec<_>>().join(" ")
    }
}

/// A system's allocation count, and ours' pending callbacks, as the updater sees them.
trait Counted: UpdatePeer {
    /// Payloads allocated and not yet freed, the published one included.
    fn live(&self) -> u64;
    /// Pending callbacks according to the engine, where it says.
    fn pending(&self) -> Option<usize>;
}

impl Counted for OursMutex {
    fn live(&self) -> u64 {
        payload::live()
    }

    fn pending(&self) -> Option<usize> {
        Some(rcu_runtime::stats().callbacks_pending)
    }
}

#[cfg(feature = "liburcu")]
impl Counted for crate::compare::peers::Liburcu {
    fn live(&self) -> u64 {
        crate::compare::peers::Liburcu::live(self)
    }

    fn pending(&self) -> Option<usize> {
        None
    }
}

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let mut steady_table = Table::new(
        "6a. Memory waiting to be freed at a steady 1M updates/s",
        &format!(
            "{} s per system with one busy reader. Waiting = payloads replaced and not yet freed \
             (peak; per tenth of the run, in thousands; drift = median of the last five tenths' \
             peaks / median of the first five). callbacks_pending counts a batch until its last \
             callback has run, so it can exceed waiting. RSS = peak resident set growth.",
            options.steady_run().as_secs()
        ),
        &[
            "system",
            "peak waiting",
            "per tenth (k)",
            "drift",
            "peak callbacks_pending",
            "peak RSS growth",
            "updates/s",
        ],
    );
    let mut flood_table = Table::new(
        "6b. Under a flood (updater flat out)",
        &format!(
            "{} ms per system with one busy reader. Ours' cap: config::max_pending_callbacks = {}.",
            options.flood_run().as_millis(),
            rcu_runtime::config::max_pending_callbacks()
        ),
        &["system", "peak waiting", "peak callbacks_pending", "peak RSS growth", "updates/s"],
    );

    let ours = OursMutex::new();
    let ours_steady = footprint(&ours, options.steady_run(), true);
    let ours_flood = footprint(&ours, options.flood_run(), false);
    on_thread(&ours, || ours.drain());
    drop(ours);
    let ours_name = "rcu-runtime RcuMutex + drop_async";
    add_rows(&mut steady_table, &mut flood_table, ours_name, &ours_steady, &ours_flood);
    #[cfg_attr(not(feature = "liburcu"), expect(unused_mut, reason = "liburcu joins with its feature only"))]
    let mut waiting_bars = vec![(ours_name.to_owned(), ours_steady.peak_waiting as f64)];

    #[cfg(feature = "liburcu")]
    {
        let liburcu = crate::compare::peers::Liburcu::new();
        let steady = footprint(&liburcu, options.steady_run(), true);
        let flood = footprint(&liburcu, options.flood_run(), false);
        on_thread(&liburcu, || liburcu.drain());
        drop(liburcu);
        add_rows(&mut steady_table, &mut flood_table, "liburcu memb call_rcu", &steady, &flood);
        waiting_bars.push(("liburcu memb call_rcu".to_owned(), steady.peak_waiting as f64));
        section.checks.push(Check::at_most(
            "peak waiting at 1M updates/s: ours / liburcu",
            ours_steady.peak_waiting as f64 / steady.peak_waiting.max(1) as f64,
            1.0,
            "×",
        ));
    }
    #[cfg(not(feature = "liburcu"))]
    section.skipped.push(crate::compare::peers::LIBURCU_SKIPPED.to_owned());

    section.checks.push(Check::at_most(
        "drift of the peaks at 1M updates/s (median last half / first half), ours",
        ours_steady.drift(),
        1.25,
        "×",
    ));
    let cap = rcu_runtime::config::max_pending_callbacks();
    section.checks.push(Check::at_most(
        "peak callbacks_pending under a flood, ours (cap + 1 updater)",
        ours_flood.peak_pending.unwrap_or(usize::MAX) as f64,
        (cap + 1) as f64,
        "",
    ));
    section.tables.push(steady_table);
    section.tables.push(flood_table);
    section.panels.push(Panel {
        title: "At a steady 1M updates/s: peak payloads waiting to be freed (lower is better)".to_owned(),
        unit: "payloads".to_owned(),
        bars: waiting_bars,
    });
    section
}

fn add_rows(
    steady_table: &mut Table,
    flood_table: &mut Table,
    name: &str,
    steady: &Footprint,
    flood: &Footprint,
) {
    let pending = |f: &Footprint| f.peak_pending.map_or("–".to_owned(), |p| p.to_string());
    let mib = |bytes: u64| format!("{} MiB", sig3(bytes as f64 / (1024.0 * 1024.0)));
    let rate = |f: &Footprint| {
        format!("{:.2}M{}", f.rate.per_second() / 1e6, if f.cut_short { " (cut short)" } else { "" })
    };
    steady_table.row(vec![
        name.to_owned(),
        steady.peak_waiting.to_string(),
        steady.series(),
        ratio(steady.drift()),
        pending(steady),
        mib(steady.rss_growth),
        rate(steady),
    ]);
    flood_table.row(vec![
        name.to_owned(),
        flood.peak_waiting.to_string(),
        pending(flood),
        mib(flood.rss_growth),
        rate(flood),
    ]);
}

/// Runs one busy reader and one updater (steady or flat out) for `duration` and records the
/// memory waiting to be freed.
fn footprint<P: Counted>(peer: &P, duration: Duration, steady: bool) -> Footprint {
    on_thread(peer, || peer.drain());
    trim_heap();
    let rss_before = rss_bytes();
    let stop = AtomicBool::new(false);
    let peak_rss = AtomicU64::new(rss_before);
    let started = Instant::now();
    let mut slice_peaks = vec![0_u64; SLICES];
    let mut peak_pending = None::<usize>;
    let mut cut_short = false;
    let rate = thread::scope(|s| {
        s.spawn(|| on_thread(peer, || peer.read_until(&stop)));
        s.spawn(|| {
            // Relaxed: the flag and the peak carry no data.
            while !stop.load(Ordering::Relaxed) {
                peak_rss.fetch_max(rss_bytes(), Ordering::Relaxed);
                thread::sleep(Duration::from_millis(10));
            }
        });
        let updater = s.spawn(|| {
            on_thread(peer, || {
                let mut observe = |i: u64| {
                    peer.update(i);
                    if i.is_multiple_of(64) {
                        let slice = (started.elapsed().as_secs_f64() / duration.as_secs_f64() * SLICES as f64)
                            as usize;
                        let waiting = peer.live().saturating_sub(1);
                        let peak = &mut slice_peaks[slice.min(SLICES - 1)];
                        *peak = (*peak).max(waiting);
                        if let Some(pending) = peer.pending() {
                            peak_pending = Some(peak_pending.unwrap_or(0).max(pending));
                        }
                        if waiting > FLOOD_LIMIT || started.elapsed() >= duration {
                            cut_short |= waiting > FLOOD_LIMIT;
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                };
                if steady {
                    pacing::paced(STEADY_RATE, &stop, &mut observe)
                } else {
                    pacing::flat_out(&stop, &mut observe)
                }
            })
        });
        let rate = updater.join().expect("the updater thread panicked");
        stop.store(true, Ordering::Relaxed);
        rate
    });
    let rss_growth = peak_rss.load(Ordering::Relaxed).saturating_sub(rss_before);
    Footprint {
        peak_waiting: slice_peaks.iter().copied().max().unwrap_or(0),
        slice_peaks,
        peak_pending,
        rss_growth,
        rate,
        cut_short,
    }
}
