//! One rcutorture run: reader threads, one writer that goes through every way of publishing and
//! reclaiming, and fake writers that drive grace periods and barriers of their own.
//!
//! The writer publishes [`Element`]s in two slots, an `Rcu<Box<Element>>` and an `RcuMap` of
//! `RcuBox<Element>` (one key), and moves each removed element through *pipe stages*: 1 when it
//! is unpublished, one more for every grace period the writer sees complete afterwards. Readers
//! read both slots inside nested read-side critical sections with random delays (or, every other
//! reader, as a `QsbrReader` between quiescent states), check that what they reach is not
//! poisoned, and record its stage at the end of the section. A correct RCU lets them see stages 0
//! and 1 only; stage 2 or more, or poison, means a grace period ended (or memory
//! was freed) while a reader that could still see the element was inside its section.

use core::fmt;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::config::BarrierMode;
use rcu_runtime::{
    Guard, QsbrReader, Rcu, RcuBox, RcuMap, RcuOld, Stats, defer_rcu, rcu_barrier, read_lock, start_poll,
    stats, synchronize_rcu,
};

use super::element::{Census, Element};
use super::histogram::{PIPE_LEN, PipeHistogram, SharedHistogram};
use super::poison_alloc::{self, AllocCounters};
use super::rng::Rng;

/// The ways the writer publishes a new element and reclaims the old one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriterMode {
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
    pub(crate) const ALL: [Self; 6] = [
        Self::ReplaceAndDrop,
        Self::CopyUpdateAndWait,
        Self::DropAsync,
        Self::DeferDrop,
        Self::RcuBox,
        Self::Polled,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::ReplaceAndDrop => "replace+drop",
            Self::CopyUpdateAndWait => "copy_update+wait",
            Self::DropAsync => "drop_async",
            Self::DeferDrop => "defer_drop",
            Self::RcuBox => "RcuBox",
            Self::Polled => "polled",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|&m| m == self).expect("every mode is in ALL")
    }
}

/// What a run does and for how long.
#[derive(Clone, Debug)]
pub(crate) struct TortureConfig {
    /// How long the writer publishes (it goes on past it until every mode has run `min_per_mode` times).
    pub(crate) duration: Duration,
    /// Reader threads (at least one); every other one (the second, the fourth, …) is a QSBR reader.
    pub(crate) readers: usize,
    /// Threads that call `synchronize_rcu`, `rcu_barrier`, polled grace periods and `defer_rcu`.
    pub(crate) fake_writers: usize,
    /// Publications per writer mode at least, so that a short run on a busy machine covers them all.
    pub(crate) min_per_mode: u64,
    /// Seeds every thread's random stream (printed in the report).
    pub(crate) seed: u64,
    /// Print a progress line this often (long runs).
    pub(crate) progress_every: Option<Duration>,
}

impl TortureConfig {
    /// A run of `duration` with two readers per core (at least four) and two fake writers.
    pub(crate) fn new(duration: Duration) -> Self {
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
        }
    }
}

/// Everything the threads of a run share.
struct Shared {
    /// The `Box` slot; only the writer updates it (see [`Writer::boxed_for_update`]).
    boxed: Rcu<Box<Element>>,
    /// The `RcuBox` slot: the value under key 0.
    boxes: RcuMap<u64, RcuBox<Element>>,
    stop: AtomicBool,
    histogram: SharedHistogram,
    writes: [AtomicU64; WriterMode::ALL.len()],
    fake_writer_ops: AtomicU64,
}

/// The key of the one `RcuBox` in [`Shared::boxes`].
const BOX_KEY: u64 = 0;

impl Shared {
    fn new(census: &Arc<Census>) -> Self {
        let boxes = RcuMap::new();
        boxes.insert(BOX_KEY, RcuBox::new(Element::new(census)));
        Self {
            boxed: Rcu::new(Box::new(Element::new(census))),
            boxes,
            stop: AtomicBool::new(false),
            histogram: SharedHistogram::default(),
            writes: Default::default(),
            fake_writer_ops: AtomicU64::new(0),
        }
    }

