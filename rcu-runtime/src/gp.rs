//! Grace periods: the wait for pre-existing readers, and the numbering that lets many callers
//! share one grace period and poll for its end.
//!
//! The wait follows liburcu's memb flavour. The global counter has a phase bit; a reader copies
//! the counter when it enters its outermost section. A grace period waits for every reader that
//! is inside a section begun before the grace period, which takes two phase flips: a reader may
//! have loaded the counter before a flip and stored it after, and would then look "current"
//! for one phase. Waiting until each reader is idle or has entered the *new* phase after each of
//! two flips catches it.
//!
//! QSBR readers stay inside one section and count their quiescent states in their counter. A
//! reader whose count changed since the grace period's first look (taken after the opening heavy
//! fence) has ended every section it had open then, so it is done at once, in either phase: one
//! quiescent state per grace period suffices, as in liburcu's 64-bit QSBR flavour.
//!
//! Grace periods are numbered like the kernel's `rcu_seq`: `seq` is twice the number of completed
//! grace periods, plus one while one is running. A caller that needs a grace period to start after
//! now and then finish waits until `seq` reaches [`GpSequence::snapshot`]; whoever finds no grace
//! period running leads the next one, for itself and for everyone waiting.

use std::time::Duration;

use crate::domain::Domain;
use crate::membarrier::heavy_fence;
use crate::reader::{PHASE_BIT, ReaderNode, ReaderState};
use crate::sync::{self, Arc, AtomicU64, Condvar, Mutex, Ordering, fence};

/// Spins before the grace period goes to sleep on the waker; loom gets few, to explore both.
#[cfg(not(loom))]
const SPIN_ATTEMPTS: u32 = 256;
#[cfg(loom)]
const SPIN_ATTEMPTS: u32 = 1;

/// How long one sleep lasts at most before the readers are checked again (stall reports need it).
const SLEEP_SLICE: Duration = Duration::from_millis(10);

/// Buffers reused by successive grace periods, so that a grace period allocates nothing.
#[derive(Default)]
struct Scratch {
    readers: Vec<Watched>,
    current: Vec<Watched>,
}

/// A reader a grace period waits for, with its quiescent-state count at the first look.
#[derive(Clone)]
struct Watched {
    reader: Arc<ReaderNode>,
    quiescent_states: usize,
}

/// The state behind the sequence lock.
pub(crate) struct SeqState {
    seq: u64,
    scratch: Option<Scratch>,
    /// Callers blocked on `done`: a grace period with none to wake makes no futex call.
    waiters: usize,
}

/// Grace-period numbering and the queue of callers waiting for one.
pub(crate) struct GpSequence {
    state: Mutex<SeqState>,
    done: Condvar,
    /// A copy of `state.seq` that polling reads without the lock.
    mirror: AtomicU64,
}

