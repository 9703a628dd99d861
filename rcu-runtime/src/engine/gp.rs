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
//!
//! An updater that only needs to *remember* when it unpublished something takes a cookie with
//! [`GpSequence::get_state`] (the kernel's `get_state_synchronize_rcu`): a fence and a load, no
//! lock. Whoever completes a grace period also wakes the tasks that wait for it without blocking
//! a thread ([`GpSequence::poll_async`]): the waiter list lives behind the sequence lock, which
//! the leader holds anyway when it counts the grace period as completed.

use std::task::Waker;
use std::time::Duration;

use super::domain::Domain;
use super::membarrier::heavy_fence;
use super::reader::{PHASE_BIT, ReaderNode, ReaderState};
use super::sync::{self, Arc, AtomicU64, Condvar, Mutex, Ordering, fence};

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
    /// Tasks waiting for a grace period without blocking a thread.
    tasks: AsyncWaiters,
}

/// The tasks that wait for grace periods through [`GpSequence::poll_async`].
///
/// A plain list: one entry per waiting future, found by its id when the future is polled again
/// or dropped, drained by whoever completes a grace period. Linear scans are fine for the tens
/// or hundreds of tasks that wait at once; a grace period costs microseconds anyway.
struct AsyncWaiters {
    /// The id the next registration gets; ids are never reused (a `u64` does not wrap).
    next_id: u64,
    entries: Vec<AsyncWaiter>,
}

/// One waiting task: the sequence value it waits for and how to wake it.
struct AsyncWaiter {
    id: u64,
    target: u64,
    waker: Waker,
}

impl AsyncWaiters {
    /// Removes the entries whose grace period has completed (`target <= seq`), for waking.
    fn take_ready(&mut self, seq: u64) -> Vec<Waker> {
        let mut ready = Vec::new();
        let mut i = 0;
        while i < self.entries.len() {
            if self.entries[i].target <= seq {
                ready.push(self.entries.swap_remove(i).waker);
            } else {
                i += 1;
            }
        }
        ready
    }

    /// Removes the entry `id`, if it is still there, and returns it: the caller drops it (and its
    /// waker, which runs executor code) after releasing the sequence lock.
    #[must_use = "the entry's waker is to be dropped outside the sequence lock"]
    fn remove(&mut self, id: u64) -> Option<AsyncWaiter> {
        let i = self.entries.iter().position(|entry| entry.id == id)?;
        Some(self.entries.swap_remove(i))
    }
}

/// Grace-period numbering and the queue of callers waiting for one.
pub(crate) struct GpSequence {
    state: Mutex<SeqState>,
    done: Condvar,
    /// A copy of `state.seq` that polling reads without the lock.
    mirror: AtomicU64,
}

