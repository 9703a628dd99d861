//! One rcutorture run: reader threads, one writer that goes through every way of publishing and
//! reclaiming, fake writers that drive grace periods and barriers of their own, and a forker.
//!
//! The writer publishes [`Element`]s in two slots, an `Rcu<Box<Element>>` and an `RcuMap` of
//! `RcuBox<Element>` (one key), and moves each removed element through *pipe stages*: 1 when it
//! is unpublished, one more for every grace period the writer sees complete afterwards. Readers
//! read both slots inside nested read-side critical sections with random delays (or, every other
//! reader, as a `QsbrReader` between quiescent states), check that what they reach is not
//! poisoned, and record its stage at the end of the section. A correct RCU lets them see stages 0
//! and 1 only; stage 2 or more, or poison, means a grace period ended (or memory
//! was freed) while a reader that could still see the element was inside its section.
//!
//! This file owns the configuration, the state the threads share, the fake writers and the
//! run itself (spawning, watching for hangs, teardown); the other threads live in
//! `readers.rs`, `writer.rs` and `forks.rs`, the report in [`report`](super::report).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rcu_runtime::{Rcu, RcuBox, RcuMap, Stats, defer_rcu, rcu_barrier, start_poll, stats, synchronize_rcu};

use super::element::{Census, Element};
use super::forks::{self, ForkCounts, Pause};
use super::histogram::SharedHistogram;
use super::readers::{self, ReadCounts};
use super::report::TortureReport;
use super::waits::{Wait, Waits};
use super::writer::Writer;
use crate::poison_alloc::{self, AllocCounters};
use crate::rng::Rng;

/// The ways the writer publishes a new element and reclaims the old one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriterMode {
    /// `replace`, then drop the `RcuOld` (`synchronize_rcu`, then free); half the time with an
    /// explicit `synchronize_rcu` first, after which the element must be unreachable.
    ReplaceAndDrop,
    /// `copy_update`, then `RcuOld::wait`: the element comes back and ages through later grace
    /// periods before it is freed.
    CopyUpdateAndWait,
    /// `replace`, then `RcuOld::drop_async` through the element's embedded `RcuHead`.
    DropAsync,
    /// `replace`, then `RcuOld::defer_drop`.
    DeferDrop,
    /// A new `RcuBox` in the map; the old box is dropped at once (freed through `call_rcu`).
    RcuBox,
    /// `replace`, then `start_poll` and `GpState::poll` (or `GpState::wait` after a while); once
    /// the state says a grace period has elapsed, the element must be unreachable.
    Polled,
}

impl WriterMode {
    /// Every mode, in the order reports list them.
    pub const ALL: [Self; 6] = [
        Self::ReplaceAndDrop,
        Self::CopyUpdateAndWait,
        Self::DropAsync,
        Self::DeferDrop,
        Self::RcuBox,
        Self::Polled,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Self::ReplaceAndDrop => "replace+drop",
            Self::CopyUpdateAndWait => "copy_update+wait",
            Self::DropAsync => "drop_async",
            Self::DeferDrop => "defer_drop",
            Self::RcuBox => "RcuBox",
            Self::Polled => "polled",
        }
    }

    pub(super) fn index(self) -> usize {
        Self::ALL.iter().position(|&m| m == self).expect("every mode is in ALL")
    }
}

/// What a run does and for how long.
#[derive(Clone, Debug)]
pub struct TortureConfig {
    /// How long the writer publishes (it goes on past it until every mode has run `min_per_mode` times).
    pub duration: Duration,
    /// Reader threads (at least one); every other one (the second, the fourth, …) is a QSBR reader.
    pub readers: usize,
    /// Threads that call `synchronize_rcu`, `rcu_barrier`, polled grace periods and `defer_rcu`.
    pub fake_writers: usize,
    /// Publications per writer mode at least, so that a short run on a busy machine covers them all.
    pub min_per_mode: u64,
    /// Seeds every thread's random stream (printed in the report).
    pub seed: u64,
    /// Print a progress line this often (long runs).
    pub progress_every: Option<Duration>,
    /// A wait (a grace period, a barrier, a throttled `call_rcu`, a forked child, …) that takes
    /// longer than this fails the run; one that has not returned by then ends it.
    pub max_wait: Duration,
    /// Fork a child this often on average (see `forks.rs`); `None` for no forks.
    pub fork_every: Option<Duration>,
}

