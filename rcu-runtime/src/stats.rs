//! Counters that show what the engine has done, for dashboards, demos and tests.

use crate::config::BarrierMode;
use crate::engine;

/// A snapshot of the engine's counters, from [`stats`].
///
/// Plain numbers, so `Send` and `Sync`.
///
/// # Examples
///
/// ```
/// let stats: rcu_runtime::Stats = rcu_runtime::stats();
/// println!("{} grace periods, {} callbacks pending", stats.grace_periods, stats.callbacks_pending);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Grace periods completed since the process started.
    pub grace_periods: u64,
    /// Callbacks queued and not yet finished.
    pub callbacks_pending: usize,
    /// Callbacks that have run (including the ones that panicked).
    pub callbacks_run: u64,
    /// Callbacks that panicked.
    pub callback_panics: u64,
    /// The barrier flavour in use.
    pub barrier_mode: BarrierMode,
}

/// Reads the engine's counters.
///
/// ```
/// let before = rcu_runtime::stats().grace_periods;
/// rcu_runtime::synchronize_rcu();
/// assert!(rcu_runtime::stats().grace_periods > before);
/// ```
pub fn stats() -> Stats {
    let (grace_periods, callbacks_pending, callbacks_run, callback_panics) = engine::counters();
    Stats {
        grace_periods,
        callbacks_pending,
        callbacks_run,
        callback_panics,
        barrier_mode: crate::config::barrier_mode(),
    }
}
