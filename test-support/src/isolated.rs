//! Running one test in a copy of its own test binary, so that an abort, a deadlock of the
//! engine's locks or a process-wide setting (the stall handler, the callback cap) cannot take the
//! other tests of the binary down or leak into them.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::liveness::HANG;

/// Set in the environment of the copy, which then runs the test body.
const IN_SUBPROCESS: &str = "RCU_TEST_IN_ITS_OWN_PROCESS";

/// Runs the test `name` (the test function's name) in a copy of the current test binary, killed
/// after [`HANG`]; returns whether this is that copy, in which case the caller runs the test
/// body. In the original process it returns `false` once the copy passed, and fails the test
/// (with the copy's output) if the copy failed, died, hung or did not find the test.
///
/// ```ignore
/// #[test]
/// fn a_test_that_may_abort() {
///     if !isolated("a_test_that_may_abort") {
///         return;
///     }
///     // the body, run in its own process
/// }
/// ```
pub fn isolated(name: &str) -> bool {
    if std::env::var_os(IN_SUBPROCESS).is_some() {
        return true;
    }
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(IN_SUBPROCESS, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run the test binary again");
    // Read on threads of their own, so that a chatty copy never blocks on a full pipe.
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("piped")));
    let stderr = read_all(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + HANG;
    let status = loop {
        if let Some(status) = child.try_wait().expect("cannot wait for the copy") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => assert!(status.success(), "{name} failed in its own process ({status}):\n{stderr}"),
        None => panic!("{name} hung in its own process (killed after {HANG:?}):\n{stderr}"),
    }
    assert!(stdout.contains("1 passed"), "{name} did not run in its own process:\n{stdout}");
    false
}