impl TortureConfig {
    /// A run of `duration` with two readers per core (at least four), two fake writers, a fork
    /// every 200 ms on average and waits limited to 10 s.
    pub fn new(duration: Duration) -> Self {
        let cores = thread::available_parallelism().map_or(2, usize::from);
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        Self {
            duration,
            readers: (2 * cores).max(4),
            fake_writers: 2,
            min_per_mode: 20,
            // Truncation is fine: any 64 bits make a seed.
            seed: since_epoch.map_or(1, |d| d.as_nanos() as u64),
            progress_every: None,
            max_wait: Duration::from_secs(10),
            fork_every: Some(Duration::from_millis(200)),
        }
    }
}

/// Everything the threads of a run share.
pub(super) struct Shared {
    /// The `Box` slot; only the writer updates it (see `Writer::boxed_for_update`).
    pub(super) boxed: Rcu<Box<Element>>,
    /// The `RcuBox` slot: the value under key 0.
    pub(super) boxes: RcuMap<u64, RcuBox<Element>>,
    stop: AtomicBool,
    pub(super) histogram: SharedHistogram,
    pub(super) read_counts: ReadCounts,
    pub(super) writes: [AtomicU64; WriterMode::ALL.len()],
    fake_writer_ops: AtomicU64,
    pub(super) waits: Arc<Waits>,
    pub(super) pause: Pause,
    pub(super) forks: ForkCounts,
}

/// The key of the one `RcuBox` in [`Shared::boxes`].
pub(super) const BOX_KEY: u64 = 0;

impl Shared {
    fn new(census: &Arc<Census>, waits: Arc<Waits>, pausing: usize) -> Self {
        let boxes = RcuMap::new();
        boxes.insert(BOX_KEY, RcuBox::new(Element::new(census)));
        Self {
            boxed: Rcu::new(Box::new(Element::new(census))),
            boxes,
            stop: AtomicBool::new(false),
            histogram: SharedHistogram::default(),
            read_counts: ReadCounts::default(),
            writes: Default::default(),
            fake_writer_ops: AtomicU64::new(0),
            waits,
            pause: Pause::new(pausing),
            forks: ForkCounts::default(),
        }
    }