    fn stopped(&self) -> bool {
        // Relaxed: a flag polled in loops; nothing is published through it.
        self.stop.load(Ordering::Relaxed)
    }
}

/// The writer's state: its random stream and the removed elements it still owns.
///
/// # Invariants
///
/// `boxed` points to `shared.boxed`, which the `Arc` keeps alive and in place; this writer is the
/// only one that updates it.
struct Writer {
    shared: Arc<Shared>,
    boxed: NonNull<Rcu<Box<Element>>>,
    census: Arc<Census>,
    rng: Rng,
    /// Elements given back by `RcuOld::wait`, oldest first, each past stage 1; they advance at
    /// every grace period the writer sees and are freed at stage `PIPE_LEN`.
    aging: VecDeque<Box<Element>>,
}

impl Writer {
    fn new(shared: Arc<Shared>, census: Arc<Census>, seed: u64) -> Self {
        // Through `Arc::as_ptr`, whose provenance covers the whole allocation, writable.
        let whole = Arc::as_ptr(&shared).cast_mut();
        // SAFETY: `whole` points to the live `Shared` that the `Arc` owns; taking the address of a
        // field reads and writes nothing.
        let field = unsafe { &raw mut (*whole).boxed };
        // INVARIANT: the pointer comes from the `Arc` we keep; `run` starts one writer per run.
        let boxed = NonNull::new(field).expect("a field of a live allocation is not null");
        Self { shared, boxed, census, rng: Rng::new(seed), aging: VecDeque::new() }
    }

    /// The updater's pinned handle on the `Box` slot, which readers on other threads read at the
    /// same time through `&Rcu`.
    fn boxed_for_update(&mut self) -> Pin<&mut Rcu<Box<Element>>> {
        // SAFETY:
        // - the `Arc` in `self` keeps the `Rcu` alive and never moves it, which is what pinning
        //   asks (invariant);
        // - this writer is its only updater (invariant), and `&mut self` keeps this handle unique
        //   within it: that is the exclusivity `Pin<&mut Rcu>` stands for. The updater methods
        //   write only through the `Rcu`'s atomic pointer, never the `Rcu` itself, so the readers
        //   holding `&Rcu` race with nothing;
        // - `Rcu` is `!Unpin`, so a `&mut Rcu` does not assert that no `&Rcu` exists (the
        //   aliasing argument of the runtime's `RcuMutex`).
        unsafe { Pin::new_unchecked(self.boxed.as_mut()) }
    }

