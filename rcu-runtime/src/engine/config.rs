//! Tunables of the engine: barrier flavour, stall warnings, callback backpressure and batching.
//!
//! Every setting also has an environment variable, read once when the engine starts (the first
//! reader registration, grace period or callback):
//!
//! | variable | setting | default |
//! |---|---|---|
//! | `RCU_BARRIER=fences` | [`force_fence_barriers`] | membarrier when the kernel has it |
//! | `RCU_STALL_TIMEOUT_MS` | [`set_stall_timeout`] | 10 000 ms |
//! | `RCU_MAX_PENDING` | [`set_max_pending_callbacks`] | 32 768 |
//! | `RCU_BATCH_DELAY_US` | [`set_callback_batch_delay`] | 1 000 µs |
//!
//! ```
//! use std::time::Duration;
//! rcu_runtime::config::set_stall_timeout(Duration::from_secs(30));
//! assert_eq!(rcu_runtime::config::stall_timeout(), Duration::from_secs(30));
//! ```

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// How the read side and the grace-period code order their accesses.
///
/// A plain value, so `Send` and `Sync`.
///
/// # Examples
///
/// ```
/// use rcu_runtime::config::{barrier_mode, BarrierMode};
/// match barrier_mode() {
///     BarrierMode::Membarrier => println!("readers use compiler fences only"),
///     BarrierMode::Fences => println!("readers use full fences"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierMode {
    /// Readers use compiler fences only; grace periods issue
    /// `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`. The fast flavour.
    Membarrier,
    /// Both sides use full `SeqCst` fences: the fallback when membarrier is unavailable.
    Fences,
}

/// [`force_fence_barriers`] was called after the engine had already chosen its barriers.
///
/// A plain value, so `Send` and `Sync` (as an error type should be).
///
/// # Examples
///
/// ```
/// use rcu_runtime::config::{barrier_mode, force_fence_barriers, BarrierMode};
/// let _ = rcu_runtime::read_lock(); // the engine starts and chooses its barriers
/// if let Err(err) = force_fence_barriers() {
///     assert_eq!(err.mode, barrier_mode());
///     assert_eq!(err.mode, BarrierMode::Membarrier);
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadyStarted {
    /// The flavour the engine is using.
    pub mode: BarrierMode,
}

impl fmt::Display for AlreadyStarted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the RCU engine already started with {:?} barriers; force_fence_barriers() must be \
             called before the first read_lock, grace period or callback",
            self.mode
        )
    }
}

impl std::error::Error for AlreadyStarted {}

static FORCE_FENCES: AtomicBool = AtomicBool::new(false);
static STALL_TIMEOUT_MS: AtomicU64 = AtomicU64::new(10_000);
static MAX_PENDING: AtomicUsize = AtomicUsize::new(32_768);
static BATCH_DELAY_US: AtomicU64 = AtomicU64::new(1_000);
static STALL_HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Makes the engine use full fences on both sides instead of membarrier.
///
/// Useful to test the fallback path, or where membarrier is known to be slow. Must be called
/// before the engine starts (it starts the engine itself); afterwards it reports the flavour in
/// use.
///
/// # Errors
///
/// [`AlreadyStarted`] if the engine already chose its barriers (unless it chose fences).
///
/// # Examples
///
/// ```
/// use rcu_runtime::config::{barrier_mode, force_fence_barriers, BarrierMode};
/// force_fence_barriers().expect("called before the engine started");
/// assert_eq!(barrier_mode(), BarrierMode::Fences);
/// ```
#[cfg(not(loom))]
pub fn force_fence_barriers() -> Result<(), AlreadyStarted> {
    FORCE_FENCES.store(true, Ordering::Relaxed);
    // The engine's one-time start-up reads the flag: starting it here (or waiting for a
    // start-up that another thread is running) makes the decision final, and it saw our store
    // unless it had read the flag before it, in which case it chose membarrier. Either way the
    // answer below is the flavour in use, never a guess.
    super::start();
    match barrier_mode() {
        BarrierMode::Fences => Ok(()),
        mode => Err(AlreadyStarted { mode }),
    }
}

/// The barrier flavour in use, starting the engine if it has not started yet.
///
/// The grace-period side and the read side each keep their own copy of the flavour (readers
/// find theirs in a counter they load anyway); this returns it after checking that they agree.
///
/// ```
/// let mode = rcu_runtime::config::barrier_mode();
/// println!("RCU barriers: {mode:?}");
/// ```
#[cfg(not(loom))]
pub fn barrier_mode() -> BarrierMode {
    super::start();
    let grace_periods = super::membarrier::mode().expect("the engine chose its barriers when it started");
    let readers =
        if super::domain().readers_use_fences() { BarrierMode::Fences } else { BarrierMode::Membarrier };
    assert_eq!(readers, grace_periods, "rcu-runtime bug: readers and grace periods use different barriers");
    grace_periods
}

#[cfg(not(loom))]
pub(crate) fn fences_forced() -> bool {
    FORCE_FENCES.load(Ordering::Relaxed)
}

/// Sets how long a grace period may wait on one reader before a stall is reported.
///
/// # Examples
///
/// ```
/// rcu_runtime::config::set_stall_timeout(std::time::Duration::from_millis(500));
/// ```
pub fn set_stall_timeout(timeout: Duration) {
    let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX).max(1);
    STALL_TIMEOUT_MS.store(ms, Ordering::Relaxed);
}

