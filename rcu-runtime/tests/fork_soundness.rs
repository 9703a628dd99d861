//! `fork()` at odd moments: what the child may and may not do, and that `fork()` itself never
//! deadlocks against the engine.
//!
//! - A section open on another thread at the fork (also: a guard leaked by a thread that has
//!   exited) never ends in the child, where its borrows may live on: the child's grace periods
//!   wait for it for good, and the stall reports say why.
//! - A callback that forks: the child has one worker, itself, which finishes its batch, runs
//!   what the child queues, and never throttles waiting for itself.
//! - `fork()` while a callback runs a grace period, a registration or a polled wait: the fork
//!   waits for the callback, never the other way round. Also through `Command::spawn` with
//!   `pre_exec`.
//! - A child inherits a polled grace period and queued callbacks: polling drives them to
//!   completion, and the inherited callbacks run oldest first.
//!
//! Each scenario runs in a child process of its own (so a leaked guard or a stalled engine stays
//! there), one at a time (a thread of one scenario, reading at another's fork, would be kept by
//! that child).

use core::pin::pin;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::config::{StallReport, set_max_pending_callbacks, set_stall_handler, set_stall_timeout};
use rcu_runtime::{Rcu, RcuBox, defer_rcu, rcu_barrier, read_lock, start_poll, stats, synchronize_rcu};
use test_support::child::{Outcome, in_child};
use test_support::{Tracked, counter};

/// Long enough for any scenario on a loaded machine; a scenario that takes longer hangs.
const LIMIT: Duration = Duration::from_secs(30);
/// How long a child watches a grace period that must not complete.
const WATCH: Duration = Duration::from_millis(300);

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `scenario` in a process of its own and asserts that it passed.
fn scenario(name: &str, scenario: impl FnOnce(&test_support::child::Reporter) -> Result<(), String>) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    // SAFETY: no other test of this file runs meanwhile, and the test harness's own threads do
    // not use RCU; the scenario process uses what the fork handlers keep consistent.
    let outcome = unsafe { in_child(LIMIT, scenario) };
    assert_eq!(outcome, Outcome::Passed, "scenario {name}");
}

/// Forks a grandchild from inside a scenario and returns what became of it.
fn grandchild(check: impl FnOnce(&test_support::child::Reporter) -> Result<(), String>) -> Outcome {
    // SAFETY: the scenarios fork only at the points they are about, and the grandchild runs
    // `check` alone, on what the fork handlers keep consistent.
    unsafe { in_child(LIMIT, check) }
}

/// The stall reports a child has seen, whether each said its reader was gone since the fork.
static STALLS: Mutex<Vec<bool>> = Mutex::new(Vec::new());

fn record_stall(report: &StallReport) {
    STALLS.lock().unwrap_or_else(PoisonError::into_inner).push(report.gone_since_fork);
}

/// In a child: checks that a grace period does not complete within [`WATCH`], and that a stall
/// report names a reader gone since the fork.
fn grace_periods_wait_for_good() -> Result<(), String> {
    set_stall_timeout(Duration::from_millis(50));
    set_stall_handler(record_stall);
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            synchronize_rcu();
            done.store(true, Ordering::SeqCst);
        });
    }
    let polled = start_poll();
    thread::sleep(WATCH);
    if done.load(Ordering::SeqCst) || polled.poll() {
        return Err("a grace period completed although a section open at the fork never ends".into());
    }
    let stalls = STALLS.lock().unwrap_or_else(PoisonError::into_inner).clone();
    if !stalls.contains(&true) {
        return Err(format!("no stall report named a reader gone since the fork: {stalls:?}"));
    }
    Ok(())
}

#[test]
fn a_section_open_on_another_thread_at_the_fork_holds_the_childs_grace_periods_for_good() {
    scenario("open section at fork", |_| {
        let shared = Arc::new(Rcu::new(Box::new(7_u64)));
        let entered = Arc::new(Barrier::new(2));
        let release = Arc::new(Barrier::new(2));
        let reader = {
            let (shared, entered, release) =
                (Arc::clone(&shared), Arc::clone(&entered), Arc::clone(&release));
            thread::spawn(move || {
                let guard = read_lock();
                // A borrow under this section could be anywhere in memory by now (a scoped
                // thread, a channel): the child cannot tell.
                let seven = shared.dereference(&guard).copied();
                entered.wait();
                release.wait();
                seven
            })
        };
        entered.wait();
        let outcome = grandchild(|_| grace_periods_wait_for_good());
        release.wait();
        if reader.join().map_err(|_| "the reader panicked".to_owned())? != Some(7) {
            return Err("the reader read the wrong value".into());
        }
        synchronize_rcu(); // the parent is unaffected
        match outcome {
            Outcome::Passed => Ok(()),
            other => Err(format!("child: {other:?}")),
        }
    });
}