impl GpSequence {
    super::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                state: Mutex::new(SeqState {
                    seq: 0,
                    scratch: None,
                    waiters: 0,
                    tasks: AsyncWaiters { next_id: 0, entries: Vec::new() },
                }),
                done: Condvar::new(),
                mirror: AtomicU64::new(0),
            }
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

    /// The grace-period state of "now": the sequence value at which a full grace period has
    /// elapsed since this call, taken without the lock (the kernel's `get_state_synchronize_rcu`).
    ///
    /// The caller has just unpublished something (or otherwise made it unreachable to new
    /// readers) and will reclaim it once [`GpSequence::is_done`] holds for the returned value.
    ///
    /// Why a fence and a load suffice: the fence orders the caller's unpublishing store before
    /// the load of the mirror, and the leader of each grace period issues a full fence after it
    /// publishes its odd value and before it looks at the registry and the readers (`wait_for`).
    /// That is the store-buffering pattern: if our load returns a value older than a grace
    /// period's odd store, our fence precedes the leader's in the single total order of `SeqCst`
    /// fences, so our unpublishing store is visible to everything the leader does after its fence
    /// (its registry snapshot, its reader checks, and every reader that registers after it): that
    /// grace period protects our update as if we had called it after the store, and the snapshot
    /// `(value + 3) & !1` counts it (`value` even: the next grace period; `value` odd: the one
    /// after the running one, which may have looked at the readers already).
    pub(crate) fn get_state(&self) -> u64 {
        // SeqCst: pairs with the fence after the leader's odd store in `wait_for` (see above).
        fence(Ordering::SeqCst);
        // Relaxed: the fence above orders it; `is_done` reads the mirror again with Acquire
        // before anything is reclaimed.
        let seq = self.mirror.load(Ordering::Relaxed);
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
    ///
    /// A panic inside a grace period (a failed membarrier call) leaves the sequence as if that
    /// grace period had never started, and wakes the waiters so that one of them leads the next
    /// attempt: the engine stays usable, and the panic reaches the caller that led.
    pub(crate) fn wait_for(&self, domain: &Domain, target: u64) {
        let mut state = sync::lock(&self.state);
        loop {
            if state.seq >= target {
                return;
            }
            if state.seq & 1 == 0 {
                state.seq += 1;
                // Release, although an odd value only tells pollers "not yet": a poller that
                // reads it also compares it with its target (`is_done`), and a value at or above
                // that target must carry the completion of the grace period it counts. This
                // store comes after the previous leader's completion (the lock orders them), so
                // Release passes that completion on to the poller's Acquire load.
                self.mirror.store(state.seq, Ordering::Release);
                // SeqCst: the grace period starts here. Pairs with the fence in `get_state`
                // (store buffering: an updater whose cookie load missed the odd value above has
                // its unpublishing store ordered before everything after this fence, so this
                // grace period, registry snapshot included, covers it). It must come before the
                // registry snapshot: a reader registering after the snapshot is not waited for,
                // and must then see the update.
                fence(Ordering::SeqCst);
                let mut scratch = state.scratch.take().unwrap_or_default();
                drop(state);
                let running = Running::start(self);
                domain.run_grace_period(&mut scratch);
                running.finish();
                state = sync::lock(&self.state);
                state.scratch = Some(scratch);
                state.seq += 1;
                // Release: pairs with the Acquire load in `is_done`.
                self.mirror.store(state.seq, Ordering::Release);
                if state.waiters > 0 {
                    self.done.notify_all();
                }
                if !state.tasks.entries.is_empty() {
                    let seq = state.seq;
                    let ready = state.tasks.take_ready(seq);
                    // Wakers run executor code: not under the sequence lock.
                    drop(state);
                    wake_all(ready);
                    state = sync::lock(&self.state);
                }
            } else {
                state.waiters += 1;
                state = sync::wait(&self.done, state);
                state.waiters -= 1;
            }
        }
    }

    /// Whether the grace period numbered `target` has completed; if not, registers `waker` to be
    /// woken when it does (replacing the waker registered under `*id` by an earlier poll).
    ///
    /// `*id` is the registration: `None` before the first call, set by it, cleared when the
    /// call returns `true`. A registration that is abandoned must be withdrawn with
    /// [`GpSequence::cancel_async`]. Registering does not start a grace period: the caller makes
    /// sure one is driven (the callback worker, or whoever calls `wait_for`).
    ///
    /// No wake-up is lost: the entry is added under the sequence lock after checking `seq`, and
    /// the leader that completes a grace period drains the entries under the same lock after
    /// advancing `seq`.
    ///
    /// The waker's code (its `clone`, and the `drop` of the waker an entry held, which may be
    /// the last copy of a task) is executor code that may call into the engine: start a grace
    /// period, drop another task's future (`cancel_async`). So it runs outside the sequence lock,
    /// as the wake-ups in `wait_for` do: the clone is made before locking, and a waker that
    /// leaves the list is dropped after unlocking.
    pub(crate) fn poll_async(&self, target: u64, id: &mut Option<u64>, waker: &Waker) -> bool {
        if self.is_done(target) {
            if let Some(id) = id.take() {
                self.cancel_async(id);
            }
            return true;
        }
        let fresh = waker.clone();
        let mut state = sync::lock(&self.state);
        // `seq` only passes `target` (even) by completing that grace period, and the lock orders
        // that completion before us, so `true` carries it as `is_done`'s Acquire load does.
        if state.seq >= target {
            let withdrawn = id.take().and_then(|id| state.tasks.remove(id));
            drop(state);
            drop((fresh, withdrawn));
            return true;
        }
        let tasks = &mut state.tasks;
        let unused = match id.and_then(|id| tasks.entries.iter_mut().find(|entry| entry.id == id)) {
            Some(entry) if entry.waker.will_wake(waker) => Some(fresh),
            Some(entry) => Some(core::mem::replace(&mut entry.waker, fresh)),
            None => {
                let new_id = tasks.next_id;
                tasks.next_id += 1;
                tasks.entries.push(AsyncWaiter { id: new_id, target, waker: fresh });
                *id = Some(new_id);
                None
            }
        };
        drop(state);
        drop(unused);
        false
    }

    /// Withdraws a registration of [`GpSequence::poll_async`] (the future was dropped).
    pub(crate) fn cancel_async(&self, id: u64) {
        let withdrawn = sync::lock(&self.state).tasks.remove(id);
        // The waker is dropped after the lock is released (see `poll_async`).
        drop(withdrawn);
    }

    /// The number of tasks registered and not yet woken, for tests.
    #[cfg(any(test, loom))]
    pub(crate) fn async_waiters(&self) -> usize {
        sync::lock(&self.state).tasks.entries.len()
    }

    /// In a forked child: a grace period that another thread of the parent was running will
    /// never finish here; forget it (it did not complete, so the count goes back).
    ///
    /// A grace period that the forking thread itself leads (it forked from the stall handler,
    /// which runs inside the grace period) is not forgotten: that thread exists in the child,
    /// returns from the handler into the grace period and completes it, adding one to `seq`.
    /// Taking one off here as well would leave `seq` odd with no leader, and every later grace
    /// period of the child, that leader's own included, would wait for it forever.
    #[cfg(not(loom))]
    pub(crate) fn forget_running(&self, state: &mut SeqState) {
        state.waiters = 0;
        if state.seq & 1 == 1 && !LEADING.get() {
            state.seq -= 1;
            state.scratch = None;
            // Release: as in `wait_for` (only this thread exists, so nothing pairs with it yet).
            self.mirror.store(state.seq, Ordering::Release);
        }
    }

    /// Locks the state, for the fork handlers.
    #[cfg(not(loom))]
    pub(crate) fn lock_state(&self) -> sync::MutexGuard<'_, SeqState> {
        sync::lock(&self.state)
    }
}

