//! Grace periods as users see them: [`synchronize_rcu`], and polled grace periods
//! ([`start_poll`], [`GpState`]), also awaited from a task ([`GpState::wait_async`]). The engine
//! runs them (`engine::gp`).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

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

/// The grace-period state of "now", without starting a grace period: what an [`RcuOld`]
/// records when it is created. Call it right after the value was unpublished.
///
/// [`RcuOld`]: crate::RcuOld
pub(crate) fn get_state() -> GpState {
    GpState { target: engine::get_state() }
}

/// A grace period to wait for, from [`start_poll`] or [`RcuOld::grace_period`].
///
/// It is a cookie, the kernel's `get_state_synchronize_rcu` value: a number that says which
/// grace period must complete. Polling, waiting and awaiting it costs nothing once that grace
/// period has completed, however many states wait for the same one.
///
/// [`RcuOld::grace_period`]: crate::RcuOld::grace_period
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
    /// Whether a full grace period has elapsed since [`start_poll`] returned this state (for
    /// [`RcuOld::grace_period`], since the value was unpublished).
    ///
    /// Never blocks, except on the callback worker. Once it returns `true`, every reader that was
    /// inside a critical section when `start_poll` was called has left it. While it returns
    /// `false`, the callback worker drives grace periods until it would return `true`. Called by
    /// a callback, which runs on that worker, it drives the grace period itself and returns
    /// `true` when it has completed (as [`GpState::wait_async`]'s future does when polled there):
    /// otherwise a callback polling in a loop would wait for itself.
    ///
    /// [`RcuOld::grace_period`]: crate::RcuOld::grace_period
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

    /// Waits for the grace period without blocking a thread: the returned future completes once
    /// a full grace period has elapsed since this state was taken.
    ///
    /// Whoever completes the grace period (the callback worker, which the first poll asks to
    /// drive one, or any thread's `synchronize_rcu`) wakes the task: there is no polling loop and
    /// no timer. The future works with any executor. It is `Send` and `Sync`, and dropping it
    /// before it completes withdraws its waker.
    ///
    /// Awaiting it while the same thread holds a [`Guard`](crate::Guard) (in this task or in
    /// another task on a single-threaded executor) delays the grace period until that guard is
    /// dropped, as any reader does.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     // A minimal executor: park the thread until woken.
    /// #     use std::task::{Context, Poll, Wake, Waker};
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) { return v; }
    /// #         std::thread::park();
    /// #     }
    /// # }
    /// let state = rcu_runtime::start_poll();
    /// block_on(state.wait_async()); // e.g. `state.wait_async().await` in a tokio task
    /// assert!(state.poll());
    /// ```
    pub fn wait_async(self) -> impl Future<Output = ()> + Send + Sync + 'static {
        self.wait_future()
    }

    /// Whether this grace period has elapsed, without asking anyone to drive it (for the
    /// types that only remember a state).
    pub(crate) fn is_done(self) -> bool {
        engine::is_done(self.target)
    }

    /// The sequence value the engine compares with.
    pub(crate) fn target(self) -> u64 {
        self.target
    }

    /// The future of [`GpState::wait_async`].
    pub(crate) fn wait_future(self) -> GpWait {
        GpWait { target: self.target, registration: None }
    }
}

/// The future of [`GpState::wait_async`]: registers its task's waker with the engine until the
/// grace period numbered `target` has completed.
///
/// # Invariants
///
/// `registration` is `Some` exactly while the engine holds a waker entry of this future.
#[derive(Debug)]
pub(crate) struct GpWait {
    target: u64,
    registration: Option<u64>,
}

impl Future for GpWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let target = self.target;
        // INVARIANT: `poll_async` sets the registration when it adds an entry and clears it
        // when it removes one (returning `true`).
        if engine::poll_async(target, &mut self.registration, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for GpWait {
    fn drop(&mut self) {
        if let Some(id) = self.registration.take() {
            engine::cancel_async(id);
        }
    }
}