#[test]
fn a_guard_leaked_by_a_thread_that_exited_keeps_its_borrow_valid_in_a_forked_child() {
    scenario("leaked guard at fork", |_| {
        static BORROW: OnceLock<&'static Tracked> = OnceLock::new();
        let drops = counter();
        let owner = Arc::new(Mutex::new(Some(RcuBox::new(Tracked::new(1, &drops)))));
        {
            let owner = Arc::clone(&owner);
            thread::spawn(move || {
                let guard: &'static _ = Box::leak(Box::new(read_lock()));
                let lock = owner.lock().unwrap_or_else(PoisonError::into_inner);
                let tracked = lock.as_ref().expect("still owned").with_rcu(guard);
                BORROW.set(tracked).ok().expect("set once");
            })
            .join()
            .map_err(|_| "the leaking thread panicked".to_owned())?;
        }
        let outcome = grandchild(|_| {
            // The owner drops the box in the child: it must not be freed while the leaked
            // section lives, here as in the parent.
            drop(owner.lock().unwrap_or_else(PoisonError::into_inner).take());
            let barrier_done = Arc::new(AtomicBool::new(false));
            {
                let barrier_done = Arc::clone(&barrier_done);
                thread::spawn(move || {
                    rcu_barrier();
                    barrier_done.store(true, Ordering::SeqCst);
                });
            }
            thread::sleep(WATCH);
            let borrow = BORROW.get().ok_or("no borrow")?;
            if barrier_done.load(Ordering::SeqCst) || drops.load(Ordering::SeqCst) != 0 {
                return Err("the box was freed under the leaked guard's borrow".into());
            }
            // Panics (a failed check) if the value was dropped under the borrow.
            borrow.check();
            Ok(())
        });
        match outcome {
            Outcome::Passed => Ok(()),
            other => Err(format!("child: {other:?}")),
        }
    });
}

#[test]
fn a_callback_that_forks_is_the_childs_one_worker() {
    scenario("fork from a callback", |_| {
        static OUTCOME: Mutex<Option<Outcome>> = Mutex::new(None);
        set_max_pending_callbacks(8);
        defer_rcu(|| {
            // On the worker, inside a callback. The child's only thread is this worker: it must
            // go on serving the child (nothing else would), so the check runs on a thread that
            // the callback starts, and the callback returns.
            let outcome = fork_with(|report| {
                let ran = Arc::new(AtomicUsize::new(0));
                // More than the backpressure bound: on the worker, queueing never waits.
                for _ in 0..100 {
                    let ran = Arc::clone(&ran);
                    defer_rcu(move || {
                        ran.fetch_add(1, Ordering::SeqCst);
                    });
                }
                report.line("queued 100 callbacks from the worker");
                thread::spawn(move || {
                    rcu_barrier();
                    synchronize_rcu();
                    let ran = ran.load(Ordering::SeqCst);
                    if ran == 100 { Ok(()) } else { Err(format!("{ran} of 100 callbacks ran")) }
                })
            });
            *OUTCOME.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
        });
        rcu_barrier();
        set_max_pending_callbacks(32_768);
        let outcome = OUTCOME.lock().unwrap_or_else(PoisonError::into_inner).take();
        match outcome {
            Some(Outcome::Passed) => Ok(()),
            other => Err(format!("child: {other:?}")),
        }
    });
}

/// Forks; the child runs `start` on the calling thread, which returns at once with a thread
/// whose result is the verdict (the child `_exit`s when it is known); the calling thread goes on
/// in the child as it would have. The parent waits for the child's verdict.
fn fork_with(
    start: impl FnOnce(&test_support::child::Reporter) -> thread::JoinHandle<Result<(), String>>,
) -> Outcome {
    let mut pipe = [0; 2];
    // SAFETY: `pipe` is a live array of two descriptors for `pipe` to fill.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0, "pipe failed");
    let [read_end, write_end] = pipe;
    // SAFETY: the child runs `start` and a verdict thread, on state the fork handlers keep
    // consistent, and ends with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let reporter = test_support::child::Reporter::from_fd(write_end);
        let verdict = start(&reporter);
        thread::spawn(move || {
            let verdict = verdict.join().unwrap_or_else(|_| Err("the check panicked".into()));
            match verdict {
                Ok(()) => reporter.line("PASSED"),
                Err(message) => reporter.line(&format!("FAILED {message}")),
            }
            // SAFETY: ends the child at once, whatever its other threads are doing.
            unsafe { libc::_exit(0) }
        });
        return Outcome::Passed; // the child's worker goes on; its verdict thread exits it
    }
    // SAFETY: the write end belongs to the child.
    unsafe { libc::close(write_end) };
    test_support::child::wait_and_read(pid, read_end, LIMIT)
}

/// The engine calls a running callback makes while another thread forks.
#[derive(Clone, Copy, Debug)]
enum CallbackCall {
    Synchronize,
    RcuOldWait,
    PolledWait,
    FirstReadLock,
}

