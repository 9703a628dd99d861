//! Running a check in a forked child process: the child runs a closure and reports its verdict
//! through a pipe, then `_exit`s; the parent waits for it, for a bounded time, and kills it if it
//! hangs. Used by the fork tests and by the torture run's forker.

use std::time::{Duration, Instant};

/// What became of a child.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The closure returned `Ok`.
    Passed,
    /// The closure returned `Err` (its message) or panicked (the panic's message).
    Failed(String),
    /// The child did not exit within the limit; the last line it reported, if any.
    Hung(String),
    /// The child died without a verdict (a signal, an abort).
    Died(String),
}

/// Forks; the child runs `check` and exits. Returns what became of the child within `limit`.
///
/// `check` may call [`Reporter::line`] to leave progress lines; the last one is shown if it hangs.
///
/// # Safety
///
/// As for `fork()` in a multi-threaded process: the child uses only state that the runtime's
/// fork handlers (and the C library's) keep consistent, plus its own copies of memory.
pub unsafe fn in_child(limit: Duration, check: impl FnOnce(&Reporter) -> Result<(), String>) -> Outcome {
    // SAFETY: forwarded from our caller.
    unsafe { spawn_child(check) }.wait(limit)
}

/// A forked child that runs a check, from [`spawn_child`].
#[must_use = "a child that is not waited for stays a zombie and its verdict is lost"]
pub struct Child {
    pid: libc::pid_t,
    read_end: libc::c_int,
}

impl Child {
    /// Waits for the child for at most `limit` (killing it then) and says what became of it.
    pub fn wait(self, limit: Duration) -> Outcome {
        wait_and_read(self.pid, self.read_end, limit)
    }
}

/// Forks; the child runs `check`, reports its verdict and exits; the parent returns at once, to
/// do what it has to while the child runs, then [`Child::wait`]s for it. [`in_child`] does both.
///
/// # Safety
///
/// As for [`in_child`].
pub unsafe fn spawn_child(check: impl FnOnce(&Reporter) -> Result<(), String>) -> Child {
    let mut pipe = [0; 2];
    // SAFETY: `pipe` is a live array of two descriptors for `pipe` to fill.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0, "pipe failed");
    let [read_end, write_end] = pipe;
    // SAFETY: by this function's contract.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: the read end belongs to the parent.
        unsafe { libc::close(read_end) };
        let reporter = Reporter { fd: write_end };
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&reporter)))
            .unwrap_or_else(|payload| Err(format!("panicked: {}", crate::panic_message(&*payload))));
        match verdict {
            Ok(()) => reporter.line("PASSED"),
            Err(message) => reporter.line(&format!("FAILED {message}")),
        }
        // SAFETY: `_exit` ends the child at once, without running the parent's atexit handlers
        // or returning into the test harness, which only the parent may do.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: the write end belongs to the child; closing ours lets reads see end of file.
    unsafe { libc::close(write_end) };
    Child { pid, read_end }
}

/// Waits for the child `pid` for at most `limit` (killing it then), reads its report from
/// `read_end` (which it closes), and says what became of it.
pub fn wait_and_read(pid: libc::pid_t, read_end: libc::c_int, limit: Duration) -> Outcome {
    let status = wait_for(pid, limit);
    let output = read_all(read_end);
    // SAFETY: the read end is ours and no longer used.
    unsafe { libc::close(read_end) };
    let last = output.lines().last().unwrap_or("").to_owned();
    match status {
        None => Outcome::Hung(last),
        Some(_) if last == "PASSED" => Outcome::Passed,
        Some(_) if last.starts_with("FAILED ") => Outcome::Failed(last["FAILED ".len()..].to_owned()),
        Some(status) => Outcome::Died(format!("wait status {status:#x} after {last:?}")),
    }
}

/// Where the child writes its progress lines.
pub struct Reporter {
    fd: libc::c_int,
}

impl Reporter {
    /// A reporter writing to `fd`, the write end of the child's pipe.
    pub fn from_fd(fd: libc::c_int) -> Self {
        Self { fd }
    }

    /// Writes one line for the parent.
    pub fn line(&self, line: &str) {
        let text = format!("{line}\n");
        // SAFETY: `fd` is the write end of a pipe this process owns; the buffer is live for its
        // length. A short or failed write only loses progress information.
        unsafe { libc::write(self.fd, text.as_ptr().cast(), text.len()) };
    }
}

/// Waits for `pid` for at most `limit`; kills it if it is still running then. `None` if it hung.
fn wait_for(pid: libc::pid_t, limit: Duration) -> Option<libc::c_int> {
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: `pid` is our child; `status` is a live integer to write to.
        let done = unsafe { libc::waitpid(pid, &raw mut status, libc::WNOHANG) };
        assert!(done >= 0, "waitpid failed: {}", std::io::Error::last_os_error());
        if done == pid {
            return Some(status);
        }
        if Instant::now() >= deadline {
            // SAFETY: `pid` is our child, which has not been reaped; the second waitpid reaps it.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &raw mut status, 0);
            }
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Reads everything from `fd` until end of file.
fn read_all(fd: libc::c_int) -> String {
    let mut out = Vec::new();
    let mut buf = [0_u8; 256];
    loop {
        // SAFETY: `fd` is the read end of a pipe this process owns; `buf` is writable for its
        // length. The child has exited or been killed, so the read ends.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        out.extend_from_slice(&buf[..usize::try_from(n).unwrap_or(0)]);
    }
    String::from_utf8_lossy(&out).into_owned()
}