/// How long a grace period may wait on one reader before a stall is reported.
///
/// # Examples
///
/// ```
/// assert_eq!(rcu_runtime::config::stall_timeout(), std::time::Duration::from_secs(10)); // the default
/// ```
pub fn stall_timeout() -> Duration {
    Duration::from_millis(STALL_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// Sets the number of pending callbacks past which `call_rcu` callers wait (at least 1).
///
/// Callers inside a read-side critical section and callbacks running on the worker never wait
/// (waiting there could deadlock), so the bound is exceeded by at most what they queue.
///
/// # Examples
///
/// ```
/// rcu_runtime::config::set_max_pending_callbacks(1024);
/// assert_eq!(rcu_runtime::config::max_pending_callbacks(), 1024);
/// ```
pub fn set_max_pending_callbacks(max: usize) {
    MAX_PENDING.store(max.max(1), Ordering::Relaxed);
}

/// The number of pending callbacks past which `call_rcu` callers wait.
///
/// # Examples
///
/// ```
/// assert_eq!(rcu_runtime::config::max_pending_callbacks(), 32_768); // the default
/// ```
pub fn max_pending_callbacks() -> usize {
    MAX_PENDING.load(Ordering::Relaxed)
}

/// Sets how long the callback worker lets callbacks accumulate between two batches.
///
/// A longer delay means fewer grace periods (fewer membarrier interruptions of readers) and more
/// memory waiting to be freed; `rcu_barrier` and backpressure cut the delay short.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// rcu_runtime::config::set_callback_batch_delay(Duration::from_micros(100));
/// assert_eq!(rcu_runtime::config::callback_batch_delay(), Duration::from_micros(100));
/// ```
pub fn set_callback_batch_delay(delay: Duration) {
    let us = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
    BATCH_DELAY_US.store(us, Ordering::Relaxed);
}

/// How long the callback worker lets callbacks accumulate between two batches.
///
/// # Examples
///
/// ```
/// assert_eq!(rcu_runtime::config::callback_batch_delay(), std::time::Duration::from_millis(1)); // the default
/// ```
pub fn callback_batch_delay() -> Duration {
    Duration::from_micros(BATCH_DELAY_US.load(Ordering::Relaxed))
}

/// What a stall report says: a grace period has waited on one reader for too long.
///
/// Plain data (a duration, a name, a thread id), so `Send` and `Sync`.
///
/// # Examples
///
/// ```
/// use rcu_runtime::config::{set_stall_handler, StallReport};
/// fn log(report: &StallReport) {
///     eprintln!("stall: {:?} on {:?}", report.waited, report.thread_name);
/// }
/// set_stall_handler(log);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StallReport {
    /// How long the grace period has been waiting.
    pub waited: Duration,
    /// The name of the reader's thread, if it has one.
    pub thread_name: Option<String>,
    /// The operating-system id of the reader's thread.
    pub thread_id: i64,
    /// In the child of a `fork()`: the reader is a thread of the parent, which does not exist in
    /// this process. Its section was open at the fork and never ends here: borrows taken under
    /// it may live on in this process's copy of memory, so grace periods keep waiting for it.
    pub gone_since_fork: bool,
}

impl fmt::Display for StallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rcu-runtime: RCU grace period stalled for {:.1?} waiting on reader thread {} (tid {}): ",
            self.waited,
            self.thread_name.as_deref().unwrap_or("<unnamed>"),
            self.thread_id
        )?;
        if self.gone_since_fork {
            f.write_str(
                "that thread was inside a read-side critical section when the process forked and \
                 does not exist in this child, so the section never ends here; grace periods in \
                 this process cannot complete (fork while no other thread is reading)",
            )
        } else {
            f.write_str("a read-side critical section (a live Guard) is being held for too long")
        }
    }
}

/// Replaces what happens on a stall (by default, the report is printed to stderr).
///
/// The handler runs on the thread that drives the grace period, inside that grace period: waiting
/// for a grace period there (`synchronize_rcu`, `rcu_barrier`, dropping an `RcuOld`) panics
/// instead of deadlocking, and a panic in the handler is caught and reported (the grace period
/// goes on).
///
/// # Examples
///
/// ```
/// use rcu_runtime::config::{set_stall_handler, StallReport};
/// set_stall_handler(|report: &StallReport| eprintln!("{report}"));
/// ```
pub fn set_stall_handler(handler: fn(&StallReport)) {
    STALL_HANDLER.store(handler as *mut (), Ordering::Release);
}

#[cfg(not(loom))]
pub(crate) fn report_stall(report: &StallReport) {
    let handler = STALL_HANDLER.load(Ordering::Acquire);
    if handler.is_null() {
        eprintln!("{report}");
    } else {
        // SAFETY: the only non-null value ever stored is a `fn(&StallReport)` cast to a pointer by
        // `set_stall_handler` (Release, paired with the Acquire load above).
        let handler: fn(&StallReport) = unsafe { core::mem::transmute(handler) };
        handler(report);
    }
}

/// Reads the environment variables once, at engine start.
#[cfg(not(loom))]
pub(crate) fn read_env() {
    let var = |name| std::env::var(name).ok();
    if var("RCU_BARRIER").is_some_and(|v| v.eq_ignore_ascii_case("fences")) {
        FORCE_FENCES.store(true, Ordering::Relaxed);
    }
    if let Some(ms) = var("RCU_STALL_TIMEOUT_MS").and_then(|v| v.parse().ok()) {
        set_stall_timeout(Duration::from_millis(ms));
    }
    if let Some(n) = var("RCU_MAX_PENDING").and_then(|v| v.parse().ok()) {
        set_max_pending_callbacks(n);
    }
    if let Some(us) = var("RCU_BATCH_DELAY_US").and_then(|v| v.parse().ok()) {
        set_callback_batch_delay(Duration::from_micros(us));
    }
}
