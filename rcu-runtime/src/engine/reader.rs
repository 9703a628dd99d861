//! The per-thread reader counter and the read-side protocol on it.
//!
//! Each registered thread owns one [`ReaderNode`]. Its counter holds the nesting depth of the
//! thread's read-side critical sections in the low half and, while the depth is non-zero, the
//! grace-period *phase* that was current when the outermost section began in the high half. The
//! read side touches the counter with plain (Relaxed) loads and stores: only its own thread ever
//! writes it, and the grace-period code only reads it. The [light fences](crate::membarrier)
//! around the outermost update pair with the grace period's heavy fences.
//!
//! The global counter also carries the barrier flavour ([`FENCES_BIT`]), and the reader's counter
//! copies it at the outermost `lock`: entering and leaving a section learn which fence to issue
//! from values they load anyway, instead of loading the flavour from a static (measured: about
//! a fifth of an uncontended section).

use super::domain::Domain;
use super::membarrier::{light_fence, light_fenced};
use super::sync::{AtomicBool, AtomicUsize, GP_LOOK, Ordering, READER_END};

/// One level of nesting.
pub(crate) const NEST_ONE: usize = 1;
/// The phase bit of the global grace-period counter.
pub(crate) const PHASE_BIT: usize = 1 << (usize::BITS / 2);
/// The nesting depth part of a counter.
pub(crate) const NEST_MASK: usize = PHASE_BIT - 1;
/// Set in the global counter, and so in the counter of every reader inside a section, when the
/// grace period cannot use membarrier and readers must issue full fences.
pub(crate) const FENCES_BIT: usize = PHASE_BIT << 1;
/// One quiescent state passed inside a QSBR reader's section (the bits from here up count them,
/// wrapping; the global counter keeps them zero, so ordinary sections never count any).
///
/// The count wraps, and that is safe: a grace period stops waiting for a QSBR reader when the
/// count differs from its first look, so a count that wrapped all the way round between two
/// looks (2^30 quiescent states in one grace period) only makes it wait longer.
pub(crate) const QS_ONE: usize = FENCES_BIT << 1;
/// The quiescent-state count of a counter.
const QS_MASK: usize = !(QS_ONE - 1);
/// The counter of the [unregistered](ReaderNode::unregistered) reader: depth 0 (so it is never
/// inside a section) but not the idle counter of a registered reader, which is exactly 0.
const UNREGISTERED: usize = QS_ONE;

/// What the grace-period code sees when it looks at one reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReaderState {
    /// Not inside a critical section.
    Idle,
    /// Inside a critical section that began in the current phase.
    ActiveCurrent,
    /// Inside a critical section that began in the previous phase: must be waited for.
    ActiveOld,
    /// Inside a QSBR section that passed a quiescent state since the grace period first looked:
    /// whatever section was open then has ended.
    Quiesced,
}

/// A registered reader: one per thread that has ever entered a read-side critical section.
///
/// # Invariants
///
/// `ctr` is written only by the owning thread (and, once that thread can no longer run RCU code,
/// by its deregistration, which clears it); the unregistered reader's is never written.
/// `ctr & NEST_MASK` is the nesting depth, and a registered reader outside any section has
/// `ctr == 0`; when the depth is non-zero, `ctr & PHASE_BIT` is the phase that was current at the outermost `lock`,
/// `ctr & FENCES_BIT` is set if and only if the domain's readers use full fences, and the bits
/// from [`QS_ONE`] up count (wrapping) the quiescent states passed since the outermost `lock`.
#[repr(align(128))] // A cache line pair of its own: readers never share a line with each other.
pub struct ReaderNode {
    ctr: AtomicUsize,
    thread_name: Option<String>,
    thread_id: i64,
    /// Set in a forked child for a reader of a thread that does not exist there, whose section
    /// was open at the fork and so never ends (see `fork.rs`); for stall reports.
    orphaned: AtomicBool,
}

impl ReaderNode {
    /// Creates an idle reader for the given thread.
    pub fn new(thread_name: Option<String>, thread_id: i64) -> Self {
        // INVARIANT: depth 0, so the phase half is meaningless.
        Self { ctr: AtomicUsize::new(0), thread_name, thread_id, orphaned: AtomicBool::new(false) }
    }