impl GpSequence {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            state: Mutex::new(SeqState { seq: 0, scratch: None, waiters: 0 }),
            done: Condvar::new(),
            mirror: AtomicU64::new(0),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(SeqState { seq: 0, scratch: None, waiters: 0 }),
            done: Condvar::new(),
            mirror: AtomicU64::new(0),
        }
    }

    /// The sequence value at which a grace period that starts after this call has completed.
    ///
    /// Taking the lock orders the caller's earlier updates before the start of any grace period
    /// that this snapshot does not wait through (that one's leader takes the lock after us).
    pub(crate) fn snapshot(&self) -> u64 {
        let seq = sync::lock(&self.state).seq;
        (seq + 3) & !1
    }

    /// Whether the grace period numbered by `target` has completed, without blocking.
    pub(crate) fn is_done(&self, target: u64) -> bool {
        // Acquire: pairs with the Release store at the end of `wait_for`, so the completed grace
        // period (and the end of the readers it waited for) happens before the caller goes on.
        self.mirror.load(Ordering::Acquire) >= target
    }

    /// The number of grace periods completed so far.
    pub(crate) fn completed(&self) -> u64 {
        self.mirror.load(Ordering::Relaxed) / 2
    }

    /// Waits until `seq >= target`, leading grace periods when none is running.
    pub(crate) fn wait_for(&self, domain: &Domain, target: u64) {
        let mut state = sync::lock(&self.state);
        loop {
            if state.seq >= target {
                return;
            }
            if state.seq & 1 == 0 {
                state.seq += 1;
                // Relaxed: an odd value only tells pollers "not yet".
                self.mirror.store(state.seq, Ordering::Relaxed);
                let mut scratch = state.scratch.take().unwrap_or_default();
                drop(state);
                domain.run_grace_period(&mut scratch);
                state = sync::lock(&self.state);
                state.scratch = Some(scratch);
                state.seq += 1;
                // Release: pairs with the Acquire load in `is_done`.
                self.mirror.store(state.seq, Ordering::Release);
                if state.waiters > 0 {
                    self.done.notify_all();
                }
            } else {
                state.waiters += 1;
                state = sync::wait(&self.done, state);
                state.waiters -= 1;
            }
        }
    }

    /// In a forked child: a grace period that another thread of the parent was running will
    /// never finish here; forget it (it did not complete, so the count goes back).
    #[cfg(not(loom))]
    pub(crate) fn forget_running(&self, state: &mut SeqState) {
        state.waiters = 0;
        if state.seq & 1 == 1 {
            state.seq -= 1;
            state.scratch = None;
            self.mirror.store(state.seq, Ordering::Relaxed);
        }
    }

    /// Locks the state, for the fork handlers.
    #[cfg(not(loom))]
    pub(crate) fn lock_state(&self) -> crate::sync::MutexGuard<'_, SeqState> {
        sync::lock(&self.state)
    }
}

impl Domain {
    /// Runs one grace period: returns once every reader that was inside a read-side critical
    /// section when it started has left that section.
    fn run_grace_period(&self, scratch: &mut Scratch) {
        {
            let registry = sync::lock(&self.registry);
            scratch.readers.clear();
            scratch.readers.extend(
                registry.iter().map(|reader| Watched { reader: Arc::clone(reader), quiescent_states: 0 }),
            );
        }
        // A reader that registers after the snapshot took the registry lock after us, so it
        // sees every update made before this grace period: it needs no waiting for.
        if scratch.readers.is_empty() {
            return;
        }
        // Orders the caller's updates (the unpublishing store) before the reads of the reader
        // counters; pairs with the light fence after each reader's counter store.
        heavy_fence();
        // The first look, after the fence: a later change of the count is a quiescent state
        // passed after the grace period began.
        for watched in &mut scratch.readers {
            watched.quiescent_states = watched.reader.quiescent_states();
        }
        self.wait_for_readers(&mut scratch.readers, Some(&mut scratch.current));
        // Finish observing the old phase before the flip becomes visible.
        fence(Ordering::SeqCst);
        // Relaxed: only the leader writes `gp_ctr`, and leaders are ordered by the sequence lock;
        // readers tolerate a stale value (two flips).
        let gp = self.gp_ctr.load(Ordering::Relaxed);
        self.gp_ctr.store(gp ^ PHASE_BIT, Ordering::Relaxed);
        // Make the flip visible before reading the counters again.
        fence(Ordering::SeqCst);
        self.wait_for_readers(&mut scratch.current, None);
        // Orders the readers' finished critical sections before what the caller does next (free
        // memory); pairs with the light fence before each reader's final counter store.
        heavy_fence();
        scratch.readers.clear();
        scratch.current.clear();
    }