fn fork_while_a_callback_calls(call: CallbackCall) {
    scenario(&format!("fork while a callback calls {call:?}"), |_| {
        let started = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        {
            let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
            defer_rcu(move || {
                started.store(true, Ordering::SeqCst);
                // Long enough for the other thread to be inside `fork()` by now.
                thread::sleep(Duration::from_millis(100));
                match call {
                    CallbackCall::Synchronize => synchronize_rcu(),
                    CallbackCall::RcuOldWait => {
                        let mut local = pin!(Rcu::new(Box::new(1)));
                        drop(local.as_mut().replace(Box::new(2)).map(rcu_runtime::RcuOld::wait));
                    }
                    CallbackCall::PolledWait => start_poll().wait(),
                    CallbackCall::FirstReadLock => drop(read_lock()),
                }
                finished.store(true, Ordering::SeqCst);
            });
        }
        let deadline = Instant::now() + LIMIT;
        while !started.load(Ordering::SeqCst) {
            if Instant::now() > deadline {
                return Err("the callback never started".into());
            }
            thread::sleep(Duration::from_millis(1));
        }
        let outcome = grandchild(|_| {
            synchronize_rcu();
            rcu_barrier();
            Ok(())
        });
        rcu_barrier();
        if !finished.load(Ordering::SeqCst) {
            return Err("the callback did not finish".into());
        }
        match outcome {
            Outcome::Passed => Ok(()),
            other => Err(format!("child: {other:?}")),
        }
    });
}

#[test]
fn fork_waits_for_a_callback_that_synchronizes() {
    fork_while_a_callback_calls(CallbackCall::Synchronize);
}

#[test]
fn fork_waits_for_a_callback_that_waits_for_an_rcu_old() {
    fork_while_a_callback_calls(CallbackCall::RcuOldWait);
}

#[test]
fn fork_waits_for_a_callback_that_waits_for_a_polled_grace_period() {
    fork_while_a_callback_calls(CallbackCall::PolledWait);
}

#[test]
fn fork_waits_for_a_callback_that_registers_its_thread() {
    fork_while_a_callback_calls(CallbackCall::FirstReadLock);
}

#[test]
fn command_spawn_with_pre_exec_while_callbacks_run() {
    scenario("Command::spawn with pre_exec", |_| {
        let stop = Arc::new(AtomicBool::new(false));
        let busy = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Callbacks that wait for grace periods and register, over and over.
                    defer_rcu(|| {
                        synchronize_rcu();
                        drop(read_lock());
                    });
                    thread::sleep(Duration::from_micros(200));
                }
            })
        };
        for _ in 0..20 {
            let mut command = Command::new("true");
            // SAFETY: the closure does nothing, which is async-signal-safe.
            unsafe { command.pre_exec(|| Ok(())) };
            let status = command.status().map_err(|err| format!("spawn failed: {err}"))?;
            if !status.success() {
                return Err(format!("`true` failed: {status}"));
            }
        }
        stop.store(true, Ordering::Relaxed);
        busy.join().map_err(|_| "the busy thread panicked".to_owned())?;
        rcu_barrier();
        Ok(())
    });
}

#[test]
fn a_forked_child_completes_inherited_grace_periods_and_callbacks_oldest_first() {
    scenario("inherited work", |_| {
        static ORDER: Mutex<Vec<u8>> = Mutex::new(Vec::new());
        fn ran(which: u8) {
            ORDER.lock().unwrap_or_else(PoisonError::into_inner).push(which);
        }
        // This thread's section holds every grace period up, so the worker takes the first
        // callback in a batch and waits; the second stays queued; the polled grace period does
        // not complete before the fork.
        let guard = read_lock();
        defer_rcu(|| ran(1));
        thread::sleep(Duration::from_millis(50)); // the worker takes it into a batch
        defer_rcu(|| ran(2));
        let polled = start_poll();
        let outcome = grandchild(|report| {
            drop(guard);
            defer_rcu(|| ran(3));
            // Nothing but polling: no rcu_barrier, no synchronize_rcu.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !polled.poll() {
                if Instant::now() > deadline {
                    return Err("the inherited polled grace period never completed".into());
                }
                thread::sleep(Duration::from_millis(1));
            }
            report.line("polled grace period completed");
            while stats().callbacks_pending != 0 {
                if Instant::now() > deadline {
                    return Err(format!("{} callbacks still pending", stats().callbacks_pending));
                }
                thread::sleep(Duration::from_millis(1));
            }
            let order = ORDER.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if order == [1, 2, 3] { Ok(()) } else { Err(format!("callbacks ran in the order {order:?}")) }
        });
        match outcome {
            Outcome::Passed => Ok(()),
            other => Err(format!("child: {other:?}")),
        }
    });
}
