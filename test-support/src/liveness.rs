//! Hang detection for the behaviour tests: run a step on a helper thread and fail the test with
//! a message, instead of hanging the whole run, if it has not finished within a generous limit.
//!
//! The limits are not performance bounds: they are tens to hundreds of times what the step takes,
//! and only a stuck grace period or a dead callback worker gets near them.

use std::thread;
use std::time::{Duration, Instant};

/// Long enough for any step of these tests on a loaded two-core machine, short enough that a
/// hang fails the test in reasonable time.
pub const HANG: Duration = Duration::from_secs(20);

/// Waits until `done()` holds, looking every millisecond for at most `limit`; panics with
/// `message` if it never does.
pub fn wait_until(limit: Duration, message: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{message}");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Waits for `handle` to finish, for at most `limit`; panics naming `what` if it does not.
///
/// A thread that never finishes is left behind (it ends with the process).
pub fn join_within<T>(handle: thread::JoinHandle<T>, limit: Duration, what: &str) -> T {
    wait_until(limit, &format!("{what} did not finish within {limit:?}: it hangs"), || handle.is_finished());
    match handle.join() {
        Ok(value) => value,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Waits for `handle` to finish as long as `progress` keeps changing; panics naming `what` if it
/// stays the same for `stall` while `handle` runs (for example: no callback has finished for
/// seconds while the step waits for callbacks, so the callback worker is stuck or dead).
pub fn join_while_progressing<T>(
    handle: thread::JoinHandle<T>,
    stall: Duration,
    what: &str,
    mut progress: impl FnMut() -> u64,
) -> T {
    let mut last = progress();
    let mut last_change = Instant::now();
    while !handle.is_finished() {
        let now = progress();
        if now != last {
            (last, last_change) = (now, Instant::now());
        }
        assert!(last_change.elapsed() < stall, "{what} made no progress for {stall:?}: it hangs");
        thread::sleep(Duration::from_millis(1));
    }
    match handle.join() {
        Ok(value) => value,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Runs `step` on a helper thread and waits for it as [`join_within`] does.
pub fn finishes_within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    step: impl FnOnce() -> T + Send + 'static,
) -> T {
    join_within(thread::spawn(step), limit, what)
}