    /// The never-registered reader that every thread's reader pointer starts at: its counter
    /// says "no section, not registered" and is never written, so the first `enter` on a thread
    /// finds out it must register without a separate check (see `thread.rs`).
    #[cfg(not(loom))]
    pub(crate) const fn unregistered() -> Self {
        Self {
            ctr: AtomicUsize::new(UNREGISTERED),
            thread_name: None,
            thread_id: 0,
            orphaned: AtomicBool::new(false),
        }
    }

    /// Enters a read-side critical section (possibly nested); returns `false`, changing nothing,
    /// if this is the [unregistered](ReaderNode::unregistered) reader.
    ///
    /// # Panics
    ///
    /// When the sections are nested `NEST_MASK` deep already (see [`nesting_overflow`]).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn enter(&self, domain: &Domain) -> bool {
        // Relaxed: only this thread writes `ctr`.
        let ctr = self.ctr.load(Ordering::Relaxed);
        if ctr == 0 {
            // Relaxed: a stale phase is harmless, because the grace period waits through two
            // phase flips (see `Domain::run_grace_period`).
            let gp = domain.gp_ctr.load(Ordering::Relaxed);
            // INVARIANT: `gp` has depth 1, the current phase and the barrier flavour.
            self.ctr.store(gp, Ordering::Relaxed);
            // Orders the counter store before the critical section's loads; pairs with the heavy
            // fence the grace period issues before it reads this counter.
            light_fence(gp & FENCES_BIT != 0);
            return true;
        }
        let depth = ctr & NEST_MASK;
        if depth == 0 {
            // Not a registered reader's counter: `UNREGISTERED`.
            return false;
        }
        if depth == NEST_MASK {
            nesting_overflow();
        }
        // INVARIANT: one more level, same phase; the check above keeps the depth from wrapping
        // to zero (which would make the reader look idle while its borrows live).
        self.ctr.store(ctr + NEST_ONE, Ordering::Relaxed);
        true
    }

    /// Enters a read-side critical section (possibly nested) on a registered reader.
    #[inline(always)]
    #[track_caller]
    pub fn lock(&self, domain: &Domain) {
        let entered = self.enter(domain);
        debug_assert!(entered, "lock on a reader that is not registered");
    }

    /// Leaves a read-side critical section; does nothing on a reader that is not inside one
    /// (the unregistered reader, which a thread's reader pointer returns to when its
    /// registration is torn down at thread exit).
    #[inline(always)]
    pub fn unlock(&self, domain: &Domain) {
        let ctr = self.ctr.load(Ordering::Relaxed);
        let depth = ctr & NEST_MASK;
        if depth == NEST_ONE {
            // The first fence orders the critical section's accesses before the counter store
            // (pairs with the heavy fence the grace period issues after it saw this reader idle);
            // the second orders the store before reading the waker state (pairs with the heavy
            // fence the grace period issues after announcing it will sleep, see
            // `GpWaker::prepare_wait`).
            // INVARIANT: idle: 0, which `enter` recognises with one comparison.
            light_fenced(ctr & FENCES_BIT != 0, || self.ctr.store(0, READER_END));
            domain.waker.wake_if_waiting();
        } else {
            self.unlock_nested(ctr);
        }
    }

    /// [`ReaderNode::unlock`] of an inner section (or of no section), kept out of line so that
    /// leaving the outermost section, by far the most common case, falls straight through.
    #[cold]
    #[inline(never)]
    fn unlock_nested(&self, ctr: usize) {
        if ctr & NEST_MASK != 0 {
            // INVARIANT: one level less, same phase.
            self.ctr.store(ctr - NEST_ONE, Ordering::Relaxed);
        }
    }

    /// Reports a quiescent state of a QSBR reader, which stays inside its section: the section
    /// that was open ends, and a new one begins, with one counter store.
    ///
    /// A grace period that sees the count change knows the reader ended, after the grace period
    /// began, every section it had open then; unlike leaving and re-entering, this needs no phase
    /// flip to be recognised, so one quiescent state per grace period suffices.
    #[inline(always)]
    pub fn quiescent_state(&self, domain: &Domain) {
        let ctr = self.ctr.load(Ordering::Relaxed);
        debug_assert!(ctr & NEST_MASK == NEST_ONE, "a quiescent state outside a QSBR section");
        // The first fence orders the ending section's accesses before the store (pairs with the
        // heavy fence the grace period issues once it saw the count change); the second orders
        // the store before the new section's loads and the waker check (pairs with the heavy
        // fence before the grace period's first look at the count, and with the one after
        // `GpWaker::prepare_wait`).
        // INVARIANT: same depth, phase and flavour; one more quiescent state.
        light_fenced(ctr & FENCES_BIT != 0, || self.ctr.store(ctr.wrapping_add(QS_ONE), READER_END));
        domain.waker.wake_if_waiting();
    }

    /// The quiescent-state count, for a grace period's first look at this reader.
    pub(crate) fn quiescent_states(&self) -> usize {
        // Relaxed: the grace period issued a heavy fence just before.
        self.ctr.load(GP_LOOK) & QS_MASK
    }

    /// Whether the owning thread is inside a critical section. Only meaningful on that thread.
    #[inline]
    pub fn is_reading(&self) -> bool {
        self.ctr.load(Ordering::Relaxed) & NEST_MASK != 0
    }

    /// Switches a section that is open on this thread to full fences, after the domain did
    /// ([`Domain::use_reader_fences`]). Only for the owning thread, when no other thread runs: in
    /// a forked child.
    #[cfg(not(loom))]
    pub(crate) fn use_fences(&self) {
        // Relaxed: only this thread writes `ctr`, and it is the only thread of the process.
        let ctr = self.ctr.load(Ordering::Relaxed);
        if ctr & NEST_MASK != 0 {
            // INVARIANT: the domain's readers now use full fences.
            self.ctr.store(ctr | FENCES_BIT, Ordering::Relaxed);
        }
    }

    /// Marks the reader idle for good: its thread is exiting and will run no more RCU code.
    pub(crate) fn retire(&self, domain: &Domain) {
        // Release: the exiting thread's accesses happen before a grace period that sees it idle
        // (that grace period's loads are followed by a fence, so this pairs with it like `unlock`).
        self.ctr.store(0, Ordering::Release);
        super::sync::fence(Ordering::SeqCst);
        domain.waker.wake_if_waiting();
    }

    /// Classifies the reader against the global counter value `gp` and the quiescent-state count
    /// `seen` at the grace period's first look.
    pub(crate) fn state(&self, gp: usize, seen: usize) -> ReaderState {
        // Relaxed: the grace period brackets these loads with heavy fences.
        let ctr = self.ctr.load(GP_LOOK);
        if ctr & NEST_MASK == 0 {
            ReaderState::Idle
        } else if ctr & QS_MASK != seen {
            ReaderState::Quiesced
        } else if (ctr ^ gp) & PHASE_BIT == 0 {
            ReaderState::ActiveCurrent
        } else {
            ReaderState::ActiveOld
        }
    }

    /// The reader thread's name, for stall reports.
    pub(crate) fn thread_name(&self) -> Option<&str> {
        self.thread_name.as_deref()
    }

    /// In a forked child, for a reader of a thread that does not exist there: whether its
    /// section was open at the fork (it then never ends here, and is marked so for stall
    /// reports).
    #[cfg(not(loom))]
    pub(crate) fn orphan_if_reading(&self) -> bool {
        let reading = self.is_reading();
        // Relaxed: only this thread exists in the child.
        self.orphaned.store(reading, Ordering::Relaxed);
        reading
    }

    /// Whether this reader's thread does not exist in this (forked) process.
    pub(crate) fn is_orphaned(&self) -> bool {
        // Relaxed: set before any other thread of the child exists.
        self.orphaned.load(Ordering::Relaxed)
    }

    /// The reader thread's OS id, for stall reports.
    pub(crate) fn thread_id(&self) -> i64 {
        self.thread_id
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ctr(node: &ReaderNode) -> usize {
        node.ctr.load(Ordering::Relaxed)
    }

    #[test]
    fn nesting_as_deep_as_the_counter_holds_panics_and_changes_nothing() {
        let domain = Domain::new();
        let node = ReaderNode::new(None, 0);
        node.lock(&domain);
        // As deep as forgotten guards can make it: the depth at its highest value.
        let deepest = ctr(&node) & !NEST_MASK | NEST_MASK;
        node.ctr.store(deepest, Ordering::Relaxed);
        let one_more = std::panic::catch_unwind(|| node.lock(&domain));
        assert!(one_more.is_err(), "one more level must panic, not wrap to zero");
        assert_eq!(ctr(&node), deepest, "the counter is unchanged");
        assert_eq!(node.state(domain.gp_ctr.load(Ordering::Relaxed), 0), ReaderState::ActiveCurrent);
        node.ctr.store(ctr(&node) & !NEST_MASK | NEST_ONE, Ordering::Relaxed);
        node.unlock(&domain);
        assert!(!node.is_reading());
    }

    #[test]
    fn sections_copy_the_barrier_flavour_from_the_global_counter() {
        let domain = Domain::new();
        let node = ReaderNode::new(None, 0);
        node.lock(&domain);
        assert_eq!(ctr(&node) & FENCES_BIT, 0, "membarrier flavour: no full fences");
        node.unlock(&domain);

        domain.use_reader_fences();
        assert!(domain.readers_use_fences());
        node.lock(&domain);
        node.lock(&domain);
        assert_eq!(ctr(&node) & (FENCES_BIT | NEST_MASK), FENCES_BIT | 2, "nesting keeps the flavour");
        node.unlock(&domain);
        node.unlock(&domain);
        assert_eq!(ctr(&node) & NEST_MASK, 0);
        assert_eq!(node.state(domain.gp_ctr.load(Ordering::Relaxed), 0), ReaderState::Idle);
    }

    #[test]
    fn a_section_open_across_the_switch_to_fences_is_switched_too() {
        let domain = Domain::new();
        let node = ReaderNode::new(None, 0);
        node.use_fences();
        assert_eq!(ctr(&node), 0, "an idle reader picks the flavour up at its next section");
        node.lock(&domain);
        domain.use_reader_fences();
        node.use_fences();
        assert_ne!(ctr(&node) & FENCES_BIT, 0);
        let gp = domain.gp_ctr.load(Ordering::Relaxed);
        assert_eq!(node.state(gp, 0), ReaderState::ActiveCurrent, "the phase is unchanged");
        node.unlock(&domain);
        assert_eq!(ctr(&node) & NEST_MASK, 0);
    }

    #[test]
    fn a_quiescent_state_is_seen_as_such_and_keeps_the_section_open() {
        let domain = Domain::new();
        let node = ReaderNode::new(None, 0);
        node.lock(&domain);
        let gp = domain.gp_ctr.load(Ordering::Relaxed);
        let seen = node.quiescent_states();
        assert_eq!(node.state(gp, seen), ReaderState::ActiveCurrent);
        node.quiescent_state(&domain);
        assert!(node.is_reading(), "still inside the QSBR section");
        assert_eq!(node.state(gp, seen), ReaderState::Quiesced);
        assert_eq!(node.state(gp ^ PHASE_BIT, seen), ReaderState::Quiesced, "whatever the phase");
        assert_eq!(ctr(&node) & (NEST_MASK | PHASE_BIT | FENCES_BIT), gp & (PHASE_BIT | FENCES_BIT) | 1);
        node.unlock(&domain);
        assert_eq!(node.state(gp, seen), ReaderState::Idle);
    }

    #[test]
    fn the_quiescent_state_count_wraps_without_touching_the_rest() {
        let domain = Domain::new();
        domain.use_reader_fences();
        let node = ReaderNode::new(None, 0);
        node.lock(&domain);
        let below = ctr(&node) & !QS_MASK;
        node.ctr.store(QS_MASK | below, Ordering::Relaxed); // the count at its highest value
        node.quiescent_state(&domain);
        assert_eq!(ctr(&node), below, "the count wrapped to zero, depth, phase and flavour kept");
        node.unlock(&domain);
    }
}

/// Refuses a read-side section nested `NEST_MASK` deep on one thread (guards forgotten with
/// `mem::forget`, or kept by the billion): one more level would wrap the depth to zero and make
/// the reader look idle to grace periods while its borrows live. Nothing has changed yet when
/// this panics, so unwinding (and dropping the guards the caller holds) is consistent.
#[cold]
#[inline(never)]
#[track_caller]
fn nesting_overflow() -> ! {
    panic!(
        "rcu-runtime: read-side critical sections nested {NEST_MASK} deep on one thread (guards \
         forgotten with mem::forget, or kept by the billion); one more would wrap the nesting \
         count and end the section while its borrows live"
    )
}
