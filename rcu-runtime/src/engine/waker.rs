//! How a grace period sleeps while it waits for a long reader, and how that reader wakes it.
//!
//! The grace period first spins; when a reader stays inside its critical section for long, the
//! grace period announces that it is going to sleep (`state = SLEEPING`), issues a heavy fence,
//! looks at the readers once more and then sleeps on a futex. A reader leaving its outermost
//! section checks the state after its counter store (with a light fence in between) and wakes the
//! grace period. The two fences make this a Dekker handshake: either the grace period sees the
//! reader idle, or the reader sees `SLEEPING` and wakes it. Under loom the sleep is a yield.

use super::sync::{AtomicI32, Ordering};

const AWAKE: i32 = 0;
const SLEEPING: i32 = -1;

/// The futex word shared by the grace-period waiter and the readers.
pub(crate) struct GpWaker {
    state: AtomicI32,
}

impl GpWaker {
    super::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self { state: AtomicI32::new(AWAKE) }
        }
    }

    /// Called by a reader that just left its outermost critical section.
    #[inline(always)]
    pub(crate) fn wake_if_waiting(&self) {
        // Relaxed: ordered after the reader's counter store by the reader's light fence, which
        // pairs with the heavy fence in `prepare_wait`.
        if self.state.load(Ordering::Relaxed) == SLEEPING {
            self.wake();
        }
    }

    #[cold]
    fn wake(&self) {
        // Relaxed: the futex system call orders the wake-up itself.
        self.state.store(AWAKE, Ordering::Relaxed);
        #[cfg(not(loom))]
        futex_wake(&self.state);
    }

    /// Announces that the grace period is about to sleep; the caller then issues a heavy fence
    /// and checks the readers again before calling [`GpWaker::sleep`].
    pub(crate) fn prepare_wait(&self) {
        // Relaxed: ordered before the following reader checks by the caller's heavy fence.
        self.state.store(SLEEPING, Ordering::Relaxed);
    }

    /// Sleeps until a reader wakes us or `timeout` passes, unless a reader already did.
    pub(crate) fn sleep(&self, timeout: std::time::Duration) {
        #[cfg(not(loom))]
        futex_wait(&self.state, SLEEPING, timeout);
        #[cfg(loom)]
        {
            let _ = timeout;
            loom::thread::yield_now();
        }
    }

    /// The grace period no longer waits.
    pub(crate) fn done_waiting(&self) {
        // Relaxed: a stale SLEEPING only costs a reader one spurious, harmless wake call.
        self.state.store(AWAKE, Ordering::Relaxed);
    }
}

#[cfg(not(loom))]
fn futex_wait(word: &AtomicI32, expected: i32, timeout: std::time::Duration) {
    let ts = libc::timespec {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(timeout.subsec_nanos()),
    };
    // SAFETY: `word` is a live, aligned 32-bit atomic for the whole call, `ts` outlives it, and
    // FUTEX_WAIT_PRIVATE only compares and sleeps. Errors (EAGAIN when the value changed, EINTR,
    // ETIMEDOUT) all mean "go and look again", which the caller does.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &raw const ts,
        );
    }
}

#[cfg(not(loom))]
fn futex_wake(word: &AtomicI32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE_PRIVATE only wakes waiters.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG, 1);
    }
}
