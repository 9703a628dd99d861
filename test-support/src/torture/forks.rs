//! `fork()` during a torture run: a forker thread forks a child at random moments, in one of two
//! ways, and checks what became of it.
//!
//! - **Quiet**: the forker first pauses the readers and the writer ([`Pause`]) at points where
//!   they are outside any section (QSBR readers offline), forks, and lets them go on at once.
//!   No section is open at the fork, so the child's grace periods wait for nobody: the child
//!   reads both slots, runs `synchronize_rcu`, a polled grace period, a `defer_rcu` callback and
//!   `rcu_barrier` (which also runs the callbacks the parent had queued, the worker's in-flight
//!   batch included), and reads again. Each wait must end within the run's wait limit.
//! - **Busy**: the forker forks while everyone runs. Sections open on other threads at the fork
//!   never end in the child, and hold its grace periods for good (the runtime's documented,
//!   sound behaviour: borrows taken under them may live on in the child's memory). So this child
//!   only reads, a few times, through guards of its own, and exits without waiting for a grace
//!   period.
//!
//! The fake writers are never paused: children are forked in the middle of their grace periods,
//! barriers and callbacks. The child reports through a pipe ([`crate::child`]); the parent waits
//! for it for at most the wait limit, and a child that failed, died or hung fails the run.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{defer_rcu, rcu_barrier, start_poll, synchronize_rcu};

use super::readers::read_in_child;
use super::stress::Shared;
use super::waits::Wait;
use crate::child::{Outcome, Reporter, spawn_child};
use crate::rng::Rng;
use crate::sync::{Condvar, Mutex, MutexGuard};

/// The threads that pause for a quiet fork, and the forker's request.
///
/// Each participant (reader or writer) calls [`Pause::point`] where it is outside any section,
/// and [`Pause::leave`] when it stops; the forker calls [`Pause::hold`], forks, then
/// [`Pause::release`].
pub(super) struct Pause {
    /// Set while the forker wants everyone paused; read without the lock on the fast path.
    requested: AtomicBool,
    state: Mutex<PauseState>,
    changed: Condvar,
}

struct PauseState {
    /// Participants still running their loops.
    active: usize,
    /// Participants waiting in [`Pause::point`].
    paused: usize,
    /// Incremented by every release, so that a participant waits for the end of its own pause.
    generation: u64,
}

impl Pause {
    /// A pause for `participants` threads.
    pub(super) fn new(participants: usize) -> Self {
        Self {
            requested: AtomicBool::new(false),
            state: Mutex::new(PauseState { active: participants, paused: 0, generation: 0 }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PauseState> {
        self.state.lock()
    }

    /// Whether the forker asks the participants to pause.
    pub(super) fn requested(&self) -> bool {
        // Relaxed: a hint for the fast path; `point` looks again under the lock.
        self.requested.load(Ordering::Relaxed)
    }

    /// A participant's pause point: returns at once, or after the forker's fork if it asked
    /// for a pause.
    pub(super) fn point(&self) {
        if !self.requested() {
            return;
        }
        let mut state = self.lock();
        // Under the lock: `release` clears the request under it too.
        if !self.requested.load(Ordering::Relaxed) {
            return;
        }
        let generation = state.generation;
        state.paused += 1;
        self.changed.notify_all();
        while state.generation == generation {
            state = self.changed.wait(state);
        }
        state.paused -= 1;
    }

    /// A participant stops for good (the forker no longer waits for it).
    pub(super) fn leave(&self) {
        self.lock().active -= 1;
        self.changed.notify_all();
    }

    /// The forker: asks for a pause and returns once every participant still running is paused.
    pub(super) fn hold(&self) {
        let mut state = self.lock();
        self.requested.store(true, Ordering::Relaxed);
        while state.paused < state.active {
            state = self.changed.wait(state);
        }
    }

    /// The forker: lets the paused participants go on.
    pub(super) fn release(&self) {
        let mut state = self.lock();
        self.requested.store(false, Ordering::Relaxed);
        state.generation += 1;
        self.changed.notify_all();
    }
}

/// What the forks of a run came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForkSummary {
    /// Quiet forks (readers paused; the child waited for grace periods and a barrier).
    pub quiet: u64,
    /// Busy forks (readers running; the child only read).
    pub busy: u64,
    /// Children that failed, died or hung.
    pub failed: u64,
    /// What became of the first child that did not pass.
    pub first_failure: Option<String>,
}

impl fmt::Display for ForkSummary {
    /// `forks: 9 quiet (…), 7 busy (…), 0 failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "forks: {} quiet (readers paused; the child read, synchronized, polled and ran rcu_barrier), \
             {} busy (readers inside sections; the child read only), {} failed",
            self.quiet, self.busy, self.failed
        )?;
        if let Some(first) = &self.first_failure {
            write!(f, " (first: {first})")?;
        }
        Ok(())
    }
}

