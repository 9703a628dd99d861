//! `fork()` in a process that uses RCU leaves the child usable, when no other thread is inside
//! a read-side critical section at the moment of the fork (see `fork_soundness.rs` for what
//! happens when one is).
//!
//! At the fork, the parent has idle reader threads, the forking thread holding a section open
//! across the fork, a callback worker waiting for the grace period that section holds up (with a
//! batch of callbacks taken), callbacks still queued behind it, and a `synchronize_rcu` caller
//! waiting too. None of those other threads exists in the child, which must still be able to
//! read, wait for grace periods (plain, polled, through `RcuOld`), queue callbacks and wait for
//! them with `rcu_barrier`, and run the callbacks the parent had queued (as the runtime
//! documents: they free the child's copies of their objects).
//!
//! A second test forks with a `QsbrReader` online on the forking thread and another, offline, on
//! a thread that the child will not have: the child's grace periods must wait for the first and
//! forget the second.
//!
//! The children end with `_exit`, never returning into the test harness; the parent kills a child
//! that hangs.

use core::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{Rcu, defer_rcu, is_reading, rcu_barrier, read_lock, start_poll, stats, synchronize_rcu};
use test_support::child::{Outcome, Reporter, spawn_child};
use test_support::liveness::HANG;

/// Held by each test for its whole run: a test's reader threads, inside a section or online,
/// would be inside one at the other test's fork, and hold that child's grace periods up for good
/// (as they must: see `fork_soundness.rs`).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Callbacks queued by the parent before the fork that have run (in this process's memory).
static PARENT_CALLBACKS_RAN: AtomicU32 = AtomicU32::new(0);
/// The bit of the callback in the worker's batch: taken before the fork, waiting for a grace period.
const IN_FLIGHT: u32 = 1;
/// The bit of the callback still queued behind that batch at the fork.
const QUEUED: u32 = 2;

/// What the child checks, in order.
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
enum Step {
    NotReading = 1,
    Reads,
    Synchronizes,
    ReclaimsAnRcuOld,
    PollsAGracePeriod,
    RunsItsOwnCallbacks,
    RunsTheParentsQueuedCallbacks,
    RunsTheParentsInFlightCallbacks,
    DrainsThePendingCount,
}

const STEPS: [Step; 9] = [
    Step::NotReading,
    Step::Reads,
    Step::Synchronizes,
    Step::ReclaimsAnRcuOld,
    Step::PollsAGracePeriod,
    Step::RunsItsOwnCallbacks,
    Step::RunsTheParentsQueuedCallbacks,
    Step::RunsTheParentsInFlightCallbacks,
    Step::DrainsThePendingCount,
];

/// Runs one step in the child; whether its check holds.
fn child_step(step: Step, shared: &Rcu<Box<u64>>) -> bool {
    match step {
        Step::NotReading => !is_reading(),
        Step::Reads => shared.dereference(&read_lock()).copied() == Some(42),
        Step::Synchronizes => {
            synchronize_rcu();
            true
        }
        Step::ReclaimsAnRcuOld => {
            let mut local = pin!(Rcu::new(Box::new(1_u64)));
            let old = local.as_mut().replace(Box::new(2)).expect("published above");
            *old.wait() == 1
        }
        Step::PollsAGracePeriod => {
            start_poll().wait();
            let state = start_poll();
            // The worker drives polled grace periods by itself.
            while !state.poll() {
                thread::yield_now();
            }
            true
        }
        Step::RunsItsOwnCallbacks => {
            let ran = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&ran);
            defer_rcu(move || flag.store(true, Ordering::SeqCst));
            rcu_barrier();
            ran.load(Ordering::SeqCst)
        }
        Step::RunsTheParentsQueuedCallbacks => PARENT_CALLBACKS_RAN.load(Ordering::SeqCst) & QUEUED != 0,
        Step::RunsTheParentsInFlightCallbacks => PARENT_CALLBACKS_RAN.load(Ordering::SeqCst) & IN_FLIGHT != 0,
        Step::DrainsThePendingCount => {
            let patience = Instant::now() + Duration::from_secs(5);
            while stats().callbacks_pending != 0 && Instant::now() < patience {
                thread::sleep(Duration::from_millis(1));
            }
            stats().callbacks_pending == 0
        }
    }
}

/// The child's whole life: every step, one progress line after each; the verdict names the
/// steps that failed.
fn child(report: &Reporter, shared: &Rcu<Box<u64>>, guard: rcu_runtime::Guard) -> Result<(), String> {
    // The section the forking thread held across the fork ends here too.
    drop(guard);
    let mut failed = Vec::new();
    for step in STEPS {
        let passed = std::panic::catch_unwind(|| child_step(step, shared)).unwrap_or(false);
        report.line(&format!("{step:?}: {}", if passed { "passed" } else { "FAILED" }));
        if !passed {
            failed.push(step);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("the child failed steps {failed:?} (and passed the others)"))
    }
}