    /// Publishes until the deadline has passed and every mode has run often enough.
    fn run(mut self, duration: Duration, min_per_mode: u64) {
        let deadline = Instant::now() + duration;
        let mut counts = [0_u64; WriterMode::ALL.len()];
        loop {
            let mode = if Instant::now() < deadline {
                WriterMode::ALL[self.rng.below(WriterMode::ALL.len() as u64) as usize]
            } else {
                match WriterMode::ALL.into_iter().find(|m| counts[m.index()] < min_per_mode) {
                    Some(mode) => mode,
                    None => break,
                }
            };
            self.publish(mode);
            counts[mode.index()] += 1;
            // Relaxed: statistics for progress lines.
            self.shared.writes[mode.index()].fetch_add(1, Ordering::Relaxed);
            self.pause();
        }
        // The aging elements are no longer reachable by anyone: free them (poisoned).
        self.aging.clear();
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// A random short pause, so that readers see both quick and slow successions of versions.
    fn pause(&mut self) {
        match self.rng.below(64) {
            0 => thread::sleep(Duration::from_micros(20 + self.rng.below(80))),
            1..=15 => thread::yield_now(),
            _ => {}
        }
    }

    fn publish(&mut self, mode: WriterMode) {
        match mode {
            WriterMode::ReplaceAndDrop => {
                let (old, removed) = self.replace_boxed();
                if self.rng.one_in(2) {
                    synchronize_rcu();
                    self.grace_period_elapsed();
                    // SAFETY: `old` still owns the element.
                    unsafe { (*removed).advance() };
                }
                drop(old); // waits for a grace period, then frees (and poisons) the element
                self.grace_period_elapsed();
            }
            WriterMode::CopyUpdateAndWait => {
                let census = Arc::clone(&self.census);
                let mut removed: *const Element = ptr::null();
                let old = self.boxed_for_update().copy_update(|current| {
                    removed = current.map_or(ptr::null(), ptr::from_ref);
                    Some(Box::new(Element::new(&census)))
                });
                let old = old.expect("the Box slot is never empty");
                // SAFETY: `removed` is the element that `old` owns, which nothing frees before `wait`.
                unsafe { (*removed).advance() };
                let element = old.wait();
                self.grace_period_elapsed();
                // Its own grace period has ended too: no reader can reach it any more.
                element.advance();
                self.aging.push_back(element);
            }
            WriterMode::DropAsync => {
                let (old, _) = self.replace_boxed();
                old.drop_async();
            }
            WriterMode::DeferDrop => {
                let (old, _) = self.replace_boxed();
                old.defer_drop();
            }
            WriterMode::RcuBox => {
                let fresh = RcuBox::new(Element::new(&self.census));
                let old = self.shared.boxes.insert(BOX_KEY, fresh).expect("the RcuBox slot is never empty");
                old.advance();
                drop(old); // freed through `call_rcu` after a grace period
            }
            WriterMode::Polled => {
                let (old, removed) = self.replace_boxed();
                let state = start_poll();
                let patience = self.rng.below(200);
                let mut polls = 0;
                while !state.poll() {
                    polls += 1;
                    if polls > patience {
                        state.wait();
                        break;
                    }
                    thread::yield_now();
                }
                self.grace_period_elapsed();
                // SAFETY: `old` still owns the element.
                unsafe { (*removed).advance() };
                old.defer_drop();
            }
        }
    }

    /// Publishes a new element in the `Box` slot with `replace`; returns the old one, moved to
    /// stage 1, and a pointer to it that stays valid as long as the `RcuOld` lives.
    fn replace_boxed(&mut self) -> (RcuOld<Box<Element>>, *const Element) {
        let removed = {
            let guard = read_lock();
            let current = self.shared.boxed.dereference(&guard).expect("the Box slot is never empty");
            // Only this thread reclaims elements, so the pointer outlives the guard.
            ptr::from_ref(current)
        };
        let fresh = Box::new(Element::new(&self.census));
        let old = self.boxed_for_update().replace(fresh);
        let old = old.expect("the Box slot is never empty");
        // SAFETY: `removed` is the element `old` owns (nothing else updates the slot), alive until
        // `old` reclaims it.
        unsafe { (*removed).advance() };
        (old, removed)
    }

    /// Called after every grace period the writer waited for: the elements it already owned were
    /// removed before that grace period started, so they age by one stage; the oldest are freed.
    fn grace_period_elapsed(&mut self) {
        for element in &self.aging {
            element.advance();
        }
        while self.aging.front().is_some_and(|e| e.stage() >= PIPE_LEN as u64) {
            self.aging.pop_front();
        }
    }
}

/// Reads both slots through `guard` and checks that neither element is poisoned.
fn read_slots<'g>(
    shared: &'g Shared,
    guard: &'g Guard,
    local: &mut PipeHistogram,
) -> [Option<&'g Element>; 2] {
    let elements = [shared.boxed.dereference(guard), shared.boxes.load_rcu(&BOX_KEY, guard)];
    for element in elements {
        // The writer never empties a slot: reading one as empty means reading freed memory
        // (an `RcuMap` table, say), which counts as reaching poison.
        if element.is_none_or(|e| e.observe().is_none()) {
            local.record_poison();
        }
    }
    elements
}