/// The forks' counters, shared by the forker and the report.
#[derive(Default)]
pub(super) struct ForkCounts {
    quiet: AtomicU64,
    busy: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl ForkCounts {
    /// What the forks came to so far.
    pub(super) fn summary(&self) -> ForkSummary {
        // Relaxed: statistics, read after the forker is joined.
        ForkSummary {
            quiet: self.quiet.load(Ordering::Relaxed),
            busy: self.busy.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            first_failure: self.first_failure.lock().clone(),
        }
    }

    fn record(&self, quiet: bool, outcome: Outcome) {
        let kind = if quiet { &self.quiet } else { &self.busy };
        kind.fetch_add(1, Ordering::Relaxed);
        if outcome != Outcome::Passed {
            self.failed.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_failure.lock();
            let kind = if quiet { "quiet" } else { "busy" };
            first.get_or_insert_with(|| format!("{kind} fork: {outcome:?}"));
        }
    }
}

/// The forker thread: forks every `every` on average (quiet or busy, at random) until the run
/// stops. `slot` is its slot in the run's waits.
pub(super) fn forker(shared: &Shared, every: Duration, mut rng: Rng, slot: usize) {
    let limit = shared.waits.limit();
    loop {
        // Between half and one and a half times `every`, looking at the stop flag meanwhile.
        let interval = every.mul_f64(0.5 + rng.below(1000) as f64 / 1000.0);
        let deadline = Instant::now() + interval;
        while !shared.stopped() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5).min(interval));
        }
        if shared.stopped() {
            return;
        }
        let quiet = rng.one_in(2);
        if quiet {
            shared.waits.timed(slot, Wait::Pause, || shared.pause.hold());
        }
        // SAFETY: the child runs `check_quiet` or `check_busy` alone. They use the runtime,
        // whose fork handlers keep its state consistent; the poisoning allocator, which holds its
        // quarantine's lock across the fork; the run's shared state, a copy of the parent's
        // memory that nothing in the child writes except through the runtime (callbacks freeing
        // elements); and the pipe. They take no other lock that a parent thread may hold at the
        // fork (no printing).
        let child = unsafe {
            spawn_child(
                |reporter| if quiet { check_quiet(shared, reporter, limit) } else { check_busy(shared) },
            )
        };
        if quiet {
            shared.pause.release();
        }
        let outcome = shared.waits.timed(slot, Wait::Child, || child.wait(limit));
        shared.forks.record(quiet, outcome);
    }
}

/// In a busy child: reads only (sections open at the fork hold its grace periods for good).
fn check_busy(shared: &Shared) -> Result<(), String> {
    read_in_child(shared, 3)
}

/// In a quiet child: reads, waits for grace periods and a barrier, reads again.
fn check_quiet(shared: &Shared, reporter: &Reporter, limit: Duration) -> Result<(), String> {
    reporter.line("read");
    read_in_child(shared, 2)?;
    timed_in_child(reporter, "synchronize_rcu", limit, synchronize_rcu)?;
    timed_in_child(reporter, "start_poll().wait()", limit, || start_poll().wait())?;
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    // SeqCst, both: `rcu_barrier` orders the callback before its return; this is the check.
    timed_in_child(reporter, "defer_rcu", limit, || defer_rcu(move || flag.store(true, Ordering::SeqCst)))?;
    timed_in_child(reporter, "rcu_barrier", limit, rcu_barrier)?;
    if !ran.load(Ordering::SeqCst) {
        return Err("rcu_barrier returned before a callback queued before it ran".to_owned());
    }
    reporter.line("read again");
    read_in_child(shared, 2)
}

/// Runs `wait` in a child, after a progress line; an error if it took longer than `limit`.
fn timed_in_child(
    reporter: &Reporter,
    what: &str,
    limit: Duration,
    wait: impl FnOnce(),
) -> Result<(), String> {
    reporter.line(what);
    let started = Instant::now();
    wait();
    let took = started.elapsed();
    if took > limit {
        Err(format!("{what} took {took:.1?}, more than the limit of {limit:?}"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::liveness::{HANG, join_within, wait_until};

    #[test]
    fn participants_stay_paused_from_hold_to_release_and_those_that_left_are_not_waited_for() {
        let pause = Arc::new(Pause::new(3));
        let stop = Arc::new(AtomicBool::new(false));
        let steps: Arc<[AtomicU64; 2]> = Arc::new(Default::default());
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let (pause, stop, steps) = (Arc::clone(&pause), Arc::clone(&stop), Arc::clone(&steps));
                thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        pause.point();
                        steps[i].fetch_add(1, Ordering::Relaxed);
                    }
                    pause.leave();
                })
            })
            .collect();
        // The third participant stops at once: the forker must not wait for it.
        pause.leave();
        let snapshot = || steps.each_ref().map(|s| s.load(Ordering::Relaxed));
        for _ in 0..3 {
            let holder = Arc::clone(&pause);
            join_within(thread::spawn(move || holder.hold()), HANG, "hold");
            let held = snapshot();
            thread::sleep(Duration::from_millis(20));
            assert_eq!(snapshot(), held, "a participant moved while paused");
            pause.release();
            wait_until(HANG, "the participants did not go on after release", || {
                snapshot().iter().zip(held).all(|(&now, then)| now > then)
            });
        }
        stop.store(true, Ordering::Relaxed);
        for thread in threads {
            join_within(thread, HANG, "a participant");
        }
        join_within(thread::spawn(move || pause.hold()), HANG, "hold with every participant gone");
    }
}