#[test]
fn a_forked_child_can_use_rcu() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let shared = Arc::new(Rcu::new(Box::new(42_u64)));

    // Registered readers of other threads, idle at the fork: the child forgets them.
    let idle = Arc::new(Barrier::new(3));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (idle, shared) = (Arc::clone(&idle), Arc::clone(&shared));
            thread::spawn(move || {
                assert_eq!(shared.dereference(&read_lock()).copied(), Some(42));
                idle.wait(); // registered and idle
                idle.wait(); // until the fork is over
                assert_eq!(shared.dereference(&read_lock()).copied(), Some(42));
            })
        })
        .collect();
    idle.wait();
    // The forking thread's section spans the fork: in the parent it holds every grace period up.
    let guard = read_lock();
    // The worker takes this callback in a batch and waits for a grace period the section holds
    // up; the next one stays queued behind it. A caller of `synchronize_rcu` waits too.
    defer_rcu(|| {
        PARENT_CALLBACKS_RAN.fetch_or(IN_FLIGHT, Ordering::SeqCst);
    });
    // The batch delay is 1 ms, so the worker has taken it by now. (Had it not, the in-flight step
    // would pass without testing anything: this cannot make the test fail falsely.)
    thread::sleep(Duration::from_millis(50));
    defer_rcu(|| {
        PARENT_CALLBACKS_RAN.fetch_or(QUEUED, Ordering::SeqCst);
    });
    let waiter = thread::spawn(synchronize_rcu);

    let shared_in_child = Arc::clone(&shared);
    // SAFETY: the child runs only `child`; what it uses of the parent's state is what the
    // runtime's fork handlers keep consistent, plus its own copies of memory. The closure (and
    // the guard it holds) is dropped in the parent as soon as the child is forked.
    let child = unsafe { spawn_child(move |report| child(report, &shared_in_child, guard)) };

    // The parent is unaffected: once its section ends (the guard went with the closure),
    // everything completes here too.
    idle.wait();
    for reader in readers {
        reader.join().expect("a reader failed");
    }
    test_support::liveness::join_within(waiter, HANG, "the parent's synchronize_rcu");
    rcu_barrier();
    assert_eq!(
        PARENT_CALLBACKS_RAN.load(Ordering::SeqCst),
        IN_FLIGHT | QUEUED,
        "the parent ran its callbacks"
    );

    assert_eq!(
        child.wait(HANG),
        Outcome::Passed,
        "the child (its last line, if it hung or died, names the step)"
    );
}

/// What the child of the QSBR test checks, in order; its verdict names the checks that failed.
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
enum QsbrCheck {
    StillOnline = 1,
    ReadsThroughItsGuard,
    HoldsGracePeriodsUpUntilItsQuiescentState,
    SynchronizesOffline,
    SynchronizesAfterDroppingIt,
}

const QSBR_CHECKS: [QsbrCheck; 5] = [
    QsbrCheck::StillOnline,
    QsbrCheck::ReadsThroughItsGuard,
    QsbrCheck::HoldsGracePeriodsUpUntilItsQuiescentState,
    QsbrCheck::SynchronizesOffline,
    QsbrCheck::SynchronizesAfterDroppingIt,
];

#[test]
fn a_forked_child_keeps_the_forking_threads_qsbr_reader_and_forgets_offline_ones() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let shared = Arc::new(Rcu::new(Box::new(7_u64)));
    // Another thread's QSBR reader, offline across the fork: its thread does not exist in the
    // child, and nothing is borrowed under it, so the child forgets it.
    let offline = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let other = {
        let (offline, release) = (Arc::clone(&offline), Arc::clone(&release));
        thread::spawn(move || {
            let mut reader = rcu_runtime::QsbrReader::register();
            reader.while_offline(|| {
                offline.wait();
                release.wait();
            });
        })
    };
    offline.wait();
    let reader = rcu_runtime::QsbrReader::register();
    assert_eq!(shared.dereference(reader.guard()).copied(), Some(7));

    // SAFETY: the child runs only the checks below; what it uses of the parent's state is what
    // the runtime's fork handlers keep consistent. The reader goes with the closure: in the
    // parent it is dropped (taken offline and unregistered) as soon as the child is forked.
    let child = unsafe {
        spawn_child(move |_| {
            let mut failed = Vec::new();
            let mut reader = Some(reader);
            for check in QSBR_CHECKS {
                let passed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match check {
                    QsbrCheck::StillOnline => reader.as_ref().is_some_and(|r| r.is_online()) && is_reading(),
                    QsbrCheck::ReadsThroughItsGuard => {
                        reader.as_ref().and_then(|r| shared.dereference(r.guard()).copied()) == Some(7)
                    }
                    QsbrCheck::HoldsGracePeriodsUpUntilItsQuiescentState => {
                        // A thread of the child waits for a grace period: the reader, online, is
                        // still registered in the child, so the wait lasts until its quiescent state.
                        let done = Arc::new(AtomicBool::new(false));
                        let waiter = {
                            let done = Arc::clone(&done);
                            thread::spawn(move || {
                                synchronize_rcu();
                                done.store(true, Ordering::SeqCst);
                            })
                        };
                        thread::sleep(Duration::from_millis(50));
                        let held_up = !done.load(Ordering::SeqCst);
                        reader.as_mut().map(rcu_runtime::QsbrReader::quiescent_state);
                        waiter.join().is_ok() && held_up && done.load(Ordering::SeqCst)
                    }
                    QsbrCheck::SynchronizesOffline => {
                        reader.as_mut().map(rcu_runtime::QsbrReader::synchronize_rcu).is_some()
                    }
                    QsbrCheck::SynchronizesAfterDroppingIt => {
                        drop(reader.take());
                        synchronize_rcu();
                        !is_reading()
                    }
                }))
                .unwrap_or(false);
                if !passed {
                    failed.push(check);
                }
            }
            if failed.is_empty() { Ok(()) } else { Err(format!("the child failed checks {failed:?}")) }
        })
    };

    // The parent is unaffected (its grace periods wait for the other reader until it is gone).
    release.wait();
    other.join().expect("the other QSBR thread failed");
    synchronize_rcu();
    assert_eq!(child.wait(HANG), Outcome::Passed);
}