/// Wakes the tasks whose grace period has completed; a waker that panics does not keep the
/// others asleep (nor unwind into the grace-period leader).
fn wake_all(ready: Vec<Waker>) {
    for waker in ready {
        if super::panic::catch(|| waker.wake()) {
            #[cfg(not(loom))]
            eprintln!("rcu-runtime: a task's waker panicked while a grace period woke it (message above)");
        }
    }
}

#[cfg(not(loom))]
std::thread_local! {
    /// Whether this thread is running a grace period it leads (from its odd `seq` value to the
    /// even one), for the fork child handler ([`GpSequence::forget_running`]). Leaders do not
    /// nest: the only user code a grace period runs is the stall handler, which may not wait for
    /// a grace period.
    static LEADING: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// Undoes the start of a grace period whose leader unwinds out of it (see
/// [`GpSequence::wait_for`]); [`finish`](Running::finish)ed when the grace period completes.
/// Marks the thread as leading meanwhile.
struct Running<'a> {
    sequence: &'a GpSequence,
}

impl<'a> Running<'a> {
    /// The grace period has started (`seq` is odd) and this thread leads it.
    fn start(sequence: &'a GpSequence) -> Self {
        #[cfg(not(loom))]
        LEADING.set(true);
        Self { sequence }
    }

    /// The grace period has completed: nothing to undo.
    fn finish(self) {
        #[cfg(not(loom))]
        LEADING.set(false);
        core::mem::forget(self);
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        #[cfg(not(loom))]
        LEADING.set(false);
        let mut state = sync::lock(&self.sequence.state);
        // The grace period did not complete: back to the even value it started from. Readers
        // are unaffected (each grace period does its whole protocol, whatever the phase it
        // finds), and the next leader starts from scratch.
        state.seq -= 1;
        // Release: as in `wait_for`.
        self.sequence.mirror.store(state.seq, Ordering::Release);
        self.sequence.done.notify_all();
    }
}