    /// Waits until no reader in `readers` is inside a section of the previous phase.
    ///
    /// With `current`, readers already in the current phase are moved there (the caller waits for
    /// them after the flip); without it, they are done.
    fn wait_for_readers(&self, readers: &mut Vec<Watched>, mut current: Option<&mut Vec<Watched>>) {
        let mut attempts = 0_u32;
        let mut stall = StallClock::start();
        loop {
            let sleeping = attempts >= SPIN_ATTEMPTS;
            if sleeping {
                self.waker.prepare_wait();
                // Orders the announcement before the counter reads below; pairs with the light
                // fence between a reader's final counter store and its waker check.
                heavy_fence();
            }
            // Relaxed: only this thread (the leader) writes `gp_ctr`.
            let gp = self.gp_ctr.load(Ordering::Relaxed);
            readers.retain(|watched| match watched.reader.state(gp, watched.quiescent_states) {
                ReaderState::Idle | ReaderState::Quiesced => false,
                ReaderState::ActiveCurrent => match current.as_deref_mut() {
                    Some(current) => {
                        current.push(watched.clone());
                        false
                    }
                    None => false,
                },
                ReaderState::ActiveOld => true,
            });
            if readers.is_empty() {
                if sleeping {
                    self.waker.done_waiting();
                }
                return;
            }
            if sleeping {
                stall.check(readers);
                self.waker.sleep(SLEEP_SLICE);
            } else {
                attempts += 1;
                sync::spin_wait();
            }
        }
    }
}

/// Measures how long one wait has lasted and reports stalls, at most once per timeout period.
struct StallClock {
    #[cfg(not(loom))]
    start: std::time::Instant,
    #[cfg(not(loom))]
    next_report: Duration,
}

impl StallClock {
    fn start() -> Self {
        Self {
            #[cfg(not(loom))]
            start: std::time::Instant::now(),
            #[cfg(not(loom))]
            next_report: crate::config::stall_timeout(),
        }
    }

    #[cfg_attr(loom, expect(clippy::unused_self, reason = "loom has no clock"))]
    fn check(&mut self, readers: &[Watched]) {
        #[cfg(not(loom))]
        {
            let waited = self.start.elapsed();
            if waited < self.next_report {
                return;
            }
            self.next_report = waited + crate::config::stall_timeout();
            for Watched { reader, .. } in readers {
                let report = crate::config::StallReport {
                    waited,
                    thread_name: reader.thread_name().map(str::to_owned),
                    thread_id: reader.thread_id(),
                };
                // A panicking handler must not leave the grace period half done.
                let _ = std::panic::catch_unwind(|| crate::config::report_stall(&report));
            }
        }
        #[cfg(loom)]
        let _ = readers;
    }
}

#[cfg(not(loom))]
pub use api::*;

#[cfg(not(loom))]
mod api {
    use crate::engine::{domain, start};
    use crate::guard::assert_not_reading;

    /// Waits until every read-side critical section that began before this call has ended.
    ///
    /// After it returns, no reader can still hold a reference to anything that was unpublished
    /// before the call, so it may be freed. Concurrent callers share grace periods: one grace
    /// period started after all of them serves them all.
    ///
    /// # Panics
    ///
    /// Inside a read-side critical section on the same thread: the grace period would wait for
    /// the caller's own [`Guard`](crate::Guard), so the call would never return.
    ///
    /// ```
    /// use rcu_runtime::{synchronize_rcu, read_lock};
    ///
    /// synchronize_rcu(); // no reader: returns at once
    ///
    /// let reader = std::thread::spawn(|| {
    ///     let _g = read_lock();
    ///     std::thread::sleep(std::time::Duration::from_millis(10));
    /// });
    /// synchronize_rcu(); // waits for the reader if it had already entered its section
    /// reader.join().unwrap();
    /// ```
    #[track_caller]
    pub fn synchronize_rcu() {
        assert_not_reading("synchronize_rcu()");
        start();
        let d = domain();
        let target = d.seq.snapshot();
        d.seq.wait_for(d, target);
    }

