//! Every wait of a torture run, timed: a grace period, a barrier or a throttled `call_rcu` that
//! takes far longer than it should is a failure of the run, not something a timeout hides.
//!
//! The threads that wait (the writer, the fake writers, the forker) each have a slot saying what
//! they are waiting for since when. A wait that ends after more than the limit
//! ([`TortureConfig::max_wait`](super::TortureConfig::max_wait)) is counted as a failure when it
//! returns; a wait still running at the limit is found by the thread that watches the run
//! ([`Waits::stuck`]), which then ends the run with that failure instead of hanging.

use core::fmt;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use crate::sync::Mutex;
use std::time::{Duration, Instant};

/// What a thread of the run waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `synchronize_rcu`.
    Synchronize,
    /// Dropping an `RcuOld` (a grace period, then the drop; nested `Rcu`s wait again).
    DropOld,
    /// `RcuOld::wait`.
    WaitOld,
    /// A polled grace period: `GpState::poll` until done, or `GpState::wait`.
    Polled,
    /// `rcu_barrier`.
    Barrier,
    /// Queueing a callback (`defer_rcu`, `defer_drop`, `drop_async`, an `RcuBox` drop), which
    /// waits while the backlog is over the cap.
    Enqueue,
    /// The forker waiting for the readers and the writer to pause before a quiet fork.
    Pause,
    /// The forker waiting for its child (bounded by the child harness itself).
    Child,
    /// The end of the run: dropping the last elements and the final barriers.
    Teardown,
}

impl Wait {
    /// Every kind, in the order reports list them.
    pub const ALL: [Self; 9] = [
        Self::Synchronize,
        Self::DropOld,
        Self::WaitOld,
        Self::Polled,
        Self::Barrier,
        Self::Enqueue,
        Self::Pause,
        Self::Child,
        Self::Teardown,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Synchronize => "synchronize_rcu",
            Self::DropOld => "RcuOld drop",
            Self::WaitOld => "RcuOld::wait",
            Self::Polled => "polled",
            Self::Barrier => "rcu_barrier",
            Self::Enqueue => "call_rcu",
            Self::Pause => "pause",
            Self::Child => "fork child",
            Self::Teardown => "teardown",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|&w| w == self).expect("every kind is in ALL")
    }
}

/// The longest wait of each kind, and the waits over the limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitSummary {
    /// The limit.
    pub limit: Duration,
    /// Per kind, in [`Wait::ALL`] order: how many waits, and the longest.
    pub per_kind: [(u64, Duration); Wait::ALL.len()],
    /// Waits that took longer than the limit, the first of them described.
    pub over_limit: u64,
    /// The first wait over the limit: who, what, how long.
    pub first_over_limit: Option<String>,
}

impl fmt::Display for WaitSummary {
    /// `waits (longest of each; limit 10s): synchronize_rcu 1.2ms (3000), …; 0 over the limit`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "waits (longest of each kind; limit {:?}):", self.limit)?;
        let mut first = true;
        for (kind, (count, longest)) in Wait::ALL.iter().zip(self.per_kind) {
            if count > 0 {
                let separator = if first { " " } else { ", " };
                write!(f, "{separator}{} {longest:.1?} ({count})", kind.name())?;
                first = false;
            }
        }
        write!(f, "; {} over the limit", self.over_limit)
    }
}

/// A waiting thread's slot.
struct Slot {
    /// The thread's name, for reports.
    name: String,
    /// Nanoseconds since [`Waits::epoch`] plus one at which the current wait began; 0 when
    /// the thread is not waiting.
    since: AtomicU64,
    /// `Wait::index` of the current wait.
    what: AtomicU8,
}

/// The waits of one run; see the [module docs](self).
pub struct Waits {
    limit: Duration,
    epoch: Instant,
    slots: Vec<Slot>,
    count: [AtomicU64; Wait::ALL.len()],
    longest_nanos: [AtomicU64; Wait::ALL.len()],
    over_limit: AtomicU64,
    first_over_limit: Mutex<Option<String>>,
}

impl Waits {
    /// Waits with the given limit, and one slot for each name.
    pub fn new(limit: Duration, names: Vec<String>) -> Self {
        let slots = names
            .into_iter()
            .map(|name| Slot { name, since: AtomicU64::new(0), what: AtomicU8::new(0) })
            .collect();
        Self {
            limit,
            epoch: Instant::now(),
            slots,
            count: Default::default(),
            longest_nanos: Default::default(),
            over_limit: AtomicU64::new(0),
            first_over_limit: Mutex::new(None),
        }
    }