/// Records the stage each element is at now, at the end of the section that reached it.
fn record_stages(elements: [Option<&Element>; 2], local: &mut PipeHistogram) {
    for element in elements.into_iter().flatten() {
        match element.observe() {
            Some(stage) => local.record(stage),
            None => local.record_poison(),
        }
    }
}

/// Whether reader `index` of a run is a QSBR reader.
fn is_qsbr_reader(index: usize) -> bool {
    index % 2 == 1
}

/// One reader thread: reads both slots in nested sections with random delays until told to stop.
fn reader(shared: &Shared, mut rng: Rng) {
    let mut local = PipeHistogram::default();
    let mut sections = 0_u64;
    while !shared.stopped() {
        let outer = read_lock();
        let elements = read_slots(shared, &outer, &mut local);
        // Nested sections that end before the outer one must not end it.
        for _ in 0..rng.below(3) {
            drop(Guard::new());
        }
        let inner = rng.one_in(2).then(read_lock);
        delay(&mut rng);
        if rng.one_in(2) {
            drop(inner);
        }
        record_stages(elements, &mut local);
        drop(outer);
        sections += 1;
        if sections.is_multiple_of(1024) {
            shared.histogram.drain_from(&mut local);
        }
    }
    shared.histogram.drain_from(&mut local);
}

/// One QSBR reader thread: online, it reads both slots through its reader's guard with the same
/// random delays, records the stages before its next quiescent state (which comes after one to
/// three rounds of reading), and sometimes goes offline for a while.
fn qsbr_reader(shared: &Shared, mut rng: Rng) {
    let mut local = PipeHistogram::default();
    let mut qsbr = QsbrReader::register();
    let mut turns = 0_u64;
    while !shared.stopped() {
        for _ in 0..=rng.below(3) {
            let elements = read_slots(shared, qsbr.guard(), &mut local);
            // An ordinary section nested in the QSBR one must not end it.
            if rng.one_in(4) {
                drop(read_lock());
            }
            delay(&mut rng);
            record_stages(elements, &mut local);
        }
        qsbr.quiescent_state();
        turns += 1;
        if rng.one_in(256) {
            qsbr.while_offline(|| thread::sleep(Duration::from_micros(rng.below(200))));
        }
        if turns.is_multiple_of(1024) {
            shared.histogram.drain_from(&mut local);
        }
    }
    shared.histogram.drain_from(&mut local);
}

/// A random delay inside a read-side critical section: mostly a short spin, sometimes a yield,
/// rarely a sleep long enough that grace periods have to go to sleep waiting for it.
fn delay(rng: &mut Rng) {
    match rng.below(1024) {
        0 => thread::sleep(Duration::from_micros(50 + rng.below(200))),
        1..=15 => thread::yield_now(),
        _ => {
            for _ in 0..rng.below(64) {
                core::hint::spin_loop();
            }
        }
    }
}

/// One fake writer: grace periods, barriers and empty callbacks, at random, until told to stop.
fn fake_writer(shared: &Shared, mut rng: Rng) {
    while !shared.stopped() {
        match rng.below(6) {
            0 | 1 => synchronize_rcu(),
            2 => rcu_barrier(),
            3 => start_poll().wait(),
            4 => {
                let state = start_poll();
                while !state.poll() {
                    thread::yield_now();
                }
            }
            _ => defer_rcu(|| {}),
        }
        // Relaxed: statistics.
        shared.fake_writer_ops.fetch_add(1, Ordering::Relaxed);
        if rng.one_in(4) {
            thread::sleep(Duration::from_micros(rng.below(100)));
        }
    }
}

