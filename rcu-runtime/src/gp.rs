//! Grace periods as users see them: [`synchronize_rcu`], and polled grace periods
//! ([`start_poll`], [`GpState`]). The engine runs them (`engine::gp`).

use crate::engine;

/// Waits until every read-side critical section that began before this call has ended.
///
/// After it returns, no reader can still hold a reference to anything that was unpublished
/// before the call, so it may be freed. Concurrent callers share grace periods: one grace
/// period started after all of them serves them all.
///
/// # Panics
///
/// Inside a read-side critical section on the same thread (a [`Guard`](crate::Guard), or an
/// online [`QsbrReader`](crate::QsbrReader)): the grace period would wait for the caller's own
/// section, so the call would never return. Also in the stall handler, which runs inside the
/// grace period it reports on.
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
    engine::synchronize("synchronize_rcu()");
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
    GpState { target: engine::start_poll() }
}

/// A grace period to wait for, from [`start_poll`].
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
    /// `Send` and `Sync`: it is a number, and grace periods are process-wide, so it may be polled
    /// or waited for on any thread.
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
        engine::poll(self.target)
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
        engine::wait_for(self.target, "GpState::wait()");
    }
}