impl Domain {
    /// Runs one grace period: returns once every reader that was inside a read-side critical
    /// section when it started has left that section.
    fn run_grace_period(&self, scratch: &mut Scratch) {
        #[cfg(all(test, not(loom)))]
        tests::maybe_inject_panic();
        {
            let registry = sync::lock(&self.registry);
            scratch.readers.clear();
            scratch.readers.extend(
                registry.iter().map(|reader| Watched { reader: Arc::clone(reader), quiescent_states: 0 }),
            );
        }
        // A reader that registers after the snapshot took the registry lock after us, so it
        // sees every update made before this grace period: it needs no waiting for. (Updates
        // known only through a `get_state` cookie count as "made before" through the fence that
        // `wait_for` issues after publishing the odd value, before this snapshot; so returning
        // early needs no fence of its own.)
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

/// What the loom models of `tests/loom_async.rs` drive: the grace-period cookie, waiting for one,
/// and the task list, through the same methods the global engine runs.
#[cfg(loom)]
impl Domain {
    /// The grace-period state of now, as `RcuOld` records it (`GpSequence::get_state`).
    pub fn get_state(&self) -> u64 {
        self.seq.get_state()
    }

    /// Waits until `target` has elapsed (leading grace periods when none runs), as dropping an
    /// `RcuOld` does.
    pub fn wait_for_state(&self, target: u64) {
        if !self.seq.is_done(target) {
            self.seq.wait_for(self, target);
        }
    }

    /// Whether `target` has elapsed; if not, registers `waker` (see `GpSequence::poll_async`).
    pub fn poll_async(&self, target: u64, id: &mut Option<u64>, waker: &Waker) -> bool {
        self.seq.poll_async(target, id, waker)
    }

    /// Withdraws a registration of [`Domain::poll_async`].
    pub fn cancel_async(&self, id: u64) {
        self.seq.cancel_async(id);
    }

    /// The number of tasks registered and not yet woken.
    pub fn async_waiters(&self) -> usize {
        self.seq.async_waiters()
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
            next_report: super::config::stall_timeout(),
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
            self.next_report = waited + super::config::stall_timeout();
            for Watched { reader, .. } in readers {
                let report = super::config::StallReport {
                    waited,
                    thread_name: reader.thread_name().map(str::to_owned),
                    thread_id: reader.thread_id(),
                    gone_since_fork: reader.is_orphaned(),
                };
                // A panicking handler (or panic payload) must not leave the grace period half
                // done, and a handler that waits for a grace period must panic, not deadlock.
                let failed = super::panic::catch(|| {
                    super::thread::reporting_stall(|| super::config::report_stall(&report))
                });
                if failed {
                    eprintln!("rcu-runtime: the RCU stall handler panicked (message above)");
                }
            }
        }
        #[cfg(loom)]
        let _ = readers;
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

    thread_local! {
        /// Makes this thread's next grace period panic at its start, as a failed membarrier
        /// call would.
        static INJECT_PANIC: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    pub(super) fn maybe_inject_panic() {
        if INJECT_PANIC.replace(false) {
            panic!("injected: a grace period fails");
        }
    }

    /// A waker that counts its wake-ups.
    struct CountingWaker(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for CountingWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (std::sync::Arc<CountingWaker>, Waker) {
        let counter = std::sync::Arc::new(CountingWaker(std::sync::atomic::AtomicUsize::new(0)));
        (std::sync::Arc::clone(&counter), Waker::from(counter))
    }

    #[test]
    fn the_cookie_counts_the_next_grace_period_when_idle_and_the_one_after_a_running_one() {
        let domain = Domain::new();
        assert_eq!(domain.seq.get_state(), 2, "idle at 0: the next grace period (to 2)");
        synchronize(&domain);
        assert_eq!(domain.seq.get_state(), 4);
        // As if a grace period were running: it may have looked at the readers already.
        domain.seq.mirror.store(5, Ordering::SeqCst);
        assert_eq!(domain.seq.get_state(), 8);
    }

    #[test]
    fn a_cookie_that_has_elapsed_needs_no_grace_period() {
        let domain = Domain::new();
        let cookies: Vec<u64> = (0..8).map(|_| domain.seq.get_state()).collect();
        synchronize(&domain);
        let completed = domain.seq.completed();
        for cookie in cookies {
            assert!(domain.seq.is_done(cookie));
            domain.seq.wait_for(&domain, cookie);
        }
        assert_eq!(domain.seq.completed(), completed, "eight waits, no grace period");
    }

    #[test]
    fn a_waiting_task_is_woken_by_whoever_completes_its_grace_period_and_only_then() {
        let domain = Domain::new();
        let target = domain.seq.get_state();
        let (count, waker) = counting_waker();
        let mut id = None;
        assert!(!domain.seq.poll_async(target, &mut id, &waker));
        assert!(!domain.seq.poll_async(target, &mut id, &waker), "polled again: still one entry");
        assert_eq!(domain.seq.async_waiters(), 1);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        // Another thread completes the grace period and wakes the task.
        thread::scope(|s| {
            s.spawn(|| synchronize(&domain));
        });
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(domain.seq.async_waiters(), 0);
        assert!(domain.seq.poll_async(target, &mut id, &waker));
        assert_eq!(id, None, "done: the registration is gone");
    }

    #[test]
    fn a_task_waiting_for_a_later_grace_period_stays_registered() {
        let domain = Domain::new();
        // A cookie taken while a grace period runs waits for the one after.
        domain.seq.mirror.store(1, Ordering::SeqCst);
        let target = domain.seq.get_state();
        domain.seq.mirror.store(0, Ordering::SeqCst);
        assert_eq!(target, 4);
        let (count, waker) = counting_waker();
        let mut id = None;
        assert!(!domain.seq.poll_async(target, &mut id, &waker));
        synchronize(&domain); // to 2: not enough
        assert_eq!((count.0.load(Ordering::SeqCst), domain.seq.async_waiters()), (0, 1));
        synchronize(&domain); // to 4
        assert_eq!((count.0.load(Ordering::SeqCst), domain.seq.async_waiters()), (1, 0));
    }

    #[test]
    fn a_dropped_registration_is_withdrawn_and_a_panicking_waker_does_not_stop_the_others() {
        struct Panics;
        impl std::task::Wake for Panics {
            fn wake(self: std::sync::Arc<Self>) {
                panic!("a waker that panics");
            }
        }
        let domain = Domain::new();
        let target = domain.seq.get_state();
        let mut cancelled = None;
        let (_, waker) = counting_waker();
        assert!(!domain.seq.poll_async(target, &mut cancelled, &waker));
        domain.seq.cancel_async(cancelled.unwrap());
        assert_eq!(domain.seq.async_waiters(), 0);

        let mut first = None;
        let mut second = None;
        let (count, waker) = counting_waker();
        assert!(!domain.seq.poll_async(target, &mut first, &Waker::from(std::sync::Arc::new(Panics))));
        assert!(!domain.seq.poll_async(target, &mut second, &waker));
        synchronize(&domain);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "woken despite the other waker's panic");
        synchronize(&domain); // the sequence still works
    }

    #[test]
    fn a_grace_period_that_panics_leaves_the_sequence_usable() {
        let domain = Domain::new();
        domain.register(Arc::new(ReaderNode::new(None, 0)));
        INJECT_PANIC.set(true);
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| synchronize(&domain)));
        assert!(failed.is_err(), "the injected panic reaches the leader");
        let before = domain.seq.completed();
        // Another caller leads a grace period, on another thread: it must not wait for the one
        // that panicked.
        thread::scope(|s| {
            s.spawn(|| synchronize(&domain));
        });
        assert_eq!(domain.seq.completed(), before + 1, "one grace period completed afterwards");
        assert!(domain.seq.is_done(domain.seq.snapshot() - 2), "pollers see it done");
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
