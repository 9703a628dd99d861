//! Stall reports: a grace period that waits on a reader for longer than the stall timeout calls
//! the stall handler with a report that names that reader's thread (name and OS thread id), and
//! names no reader that is not holding it up.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::config::{StallReport, set_stall_handler, set_stall_timeout};
use rcu_runtime::{read_lock, synchronize_rcu};
use test_support::liveness::{HANG, join_within};
// A lock ThreadSanitizer can follow (`scripts/tsan.sh`): the handler runs on the grace period's
// thread, the test reads the reports on its own.
use test_support::sync::Mutex;

const STALL_TIMEOUT: Duration = Duration::from_millis(50);
const HOLDER: &str = "holds-a-guard";
const IDLE: &str = "idle-reader";

/// Every report the handler received.
static REPORTS: Mutex<Vec<StallReport>> = Mutex::new(Vec::new());

fn record(report: &StallReport) {
    REPORTS.lock().push(report.clone());
}

fn reports() -> Vec<StallReport> {
    REPORTS.lock().clone()
}

/// Starts a named thread that registers as a reader, optionally stays inside a section, stores
/// its OS thread id in the returned cell, waits on `ready` and then for `release`.
fn reader(
    name: &str,
    hold: bool,
    ready: &Arc<Barrier>,
    release: &Arc<Barrier>,
) -> (thread::JoinHandle<()>, Arc<AtomicI64>) {
    let tid = Arc::new(AtomicI64::new(0));
    let (ready, release, seen) = (Arc::clone(ready), Arc::clone(release), Arc::clone(&tid));
    let handle = thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let guard = read_lock();
            if !hold {
                drop(guard);
            }
            // SAFETY: gettid has no preconditions and cannot fail.
            seen.store(i64::from(unsafe { libc::gettid() }), Ordering::SeqCst);
            ready.wait();
            release.wait();
        })
        .expect("cannot spawn a reader");
    (handle, tid)
}

#[test]
fn a_stall_report_names_the_reader_that_holds_the_grace_period_up() {
    set_stall_timeout(STALL_TIMEOUT);
    set_stall_handler(record);
    let ready = Arc::new(Barrier::new(3));
    let release = Arc::new(Barrier::new(3));
    let (holder, holder_tid) = reader(HOLDER, true, &ready, &release);
    let (idle, _) = reader(IDLE, false, &ready, &release);
    ready.wait(); // both are registered; the holder is inside its section
    let holder_tid = holder_tid.load(Ordering::SeqCst);
    let waiter = thread::spawn(synchronize_rcu);

    let deadline = Instant::now() + HANG;
    let report = loop {
        if let Some(report) = reports().into_iter().find(|r| r.thread_name.as_deref() == Some(HOLDER)) {
            break report;
        }
        assert!(Instant::now() < deadline, "no stall report named {HOLDER} within {HANG:?}: {:?}", reports());
        thread::sleep(Duration::from_millis(1));
    };
    assert!(!waiter.is_finished(), "the grace period cannot end while {HOLDER} is inside");
    release.wait();
    holder.join().expect("the holder failed");
    idle.join().expect("the idle reader failed");
    join_within(waiter, HANG, "synchronize_rcu once the holder has left its section");

    assert_eq!(report.thread_id, holder_tid, "the report names the holder's OS thread");
    assert!(report.waited >= STALL_TIMEOUT, "reported after {:?}, before the timeout", report.waited);
    let text = report.to_string();
    assert!(text.contains(HOLDER) && text.contains(&format!("tid {holder_tid}")), "{text}");
    assert!(
        reports().iter().all(|r| r.thread_name.as_deref() == Some(HOLDER)),
        "only the reader inside a section holds the grace period up: {:?}",
        reports()
    );
}