/// What a run saw.
#[derive(Clone, Debug)]
pub(crate) struct TortureReport {
    /// The configuration it ran with.
    pub(crate) config: TortureConfig,
    /// How long it took, teardown included.
    pub(crate) elapsed: Duration,
    /// What readers saw.
    pub(crate) histogram: PipeHistogram,
    /// Publications per writer mode, in [`WriterMode::ALL`] order.
    pub(crate) writes: [u64; WriterMode::ALL.len()],
    /// Operations of the fake writers.
    pub(crate) fake_writer_ops: u64,
    /// Elements created, dropped, and dropped twice.
    pub(crate) elements: (u64, u64, u64),
    /// Grace periods, callbacks run and callback panics during the run.
    pub(crate) grace_periods: u64,
    /// Callbacks run during the run.
    pub(crate) callbacks_run: u64,
    /// Callbacks that panicked during the run.
    pub(crate) callback_panics: u64,
    /// The barrier flavour the engine used.
    pub(crate) barrier_mode: BarrierMode,
    /// Whether freed memory was poisoned and quarantined.
    pub(crate) quarantine: bool,
    /// What the poisoning allocator saw during the run (zero when it is not installed).
    pub(crate) allocator: AllocCounters,
}

impl TortureReport {
    /// Everything that went wrong, one line each; empty for a passing run.
    pub(crate) fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let h = &self.histogram;
        if h.reads() == 0 {
            failures.push("the readers never read: nothing was tested".to_owned());
        }
        if h.poisoned > 0 {
            failures.push(format!("{} reads reached a freed (poisoned) element", h.poisoned));
        }
        if h.too_old() > 0 {
            failures.push(format!(
                "{} reads saw an element at pipe stage 2 or more: a grace period ended under a reader",
                h.too_old()
            ));
        }
        let (created, dropped, double) = self.elements;
        if created != dropped {
            failures.push(format!("{created} elements created but {dropped} dropped"));
        }
        if double > 0 {
            failures.push(format!("{double} elements dropped twice"));
        }
        if self.callback_panics > 0 {
            failures.push(format!("{} callbacks panicked", self.callback_panics));
        }
        if self.allocator.writes_after_free > 0 {
            failures.push(format!(
                "{} freed blocks were written to after free",
                self.allocator.writes_after_free
            ));
        }
        failures
    }
}

impl fmt::Display for TortureReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "rcutorture: {:.1?}, {} readers ({} QSBR), {} fake writers, {:?} barriers, quarantine {}, seed {}",
            self.elapsed,
            c.readers,
            (0..c.readers).filter(|&i| is_qsbr_reader(i)).count(),
            c.fake_writers,
            self.barrier_mode,
            if self.quarantine { "on" } else { "off" },
            c.seed
        )?;
        writeln!(f, "{}", self.histogram)?;
        let total: u64 = self.writes.iter().sum();
        f.write_str("writer:")?;
        for (mode, count) in WriterMode::ALL.iter().zip(self.writes) {
            write!(f, " {} {count},", mode.name())?;
        }
        writeln!(f, " {total} publications; fake writers: {} operations", self.fake_writer_ops)?;
        let (created, dropped, double) = self.elements;
        writeln!(f, "elements: {created} created, {dropped} freed, {double} freed twice")?;
        writeln!(
            f,
            "engine: {} grace periods, {} callbacks run, {} callback panics; allocator: {} poisoned frees, \
             {} writes after free",
            self.grace_periods,
            self.callbacks_run,
            self.callback_panics,
            self.allocator.poisoned_frees,
            self.allocator.writes_after_free
        )?;
        let failures = self.failures();
        if failures.is_empty() { write!(f, "SUCCESS") } else { write!(f, "FAILURE: {}", failures.join("; ")) }
    }
}