    /// The limit.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    fn nanos_since_epoch(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Runs `wait` on behalf of the thread of slot `slot`, timing it as a wait for `what`.
    pub fn timed<R>(&self, slot: usize, what: Wait, wait: impl FnOnce() -> R) -> R {
        let me = &self.slots[slot];
        // Relaxed, all of them: the slot is a report for the watching thread, which only needs to
        // see a recent value; nothing is published through it.
        me.what.store(what.index() as u8, Ordering::Relaxed);
        me.since.store(self.nanos_since_epoch() + 1, Ordering::Relaxed);
        let started = Instant::now();
        let result = wait();
        let took = started.elapsed();
        me.since.store(0, Ordering::Relaxed);
        self.record(&me.name, what, took);
        result
    }

    /// Records a wait of `took` that `who` did for `what`.
    pub fn record(&self, who: &str, what: Wait, took: Duration) {
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        // Relaxed: statistics, read after the run.
        self.count[what.index()].fetch_add(1, Ordering::Relaxed);
        self.longest_nanos[what.index()].fetch_max(nanos, Ordering::Relaxed);
        if took > self.limit {
            self.over_limit.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first_over_limit.lock();
            first.get_or_insert_with(|| format!("{who}: {} took {took:.1?}", what.name()));
        }
    }

    /// A wait that has been running for longer than the limit, described, if there is one.
    ///
    /// The forker's wait for its child is left out: the child harness kills the child at the
    /// limit and the forker reports it.
    pub fn stuck(&self) -> Option<String> {
        let now = self.nanos_since_epoch() + 1;
        self.slots.iter().find_map(|slot| {
            let since = slot.since.load(Ordering::Relaxed);
            let what = Wait::ALL[usize::from(slot.what.load(Ordering::Relaxed))];
            let waited = Duration::from_nanos(now.saturating_sub(since));
            (since != 0 && what != Wait::Child && waited > self.limit).then(|| {
                format!("{}: {} has not returned after {waited:.1?}: it hangs", slot.name, what.name())
            })
        })
    }

    /// What the run's waits were so far.
    pub fn summary(&self) -> WaitSummary {
        WaitSummary {
            limit: self.limit,
            per_kind: core::array::from_fn(|i| {
                let longest = Duration::from_nanos(self.longest_nanos[i].load(Ordering::Relaxed));
                (self.count[i].load(Ordering::Relaxed), longest)
            }),
            over_limit: self.over_limit.load(Ordering::Relaxed),
            first_over_limit: self.first_over_limit.lock().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::thread;

    use super::*;
    use crate::liveness::{HANG, wait_until};

    #[test]
    fn a_wait_over_the_limit_is_counted_and_described() {
        let waits = Waits::new(Duration::from_millis(20), vec!["waiter".to_owned()]);
        waits.timed(0, Wait::Synchronize, || ());
        waits.timed(0, Wait::Barrier, || thread::sleep(Duration::from_millis(40)));
        let summary = waits.summary();
        assert_eq!(summary.over_limit, 1);
        let first = summary.first_over_limit.clone().expect("the barrier took longer than the limit");
        assert!(first.starts_with("waiter: rcu_barrier took "), "{first}");
        assert_eq!(summary.per_kind[Wait::Synchronize.index()].0, 1);
        assert!(summary.per_kind[Wait::Barrier.index()].1 >= Duration::from_millis(40));
        assert!(summary.to_string().ends_with("; 1 over the limit"), "{summary}");
    }

    #[test]
    fn a_wait_still_running_past_the_limit_is_stuck_except_a_childs() {
        let limit = Duration::from_millis(20);
        let waits = Arc::new(Waits::new(limit, vec!["one".to_owned(), "two".to_owned()]));
        assert_eq!(waits.stuck(), None);
        let threads: Vec<_> = [(0, Wait::Child), (1, Wait::Barrier)]
            .into_iter()
            .map(|(slot, what)| {
                let waits = Arc::clone(&waits);
                thread::spawn(move || waits.timed(slot, what, || thread::sleep(Duration::from_millis(300))))
            })
            .collect();
        wait_until(HANG, "the barrier never counted as stuck", || waits.stuck().is_some());
        let stuck = waits.stuck().expect("still stuck: the wait lasts 300 ms");
        assert!(stuck.starts_with("two: rcu_barrier has not returned after "), "{stuck}");
        for thread in threads {
            thread.join().expect("the waiting thread panicked");
        }
        assert_eq!(waits.stuck(), None, "no wait runs any more");
        assert_eq!(waits.summary().over_limit, 2, "both took longer than the limit");
    }
}