    /// Starts a grace period (or joins one about to start) without waiting for it.
    ///
    /// The returned [`GpState`] tells when a full grace period has elapsed since this call. The
    /// callback worker drives the grace period in the background. May be called inside a
    /// read-side critical section.
    ///
    /// ```
    /// let state = rcu_runtime::start_poll();
    /// // ... do other work ...
    /// state.wait(); // or poll it: `state.poll()`
    /// ```
    pub fn start_poll() -> GpState {
        start();
        let target = domain().seq.snapshot();
        crate::worker::request_grace_period(target);
        GpState { target }
    }

    /// A grace period to wait for, from [`start_poll`].
    ///
    /// `Send` and `Sync`: it is a number, and grace periods are process-wide, so it may be polled
    /// or waited for on any thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let state: rcu_runtime::GpState = rcu_runtime::start_poll();
    /// state.wait();
    /// assert!(state.poll());
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[must_use = "a GpState does nothing unless polled or waited for"]
    pub struct GpState {
        target: u64,
    }

    impl GpState {
        /// Whether a full grace period has elapsed since [`start_poll`] returned this state.
        ///
        /// Never blocks. Once it returns `true`, every reader that was inside a critical section
        /// when `start_poll` was called has left it.
        ///
        /// # Examples
        ///
        /// ```
        /// let state = rcu_runtime::start_poll();
        /// while !state.poll() {
        ///     std::thread::yield_now(); // the callback worker drives the grace period
        /// }
        /// ```
        pub fn poll(&self) -> bool {
            domain().seq.is_done(self.target)
        }

        /// Waits until a full grace period has elapsed since [`start_poll`].
        ///
        /// # Panics
        ///
        /// When it would have to wait inside a read-side critical section on the same thread, as
        /// [`synchronize_rcu`]. (If the grace period has already elapsed, it returns at once.)
        ///
        /// # Examples
        ///
        /// ```
        /// let state = rcu_runtime::start_poll();
        /// state.wait(); // blocks until a full grace period has elapsed since start_poll
        /// assert!(state.poll());
        /// ```
        #[track_caller]
        pub fn wait(self) {
            if self.poll() {
                return;
            }
            assert_not_reading("GpState::wait()");
            let d = domain();
            d.seq.wait_for(d, self.target);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::thread;
    use std::time::{Duration, Instant};

    use super::*;

    /// How long the test waits for the grace period before it calls it a hang.
    const PATIENCE: Duration = Duration::from_secs(20);

    fn synchronize(domain: &Domain) {
        domain.seq.wait_for(domain, domain.seq.snapshot());
    }

    #[test]
    fn a_grace_period_ends_at_a_qsbr_readers_first_quiescent_state_in_either_phase() {
        let domain = Domain::new();
        let reader = Arc::new(ReaderNode::new(None, 0));
        // Online in the phase that the next grace period flips away from (as after registering
        // while a grace period ran): leaving and re-entering the section would then need two
        // quiescent states, one per phase; counting them needs one.
        reader.lock(&domain);
        domain.register(Arc::new(ReaderNode::new(None, 0))); // idle: the grace period runs, flips
        synchronize(&domain);
        domain.register(Arc::clone(&reader));

        let done = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                synchronize(&domain);
                done.store(true, Ordering::SeqCst);
            });
            thread::sleep(Duration::from_millis(50));
            let ended_early = done.load(Ordering::SeqCst);
            // A private domain: no other grace period runs, so this one began before the
            // quiescent state, which must end it with the reader still online.
            reader.quiescent_state(&domain);
            let patience = Instant::now() + PATIENCE;
            let ended = loop {
                if done.load(Ordering::SeqCst) {
                    break true;
                }
                if Instant::now() > patience {
                    break false;
                }
                thread::sleep(Duration::from_millis(1));
            };
            let still_online = reader.is_reading();
            reader.unlock(&domain); // lets a stuck grace period end: a failure must not hang
            assert!(!ended_early, "a grace period ended under an online reader");
            assert!(ended, "one quiescent state did not end the grace period");
            assert!(still_online);
        });
    }
}