/// Runs the torture test described by `config` and reports what it saw.
///
/// Blocks for about `config.duration`. Runs in any process; one run at a time gives the clearest
/// statistics (the engine's counters are process-wide).
pub(crate) fn run(config: &TortureConfig) -> TortureReport {
    assert!(config.readers > 0, "a torture run needs at least one reader");
    let quarantine = poison_alloc::configure_from_env();
    let alloc_before = poison_alloc::counters();
    let before = stats();
    let started = Instant::now();
    let census = Arc::new(Census::default());
    let shared = Arc::new(Shared::new(&census));

    let spawn = |name: String, body: Box<dyn FnOnce() + Send>| {
        thread::Builder::new().name(name).spawn(body).expect("cannot spawn a torture thread")
    };
    let mut others = Vec::new();
    for i in 0..config.readers {
        let (shared, rng) = (Arc::clone(&shared), Rng::new(config.seed ^ (i as u64 + 1)));
        let body: Box<dyn FnOnce() + Send> = if is_qsbr_reader(i) {
            Box::new(move || qsbr_reader(&shared, rng))
        } else {
            Box::new(move || reader(&shared, rng))
        };
        others.push(spawn(format!("torture-reader-{i}"), body));
    }
    for i in 0..config.fake_writers {
        let (shared, rng) = (Arc::clone(&shared), Rng::new(config.seed ^ (1000 + i as u64)));
        others.push(spawn(format!("torture-fake-writer-{i}"), Box::new(move || fake_writer(&shared, rng))));
    }
    let writer = {
        let (shared, census, seed) = (Arc::clone(&shared), Arc::clone(&census), config.seed);
        let (duration, min_per_mode) = (config.duration, config.min_per_mode);
        spawn(
            "torture-writer".to_owned(),
            Box::new(move || Writer::new(shared, census, seed).run(duration, min_per_mode)),
        )
    };

    if let Some(every) = config.progress_every {
        let mut next = started + every;
        while !writer.is_finished() {
            thread::sleep(Duration::from_millis(20));
            if Instant::now() >= next {
                next += every;
                print_progress(&shared, started, &before);
            }
        }
    }
    let writer_result = writer.join();
    // The writer sets `stop` when it finishes; if it panicked, stop the others here.
    shared.stop.store(true, Ordering::Relaxed);
    let mut panicked: Vec<_> = others.into_iter().filter_map(|t| t.join().err()).collect();
    if let Err(payload) = writer_result {
        panicked.insert(0, payload);
    }
    if let Some(payload) = panicked.into_iter().next() {
        std::panic::resume_unwind(payload);
    }

    let shared = Arc::into_inner(shared).expect("every thread of the run has ended");
    let histogram = shared.histogram.snapshot();
    let writes = shared.writes.each_ref().map(|w| w.load(Ordering::Relaxed));
    let fake_writer_ops = shared.fake_writer_ops.load(Ordering::Relaxed);
    drop(shared); // the last published elements: after a grace period, and through `call_rcu`
    rcu_barrier();
    // The worker counts a batch after running all of it; the second barrier's marker runs in a
    // later batch, so the counters include every callback of the run when it returns.
    rcu_barrier();
    poison_alloc::flush();
    let after = stats();
    let alloc_after = poison_alloc::counters();
    TortureReport {
        config: config.clone(),
        elapsed: started.elapsed(),
        histogram,
        writes,
        fake_writer_ops,
        elements: census.counts(),
        grace_periods: after.grace_periods - before.grace_periods,
        callbacks_run: after.callbacks_run - before.callbacks_run,
        callback_panics: after.callback_panics - before.callback_panics,
        barrier_mode: after.barrier_mode,
        quarantine,
        allocator: AllocCounters {
            poisoned_frees: alloc_after.poisoned_frees - alloc_before.poisoned_frees,
            writes_after_free: alloc_after.writes_after_free - alloc_before.writes_after_free,
        },
    }
}

/// One progress line for long runs.
fn print_progress(shared: &Shared, started: Instant, before: &Stats) {
    let now = stats();
    let writes: u64 = shared.writes.iter().map(|w| w.load(Ordering::Relaxed)).sum();
    println!(
        "rcutorture: {:>6.1?} {} | {} publications | {} grace periods | {} callbacks run, {} pending",
        started.elapsed(),
        shared.histogram.snapshot(),
        writes,
        now.grace_periods - before.grace_periods,
        now.callbacks_run - before.callbacks_run,
        now.callbacks_pending
    );
}