    pub(super) fn stopped(&self) -> bool {
        // Relaxed: a flag polled in loops; nothing is published through it.
        self.stop.load(Ordering::Relaxed)
    }

    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One fake writer: grace periods, barriers and empty callbacks, at random, until told to stop.
/// `slot` is its slot in the run's waits.
fn fake_writer(shared: &Shared, mut rng: Rng, slot: usize) {
    let waits = &shared.waits;
    while !shared.stopped() {
        match rng.below(6) {
            0 | 1 => waits.timed(slot, Wait::Synchronize, synchronize_rcu),
            2 => waits.timed(slot, Wait::Barrier, rcu_barrier),
            3 => waits.timed(slot, Wait::Polled, || start_poll().wait()),
            4 => waits.timed(slot, Wait::Polled, || {
                let state = start_poll();
                while !state.poll() {
                    thread::yield_now();
                }
            }),
            _ => waits.timed(slot, Wait::Enqueue, || defer_rcu(|| {})),
        }
        // Relaxed: statistics.
        shared.fake_writer_ops.fetch_add(1, Ordering::Relaxed);
        if rng.one_in(4) {
            thread::sleep(Duration::from_micros(rng.below(100)));
        }
    }
}

/// Runs the torture test described by `config` and reports what it saw.
///
/// Blocks for about `config.duration`. Runs in any process; one run at a time gives the clearest
/// statistics (the engine's counters are process-wide). A wait that has not returned within
/// `config.max_wait` ends the run early with a report that says so; its threads are left behind
/// (they end with the process).
pub fn run(config: &TortureConfig) -> TortureReport {
    assert!(config.readers > 0, "a torture run needs at least one reader");
    let quarantine = poison_alloc::configure_from_env();
    let alloc_before = poison_alloc::counters();
    let before = stats();
    let started = Instant::now();
    let census = Arc::new(Census::default());
    // The waits' slots: the writer (`writer::WRITER_SLOT`), the fake writers, the forker.
    let forker_slot = 1 + config.fake_writers;
    let slot_names = std::iter::once("torture-writer".to_owned())
        .chain((0..config.fake_writers).map(|i| format!("torture-fake-writer-{i}")))
        .chain(std::iter::once("torture-forker".to_owned()))
        .collect();
    let waits = Arc::new(Waits::new(config.max_wait, slot_names));
    // The readers and the writer pause for quiet forks.
    let shared = Arc::new(Shared::new(&census, Arc::clone(&waits), config.readers + 1));

    let spawn = |name: String, body: Box<dyn FnOnce() + Send>| {
        thread::Builder::new().name(name).spawn(body).expect("cannot spawn a torture thread")
    };
    let mut others = Vec::new();
    for i in 0..config.readers {
        let (shared, rng) = (Arc::clone(&shared), Rng::new(config.seed ^ (i as u64 + 1)));
        let body: Box<dyn FnOnce() + Send> = if readers::is_qsbr_reader(i) {
            Box::new(move || readers::qsbr_reader(&shared, rng))
        } else {
            Box::new(move || readers::reader(&shared, rng))
        };
        others.push(spawn(format!("torture-reader-{i}"), body));
    }
    for i in 0..config.fake_writers {
        let (shared, rng) = (Arc::clone(&shared), Rng::new(config.seed ^ (1000 + i as u64)));
        others.push(spawn(
            format!("torture-fake-writer-{i}"),
            Box::new(move || fake_writer(&shared, rng, 1 + i)),
        ));
    }
    if let Some(every) = config.fork_every {
        let (shared, rng) = (Arc::clone(&shared), Rng::new(config.seed ^ 2000));
        others.push(spawn(
            "torture-forker".to_owned(),
            Box::new(move || forks::forker(&shared, every, rng, forker_slot)),
        ));
    }
    let writer = {
        let (shared, census, seed) = (Arc::clone(&shared), Arc::clone(&census), config.seed);
        let (duration, min_per_mode) = (config.duration, config.min_per_mode);
        spawn(
            "torture-writer".to_owned(),
            Box::new(move || Writer::new(shared, census, seed).run(duration, min_per_mode)),
        )
    };

    let hung = watch(config, &shared, &writer, &others, started, &before);
    if let Some(hung) = hung {
        // Let the threads that can stop do so; the stuck ones stay behind, detached.
        shared.stop();
        shared.pause.release();
        let report = report_so_far(config, &shared, &census, started, &before, alloc_before, quarantine);
        return TortureReport { hung: Some(hung), ..report };
    }
    let writer_result = writer.join();
    let mut panicked: Vec<_> = others.into_iter().filter_map(|t| t.join().err()).collect();
    if let Err(payload) = writer_result {
        panicked.insert(0, payload);
    }
    if let Some(payload) = panicked.into_iter().next() {
        std::panic::resume_unwind(payload);
    }

    let mut report = report_so_far(config, &shared, &census, started, &before, alloc_before, quarantine);
    let shared = Arc::into_inner(shared).expect("every thread of the run has ended");
    // The last published elements: after a grace period, and through `call_rcu`. The worker
    // counts a batch after running all of it; the second barrier's marker runs in a later
    // batch, so the counters include every callback of the run when it returns.
    let teardown = thread::spawn(move || {
        drop(shared);
        rcu_barrier();
        rcu_barrier();
    });
    let teardown_started = Instant::now();
    while !teardown.is_finished() {
        if teardown_started.elapsed() > config.max_wait {
            report.hung = Some(format!(
                "teardown: dropping the last elements and rcu_barrier have not returned after {:.1?}: it hangs",
                teardown_started.elapsed()
            ));
            return report;
        }
        thread::sleep(Duration::from_millis(1));
    }
    waits.record("teardown", Wait::Teardown, teardown_started.elapsed());
    if let Err(payload) = teardown.join() {
        std::panic::resume_unwind(payload);
    }
    poison_alloc::flush();
    let after = stats();
    let alloc_after = poison_alloc::counters();
    TortureReport {
        elapsed: started.elapsed(),
        elements: census.counts(),
        links: census.link_counts(),
        waits: waits.summary(),
        grace_periods: after.grace_periods - before.grace_periods,
        callbacks_run: after.callbacks_run - before.callbacks_run,
        callback_panics: after.callback_panics - before.callback_panics,
        barrier_mode: after.barrier_mode,
        allocator: AllocCounters {
            poisoned_frees: alloc_after.poisoned_frees - alloc_before.poisoned_frees,
            writes_after_free: alloc_after.writes_after_free - alloc_before.writes_after_free,
        },
        ..report
    }
}

/// Watches the run until every thread has ended: prints progress lines if asked, and returns
/// the description of a wait that has not returned within the limit, if one has not.
fn watch(
    config: &TortureConfig,
    shared: &Shared,
    writer: &JoinHandle<()>,
    others: &[JoinHandle<()>],
    started: Instant,
    before: &Stats,
) -> Option<String> {
    let mut next_progress = config.progress_every.map(|every| (started + every, every));
    while !writer.is_finished() || others.iter().any(|t| !t.is_finished()) {
        thread::sleep(Duration::from_millis(20));
        if let Some(stuck) = shared.waits.stuck() {
            return Some(stuck);
        }
        if let Some((next, every)) = &mut next_progress
            && Instant::now() >= *next
        {
            *next += *every;
            print_progress(shared, started, before);
        }
        if writer.is_finished() {
            // The writer sets `stop` when it finishes; if it panicked, stop the others here.
            shared.stop();
        }
    }
    None
}

/// The report's counts as they are now (the run's threads may still run).
fn report_so_far(
    config: &TortureConfig,
    shared: &Shared,
    census: &Census,
    started: Instant,
    before: &Stats,
    alloc_before: AllocCounters,
    quarantine: bool,
) -> TortureReport {
    let now = stats();
    let alloc_now = poison_alloc::counters();
    let counts = &shared.read_counts;
    // Relaxed: statistics; after the threads are joined, complete.
    TortureReport {
        config: config.clone(),
        elapsed: started.elapsed(),
        hung: None,
        histogram: shared.histogram.snapshot(),
        writes: shared.writes.each_ref().map(|w| w.load(Ordering::Relaxed)),
        fake_writer_ops: shared.fake_writer_ops.load(Ordering::Relaxed),
        elements: census.counts(),
        links: census.link_counts(),
        links_read: counts.links.load(Ordering::Relaxed),
        deep_sections: (counts.deep_sections.load(Ordering::Relaxed), counts.deepest.load(Ordering::Relaxed)),
        waits: shared.waits.summary(),
        forks: shared.forks.summary(),
        grace_periods: now.grace_periods - before.grace_periods,
        callbacks_run: now.callbacks_run - before.callbacks_run,
        callback_panics: now.callback_panics - before.callback_panics,
        barrier_mode: now.barrier_mode,
        quarantine,
        allocator: AllocCounters {
            poisoned_frees: alloc_now.poisoned_frees - alloc_before.poisoned_frees,
            writes_after_free: alloc_now.writes_after_free - alloc_before.writes_after_free,
        },
    }
}

/// One progress line for long runs.
fn print_progress(shared: &Shared, started: Instant, before: &Stats) {
    let now = stats();
    let writes: u64 = shared.writes.iter().map(|w| w.load(Ordering::Relaxed)).sum();
    let forks = shared.forks.summary();
    println!(
        "rcutorture: {:>6.1?} {} | {} publications | {} grace periods | {} callbacks run, {} pending | {} forks",
        started.elapsed(),
        shared.histogram.snapshot(),
        writes,
        now.grace_periods - before.grace_periods,
        now.callbacks_run - before.callbacks_run,
        now.callbacks_pending,
        forks.quiet + forks.busy,
    );
}
