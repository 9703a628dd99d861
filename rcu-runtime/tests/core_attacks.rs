//! Attacks from safe code on the core API: `Rcu`, `RcuOld`, `RcuBox`, callbacks
//! (`call_rcu`/`defer_rcu`/`rcu_barrier`/`drop_async`), the stall handler, `QsbrReader` and
//! polled grace periods, beyond what `panic_payloads.rs`, `reentrancy.rs`, `misuse_panics.rs`,
//! `fork_soundness.rs`, `qsbr.rs`, `callbacks.rs`, `stall.rs` and the other attack files cover:
//!
//! - `fork()` from inside the stall handler, on a thread that leads a grace period (a
//!   `synchronize_rcu` caller, and the callback worker): the child's copy of that thread goes on
//!   with the grace period and must complete it, and the child's later grace periods too;
//! - `fork()` from inside `QsbrReader::while_offline`;
//! - a stall handler that queues callbacks, reads, polls, registers and drops a `QsbrReader`,
//!   and replaces itself and the configuration;
//! - callbacks that call `synchronize_rcu`, `start_poll().wait()`, `RcuOld::wait`, register a
//!   `QsbrReader`, read `stats()`, change the configuration, and queue thousands of callbacks past
//!   the backpressure cap;
//! - several values in one callback batch whose `Drop` panics with a payload that panics when
//!   dropped (`drop_async`, `RcuBox`, `defer_drop`): no abort, the worker carries on, the
//!   counters add up;
//! - values behind `Rcu`/`RcuOld`/`RcuBox` whose `Drop` waits for grace periods, drops other
//!   `RcuOld`s or replaces another `Rcu`, dropped on a user thread and on the worker;
//! - `while_offline` closures that panic (with a bad payload) and wait for grace periods;
//! - `RcuOld`s forgotten by the thousand (their values leak, nothing else happens).
//!
//! Each scenario that forks, changes process-wide settings or could hang the engine runs in a
//! copy of this test binary (`isolated`), killed after a time limit, so that a regression fails
//! its test instead of hanging the others.

use std::panic::{AssertUnwindSafe, catch_unwind, panic_any};
use std::pin::pin;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::config::{StallReport, set_stall_handler, set_stall_timeout};
use rcu_runtime::{QsbrReader, Rcu, rcu_barrier, read_lock, synchronize_rcu};
use test_support::child::{Outcome, Reporter, wait_and_read};

/// Set in the environment of a copy of this test binary that runs one test on its own.
const IN_SUBPROCESS: &str = "RCU_CORE_ATTACKS_SUBPROCESS";

/// How long a scenario in its own process may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs the test `name` in a copy of this test binary, killed after [`LIMIT`], so that an abort
/// or a deadlock cannot take the other tests down; returns whether this is that copy (then the
/// caller runs the test body).
fn isolated(name: &str) -> bool {
    if std::env::var_os(IN_SUBPROCESS).is_some() {
        return true;
    }
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_SUBPROCESS, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run the test binary again");
    let stderr = child.stderr.take().expect("piped");
    let reader = thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let stderr = reader.join().unwrap_or_default();
    match status {
        Some(status) => assert!(status.success(), "{name} failed in its own process ({status}):\n{stderr}"),
        None => panic!("{name} hung in its own process (killed after {LIMIT:?}):\n{stderr}"),
    }
    false
}

/// A panic payload whose destructor panics.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("the panic payload's destructor panics too");
    }
}

// --- fork inside the stall handler ------------------------------------------------------------

/// The stalled reader is told to leave its section (and has left) before the handler forks, so
/// that the child's copy of the grace period can complete.
static LEAVE: AtomicBool = AtomicBool::new(false);
static LEFT: AtomicBool = AtomicBool::new(false);
/// Set once the handler has forked (it forks once).
static FORKED: AtomicBool = AtomicBool::new(false);
/// In the parent: the child's pid and the read end of its pipe. In the child: 0 and the write end.
static CHILD_PID: AtomicI32 = AtomicI32::new(-1);
static PIPE_FD: AtomicI32 = AtomicI32::new(-1);

/// A reader thread inside a section until the stall handler tells it to leave.
fn stalled_reader() -> thread::JoinHandle<()> {
    let (inside, is_inside) = mpsc::channel();
    let reader = thread::spawn(move || {
        let guard = read_lock();
        inside.send(()).expect("the test waits");
        while !LEAVE.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(1));
        }
        drop(guard);
        LEFT.store(true, Ordering::SeqCst);
    });
    is_inside.recv().expect("the reader entered its section");
    reader
}

/// The stall handler: once, ends the stall, then forks. The child returns from the handler into
/// the grace period that its (copied) thread leads.
fn fork_once_the_stall_is_over(_: &StallReport) {
    if FORKED.swap(true, Ordering::SeqCst) {
        return;
    }
    LEAVE.store(true, Ordering::SeqCst);
    while !LEFT.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(1));
    }
    let mut pipe = [0; 2];
    // SAFETY: `pipe` is a live array of two descriptors for `pipe` to fill.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0, "pipe failed");
    // SAFETY: the child only uses the engine (whose fork handlers keep it consistent), its own
    // copies of memory, and `_exit`s without returning into the test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: the read end belongs to the parent.
        unsafe { libc::close(pipe[0]) };
        CHILD_PID.store(0, Ordering::SeqCst);
        PIPE_FD.store(pipe[1], Ordering::SeqCst);
    } else {
        // SAFETY: the write end belongs to the child.
        unsafe { libc::close(pipe[1]) };
        CHILD_PID.store(pid, Ordering::SeqCst);
        PIPE_FD.store(pipe[0], Ordering::SeqCst);
    }
}

/// In the child: more grace periods and callbacks must complete, then the verdict; `_exit`s.
fn child_checks_and_exits() -> ! {
    let reporter = Reporter::from_fd(PIPE_FD.load(Ordering::SeqCst));
    reporter.line("the forked grace period completed in the child");
    synchronize_rcu();
    reporter.line("a second grace period completed in the child");
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    rcu_runtime::defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier();
    if ran.load(Ordering::SeqCst) {
        reporter.line("PASSED");
    } else {
        reporter.line("FAILED the callback did not run before rcu_barrier returned");
    }
    // SAFETY: ends the forked child without returning into the test harness.
    unsafe { libc::_exit(0) }
}

/// In the parent: the child's verdict.
fn child_outcome() -> Outcome {
    wait_and_read(CHILD_PID.load(Ordering::SeqCst), PIPE_FD.load(Ordering::SeqCst), Duration::from_secs(10))
}

#[test]
fn a_stall_handler_that_forks_inside_a_synchronize_rcu_leaves_the_child_grace_periods_that_complete() {
    if !isolated(
        "a_stall_handler_that_forks_inside_a_synchronize_rcu_leaves_the_child_grace_periods_that_complete",
    ) {
        return;
    }
    set_stall_timeout(Duration::from_millis(20));
    set_stall_handler(fork_once_the_stall_is_over);
    let reader = stalled_reader();
    synchronize_rcu(); // stalls on the reader; the handler forks, in this thread's grace period
    if CHILD_PID.load(Ordering::SeqCst) == 0 {
        child_checks_and_exits();
    }
    reader.join().expect("the reader");
    assert!(FORKED.load(Ordering::SeqCst), "the stall handler ran");
    assert_eq!(child_outcome(), Outcome::Passed);
    synchronize_rcu();
    rcu_barrier();
}
