//! The reader threads of a torture run: ordinary readers in nested sections (sometimes nested 2
//! to 64 deep) and QSBR readers between quiescent states. Both check that nothing they reach is
//! poisoned and record the pipe stage of what they read at the end of the section.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use rcu_runtime::{Guard, QsbrReader, read_lock};

use super::element::Element;
use super::histogram::PipeHistogram;
use super::stress::{BOX_KEY, Shared};
use crate::rng::Rng;

/// The deepest section a reader takes (the outer one included).
pub(super) const DEEPEST: u64 = 64;

/// What readers count besides the histogram, kept per thread and added to [`ReadCounts`] from
/// time to time.
#[derive(Default)]
struct LocalCounts {
    histogram: PipeHistogram,
    deep_sections: u64,
    deepest: u64,
    links: u64,
}

/// What all readers counted besides the histogram.
#[derive(Default)]
pub(super) struct ReadCounts {
    /// Sections that nested at least 2 deep through [`nest`].
    pub(super) deep_sections: AtomicU64,
    /// The deepest nesting reached.
    pub(super) deepest: AtomicU64,
    /// Links (nested `Rcu`s) read.
    pub(super) links: AtomicU64,
}

impl LocalCounts {
    /// Adds everything to `shared` and clears it.
    fn drain_into(&mut self, shared: &Shared) {
        shared.histogram.drain_from(&mut self.histogram);
        let counts = &shared.read_counts;
        // Relaxed: statistics, read after the readers are joined (or for progress only).
        counts.deep_sections.fetch_add(self.deep_sections, Ordering::Relaxed);
        counts.deepest.fetch_max(self.deepest, Ordering::Relaxed);
        counts.links.fetch_add(self.links, Ordering::Relaxed);
        *self = Self::default();
    }
}

/// Reads both slots through `guard`, and the links of what it found; checks that nothing is
/// poisoned.
fn read_slots<'g>(shared: &'g Shared, guard: &'g Guard, local: &mut LocalCounts) -> [Option<&'g Element>; 2] {
    let elements = [shared.boxed.dereference(guard), shared.boxes.load_rcu(&BOX_KEY, guard)];
    for element in elements {
        // The writer never empties a slot: reading one as empty means reading freed memory
        // (an `RcuMap` table, say), which counts as reaching poison.
        match element {
            Some(e) if e.observe().is_some() => match e.walk_links(guard) {
                Some(links) => local.links += links,
                None => local.histogram.record_poison(),
            },
            _ => local.histogram.record_poison(),
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
pub(super) fn is_qsbr_reader(index: usize) -> bool {
    index % 2 == 1
}

/// Sections nested `depth` more levels inside the caller's: the innermost one reads both slots,
/// waits a random time and records the stages; then they end, innermost first.
fn nest(shared: &Shared, depth: u64, rng: &mut Rng, local: &mut LocalCounts) {
    let guard = read_lock();
    if depth > 1 {
        nest(shared, depth - 1, rng, local);
    } else {
        let elements = read_slots(shared, &guard, local);
        delay(rng);
        record_stages(elements, &mut local.histogram);
    }
}

/// One reader thread: reads both slots in nested sections with random delays until told to stop.
pub(super) fn reader(shared: &Shared, mut rng: Rng) {
    let mut local = LocalCounts::default();
    let mut sections = 0_u64;
    while !shared.stopped() {
        // Outside any section: the forker may pause the readers here.
        shared.pause.point();
        let outer = read_lock();
        let elements = read_slots(shared, &outer, &mut local);
        // Nested sections that end before the outer one must not end it.
        for _ in 0..rng.below(3) {
            drop(Guard::new());
        }
        // Now and then much deeper: 2 to 64 levels in all, with a read at the bottom.
        if rng.one_in(16) {
            let depth = 2 + rng.below(DEEPEST - 1);
            nest(shared, depth - 1, &mut rng, &mut local);
            local.deep_sections += 1;
            local.deepest = local.deepest.max(depth);
        }
        let inner = rng.one_in(2).then(read_lock);
        delay(&mut rng);
        if rng.one_in(2) {
            drop(inner);
        }
        record_stages(elements, &mut local.histogram);
        drop(outer);
        sections += 1;
        if sections.is_multiple_of(1024) {
            local.drain_into(shared);
        }
    }
    local.drain_into(shared);
    shared.pause.leave();
}

/// One QSBR reader thread: online, it reads both slots through its reader's guard with the same
/// random delays, records the stages before its next quiescent state (which comes after one to
/// three rounds of reading), and sometimes goes offline for a while.
pub(super) fn qsbr_reader(shared: &Shared, mut rng: Rng) {
    let mut local = LocalCounts::default();
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
            record_stages(elements, &mut local.histogram);
        }
        qsbr.quiescent_state();
        turns += 1;
        if rng.one_in(256) {
            qsbr.while_offline(|| thread::sleep(Duration::from_micros(rng.below(200))));
        }
        // An online QSBR reader is inside its section: it pauses offline, so that a child forked
        // meanwhile does not wait for it.
        if shared.pause.requested() {
            qsbr.while_offline(|| shared.pause.point());
        }
        if turns.is_multiple_of(1024) {
            local.drain_into(shared);
        }
    }
    local.drain_into(shared);
    shared.pause.leave();
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

/// What a forked child reads: both slots and their links, a few times, through guards of its
/// own; an error if anything is missing or poisoned.
pub(super) fn read_in_child(shared: &Shared, times: usize) -> Result<(), String> {
    for _ in 0..times {
        let guard = read_lock();
        let elements = [shared.boxed.dereference(&guard), shared.boxes.load_rcu(&BOX_KEY, &guard)];
        for (slot, element) in ["Box", "RcuBox"].into_iter().zip(elements) {
            let element = element.ok_or_else(|| format!("the {slot} slot reads as empty"))?;
            element.observe().ok_or_else(|| format!("the {slot} slot's element is poisoned"))?;
            element
                .walk_links(&guard)
                .ok_or_else(|| format!("a link of the {slot} slot's element is poisoned"))?;
        }
    }
    Ok(())
}
