//! Attacks from safe code on the core API: `Rcu`, `RcuOld`, `RcuBox`, callbacks
//! (`call_rcu`/`defer_rcu`/`rcu_barrier`/`drop_async`), the stall handler, `QsbrReader` and
//! polled grace periods, beyond what `panic_payloads.rs`, `reentrancy.rs`, `misuse_panics.rs`,
//! `fork_soundness.rs`, `qsbr.rs`, `callbacks.rs`, `stall.rs` and the other attack files cover:
//!
//! - `fork()` from inside the stall handler, on a thread that leads a grace period (a
//!   `synchronize_rcu` caller, and the callback worker): the child's copy of that thread goes on
//!   with the grace period and must complete it, and the child's later grace periods too;
//! - `fork()` from inside `QsbrReader::while_offline`, while another thread waits for room at
//!   the callback backpressure cap, and while other threads run grace periods back to back (in
//!   their membarrier step, among others), and while another thread runs the engine's one-time
//!   start-up;
//! - a stall handler that queues callbacks, reads, polls, registers and drops a `QsbrReader`,
//!   and replaces itself and the configuration;
//! - callbacks that poll a `GpState` in a loop or block on `wait_async` futures, in a process
//!   where nothing else drives grace periods: they must complete;
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
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::config::{
    StallReport, set_callback_batch_delay, set_max_pending_callbacks, set_stall_handler, set_stall_timeout,
};
use rcu_runtime::{
    QsbrReader, Rcu, RcuBox, RcuHead, RcuOld, RcuProtected, defer_rcu, is_reading, rcu_barrier, read_lock,
    start_poll, stats, synchronize_rcu,
};
use test_support::child::{Outcome, Reporter, in_child, wait_and_read};
use test_support::{Tracked, counter, isolated};

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

/// As [`fork_once_the_stall_is_over`], on the callback worker: the child's copy of the worker goes
/// on with its batch, and a thread of the child checks that grace periods and callbacks complete.
fn fork_on_the_worker_once_the_stall_is_over(report: &StallReport) {
    assert_eq!(thread::current().name(), Some("rcu-callbacks"), "the worker leads this grace period");
    fork_once_the_stall_is_over(report);
    if CHILD_PID.load(Ordering::SeqCst) == 0 {
        thread::spawn(|| child_checks_and_exits());
    }
}

#[test]
fn a_stall_handler_that_forks_on_the_callback_worker_leaves_the_child_a_working_worker() {
    if !isolated("a_stall_handler_that_forks_on_the_callback_worker_leaves_the_child_a_working_worker") {
        return;
    }
    set_stall_timeout(Duration::from_millis(20));
    set_stall_handler(fork_on_the_worker_once_the_stall_is_over);
    let reader = stalled_reader();
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    rcu_runtime::defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier(); // the worker's grace period stalls on the reader; the handler forks there
    reader.join().expect("the reader");
    assert!(ran.load(Ordering::SeqCst));
    assert!(FORKED.load(Ordering::SeqCst), "the stall handler ran");
    assert_eq!(child_outcome(), Outcome::Passed);
    synchronize_rcu();
}

// --- a stall handler that calls into the engine -------------------------------------------------

static BUSY_CALLS: AtomicUsize = AtomicUsize::new(0);
static REPLACEMENT_CALLS: AtomicUsize = AtomicUsize::new(0);
static QUEUED_BY_THE_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Queues callbacks past the backpressure cap, reads, polls, registers a QSBR reader, changes the
/// configuration and replaces itself: all from inside the grace period it reports on.
fn busy_stall_handler(_: &StallReport) {
    BUSY_CALLS.fetch_add(1, Ordering::SeqCst);
    set_max_pending_callbacks(8);
    for _ in 0..100 {
        // Past the cap: the handler must not wait for room (the worker needs this grace period).
        defer_rcu(|| {
            QUEUED_BY_THE_HANDLER.fetch_add(1, Ordering::SeqCst);
        });
    }
    let guard = read_lock();
    assert!(is_reading());
    drop(guard);
    let _ = start_poll().poll();
    let _ = stats();
    let mut reader = QsbrReader::register();
    reader.quiescent_state();
    drop(reader);
    set_stall_timeout(Duration::from_millis(10));
    set_stall_handler(replacement_stall_handler);
}

fn replacement_stall_handler(_: &StallReport) {
    REPLACEMENT_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_stall_handler_that_queues_reads_registers_and_replaces_itself_lets_the_grace_period_end() {
    if !isolated("a_stall_handler_that_queues_reads_registers_and_replaces_itself_lets_the_grace_period_end")
    {
        return;
    }
    set_stall_timeout(Duration::from_millis(20));
    set_stall_handler(busy_stall_handler);
    let (inside, is_inside) = mpsc::channel();
    let reader = thread::spawn(move || {
        let _guard = read_lock();
        inside.send(()).expect("the test waits");
        // Inside until the replacement handler has reported this stall too.
        let deadline = Instant::now() + Duration::from_secs(10);
        while REPLACEMENT_CALLS.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
    });
    is_inside.recv().expect("the reader entered its section");
    synchronize_rcu();
    reader.join().expect("the reader");
    assert_eq!(BUSY_CALLS.load(Ordering::SeqCst), 1, "replaced after its first report");
    assert!(REPLACEMENT_CALLS.load(Ordering::SeqCst) >= 1, "the replacement reports the same stall");
    rcu_barrier();
    assert_eq!(QUEUED_BY_THE_HANDLER.load(Ordering::SeqCst), 100);
    assert_eq!(stats().callbacks_pending, 0);
}

// --- callbacks that call into the engine --------------------------------------------------------

#[test]
fn a_callback_may_wait_poll_register_reconfigure_and_queue_thousands_past_the_cap() {
    if !isolated("a_callback_may_wait_poll_register_reconfigure_and_queue_thousands_past_the_cap") {
        return;
    }
    let queued = counter();
    let done = Arc::new(AtomicBool::new(false));
    let (queued_in, done_in) = (Arc::clone(&queued), Arc::clone(&done));
    defer_rcu(move || {
        synchronize_rcu();
        start_poll().wait();
        let mut rcu = pin!(Rcu::new(Box::new(1_u64)));
        assert_eq!(*rcu.as_mut().replace(Box::new(2)).expect("non-null").wait(), 1);
        let mut reader = QsbrReader::register();
        reader.quiescent_state();
        reader.synchronize_rcu();
        drop(reader);
        let before = stats();
        assert!(before.callbacks_pending >= 1, "this callback is pending while it runs");
        set_max_pending_callbacks(4);
        for _ in 0..10_000 {
            let queued = Arc::clone(&queued_in);
            defer_rcu(move || {
                queued.fetch_add(1, Ordering::SeqCst);
            });
        }
        done_in.store(true, Ordering::SeqCst);
        // `rcu` (holding 2) is dropped here, on the worker: after the worker's next grace period.
    });
    // Meanwhile, a user thread queues past the cap: it waits for room, and gets it.
    let mine = counter();
    for _ in 0..100 {
        let mine = Arc::clone(&mine);
        defer_rcu(move || {
            mine.fetch_add(1, Ordering::SeqCst);
        });
    }
    rcu_barrier();
    assert!(done.load(Ordering::SeqCst));
    assert_eq!(queued.load(Ordering::SeqCst), 10_000, "rcu_barrier waits for what callbacks queue");
    assert_eq!(mine.load(Ordering::SeqCst), 100);
    let after = stats();
    assert_eq!(after.callbacks_pending, 0);
    assert_eq!(after.callback_panics, 0);
    assert!(after.callbacks_run >= 10_102, "{after:?}");
}

// --- several panicking drops in one batch ---------------------------------------------------------

static BAD_DROPS: AtomicUsize = AtomicUsize::new(0);

/// A value whose destructor panics with a payload whose destructor panics.
#[derive(RcuProtected)]
struct Bad {
    #[rcu_head]
    head: RcuHead,
}

impl Bad {
    fn boxed() -> Box<Self> {
        Box::new(Self { head: RcuHead::new() })
    }
}

impl Drop for Bad {
    fn drop(&mut self) {
        BAD_DROPS.fetch_add(1, Ordering::SeqCst);
        panic_any(PanicsOnDrop);
    }
}

#[test]
fn many_values_whose_drop_panics_with_a_bad_payload_in_one_batch_neither_abort_nor_stop_the_worker() {
    if !isolated(
        "many_values_whose_drop_panics_with_a_bad_payload_in_one_batch_neither_abort_nor_stop_the_worker",
    ) {
        return;
    }
    // A long batch delay: everything below goes into one batch.
    set_callback_batch_delay(Duration::from_millis(200));
    let before = stats();
    for _ in 0..3 {
        let mut rcu = pin!(Rcu::new(Bad::boxed()));
        rcu.as_mut().take().expect("non-null").drop_async();
        let mut rcu = pin!(Rcu::new(Bad::boxed()));
        rcu.as_mut().take().expect("non-null").defer_drop();
        drop(RcuBox::new(Bad { head: RcuHead::new() }));
        defer_rcu(|| panic_any(PanicsOnDrop));
    }
    rcu_barrier();
    let after = stats();
    assert_eq!(BAD_DROPS.load(Ordering::SeqCst), 9, "every value was dropped once");
    assert_eq!(after.callback_panics - before.callback_panics, 12, "every panic was counted once");
    assert_eq!(after.callbacks_run - before.callbacks_run, 13, "twelve callbacks and the barrier's marker");
    assert_eq!(after.callbacks_pending, 0);
    // The worker carries on.
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier();
    assert!(ran.load(Ordering::SeqCst));
}

// --- values whose drop calls into the engine ----------------------------------------------------

type Shared = Arc<Mutex<std::pin::Pin<Box<Rcu<Box<Tracked>>>>>>;

/// A value whose destructor waits for a grace period, drops an `RcuOld` it owns and replaces
/// (and drops the old value of) an `Rcu` shared with the test.
struct Reentrant {
    inner: Option<RcuOld<Box<Tracked>>>,
    shared: Shared,
    drops: Arc<AtomicUsize>,
}

impl Reentrant {
    fn new(id: u64, shared: &Shared, drops: &Arc<AtomicUsize>) -> Self {
        let mut rcu = Box::pin(Rcu::new(Box::new(Tracked::new(id, drops))));
        let inner = rcu.as_mut().take();
        Self { inner, shared: Arc::clone(shared), drops: Arc::clone(drops) }
    }
}

impl Drop for Reentrant {
    fn drop(&mut self) {
        synchronize_rcu();
        drop(self.inner.take());
        let old = self
            .shared
            .lock()
            .expect("not poisoned")
            .as_mut()
            .replace(Box::new(Tracked::new(0, &self.drops)));
        drop(old);
    }
}

#[test]
fn values_whose_drop_waits_drops_rcu_olds_and_replaces_an_rcu_are_freed_wherever_they_are_dropped() {
    let drops = counter();
    let shared: Shared = Arc::new(Mutex::new(Box::pin(Rcu::new(Box::new(Tracked::new(0, &drops))))));
    // On this thread: the RcuOld waits, then the value's drop runs here.
    let mut rcu = pin!(Rcu::new(Box::new(Reentrant::new(1, &shared, &drops))));
    drop(rcu.as_mut().take());
    assert_eq!(drops.load(Ordering::SeqCst), 2, "its RcuOld's value and the replaced value");
    // Given back by `wait`, dropped here.
    let mut rcu = pin!(Rcu::new(Box::new(Reentrant::new(2, &shared, &drops))));
    drop(rcu.as_mut().take().expect("non-null").wait());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    // On the worker, three ways; the RcuOlds they drop there are freed after its next grace period.
    let mut rcu = pin!(Rcu::new(Box::new(Reentrant::new(3, &shared, &drops))));
    rcu.as_mut().take().expect("non-null").defer_drop();
    drop(RcuBox::new(Reentrant::new(4, &shared, &drops)));
    let late = Reentrant::new(5, &shared, &drops);
    defer_rcu(move || drop(late));
    rcu_barrier();
    assert_eq!(drops.load(Ordering::SeqCst), 10, "everything the worker dropped, transitively");
    drop(shared);
    assert_eq!(drops.load(Ordering::SeqCst), 11);
}

// --- QSBR readers -----------------------------------------------------------------------------

#[test]
fn a_while_offline_closure_panicking_with_a_bad_payload_leaves_the_reader_online_and_working() {
    thread::spawn(|| {
        let mut reader = QsbrReader::register();
        let payload = catch_unwind(AssertUnwindSafe(|| {
            reader.while_offline(|| {
                assert!(!is_reading());
                synchronize_rcu();
                panic_any(PanicsOnDrop);
            });
        }))
        .expect_err("the closure panicked");
        // Dropping the payload would panic again; it is a zero-sized value, so nothing leaks.
        assert!(payload.is::<PanicsOnDrop>());
        std::mem::forget(payload);
        assert!(reader.is_online());
        assert!(is_reading());
        reader.quiescent_state();
        reader.synchronize_rcu();
        reader.rcu_barrier();
    })
    .join()
    .expect("the reader's thread");
}

#[test]
fn a_fork_inside_while_offline_leaves_both_readers_usable() {
    if !isolated("a_fork_inside_while_offline_leaves_both_readers_usable") {
        return;
    }
    let mut reader = QsbrReader::register();
    let mut pipe = [0; 2];
    // SAFETY: `pipe` is a live array of two descriptors for `pipe` to fill.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0, "pipe failed");
    let pid = reader.while_offline(|| {
        synchronize_rcu();
        // SAFETY: the child only uses the engine (whose fork handlers keep it consistent) and its
        // own copies of memory, and `_exit`s without returning into the test harness.
        unsafe { libc::fork() }
    });
    assert!(pid >= 0, "fork failed");
    let check = |reader: &mut QsbrReader| {
        assert!(reader.is_online());
        reader.quiescent_state();
        let mut value = Box::pin(Rcu::new(Box::new(1_u64)));
        assert_eq!(value.dereference(reader.guard()).copied(), Some(1));
        let old = value.as_mut().replace(Box::new(2)).expect("non-null");
        // Both wait for a grace period: offline.
        reader.while_offline(|| drop((old, value)));
        reader.synchronize_rcu();
        reader.rcu_barrier();
    };
    if pid == 0 {
        let reporter = Reporter::from_fd(pipe[1]);
        let verdict = catch_unwind(AssertUnwindSafe(|| check(&mut reader)));
        reporter.line(if verdict.is_ok() { "PASSED" } else { "FAILED the child's checks panicked" });
        // SAFETY: ends the forked child without returning into the test harness.
        unsafe { libc::_exit(0) }
    }
    // SAFETY: the write end belongs to the child.
    unsafe { libc::close(pipe[1]) };
    check(&mut reader);
    assert_eq!(wait_and_read(pid, pipe[0], Duration::from_secs(10)), Outcome::Passed);
}

// --- fork while a thread waits for room in the callback queue -------------------------------------

#[test]
fn a_fork_while_a_thread_waits_at_the_backpressure_cap_leaves_the_child_a_working_queue() {
    if !isolated("a_fork_while_a_thread_waits_at_the_backpressure_cap_leaves_the_child_a_working_queue") {
        return;
    }
    set_max_pending_callbacks(4);
    let slow_ran = counter();
    {
        // Inside a section, queueing never waits: twelve slow callbacks, past the cap.
        let _guard = read_lock();
        for _ in 0..12 {
            let slow_ran = Arc::clone(&slow_ran);
            defer_rcu(move || {
                thread::sleep(Duration::from_millis(10));
                slow_ran.fetch_add(1, Ordering::SeqCst);
            });
        }
    }
    // This thread waits for room (most likely while the fork below happens).
    let waiter = thread::spawn(|| defer_rcu(|| {}));
    thread::sleep(Duration::from_millis(15));
    // SAFETY: the child only uses the engine, whose fork handlers keep it consistent.
    let outcome = unsafe {
        in_child(Duration::from_secs(10), |_| {
            let ran = counter();
            for _ in 0..20 {
                let ran = Arc::clone(&ran);
                defer_rcu(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }
            rcu_barrier();
            match ran.load(Ordering::SeqCst) {
                20 => Ok(()),
                n => Err(format!("{n} of 20 callbacks ran in the child")),
            }
        })
    };
    assert_eq!(outcome, Outcome::Passed);
    waiter.join().expect("the waiting thread");
    rcu_barrier();
    assert_eq!(slow_ran.load(Ordering::SeqCst), 12);
}

// --- forgotten values ---------------------------------------------------------------------------

#[test]
fn rcu_olds_forgotten_by_the_hundred_thousand_change_nothing_else() {
    let mut rcu = pin!(Rcu::new(Box::new(())));
    for _ in 0..100_000 {
        // A zero-sized value: forgetting its box leaks nothing.
        std::mem::forget(rcu.as_mut().replace(Box::new(())));
    }
    let grace_periods = stats().grace_periods;
    synchronize_rcu();
    assert!(stats().grace_periods > grace_periods);
    let ran = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    defer_rcu(move || flag.store(true, Ordering::SeqCst));
    rcu_barrier();
    assert!(ran.load(Ordering::SeqCst));
}

// --- polled grace periods on the callback worker ------------------------------------------------

/// Polls `poll` until it returns `true`, for at most two seconds; returns whether it did.
fn polls_to_completion(mut poll: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !poll() {
        if Instant::now() > deadline {
            return false;
        }
        thread::yield_now();
    }
    true
}

/// A waker that unparks the thread that made it.
struct Unpark(thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread, for at most two seconds; `None` if it did not
/// complete by then (the future is dropped).
fn block_on_for_a_while<F: std::future::Future>(future: F) -> Option<F::Output> {
    let waker = std::task::Waker::from(Arc::new(Unpark(thread::current())));
    let mut future = pin!(future);
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let std::task::Poll::Ready(output) =
            future.as_mut().poll(&mut std::task::Context::from_waker(&waker))
        {
            return Some(output);
        }
        let now = Instant::now();
        if now > deadline {
            return None;
        }
        thread::park_timeout(deadline - now);
    }
}

#[test]
fn a_callback_that_polls_or_awaits_a_grace_period_sees_it_complete_in_a_quiet_process() {
    if !isolated("a_callback_that_polls_or_awaits_a_grace_period_sees_it_complete_in_a_quiet_process") {
        return;
    }
    let (verdicts, results) = mpsc::channel();
    defer_rcu(move || {
        // The worker is the thread that drives polled grace periods; nothing else runs one here.
        let state = start_poll();
        let polled = polls_to_completion(|| state.poll());
        let mut rcu = pin!(Rcu::new(Box::new(1_u64)));
        let old = rcu.as_mut().replace(Box::new(2)).expect("non-null");
        let state = old.grace_period();
        let polled_old = polls_to_completion(|| state.poll());
        let awaited = block_on_for_a_while(start_poll().wait_async()).is_some();
        let old = rcu.as_mut().replace(Box::new(3)).expect("non-null");
        let awaited_old = block_on_for_a_while(old.wait_async()).map(|value| *value);
        verdicts.send((polled, polled_old, awaited, awaited_old)).expect("the test waits");
    });
    rcu_barrier();
    let verdict = results.recv().expect("the callback ran");
    assert_eq!(verdict, (true, true, true, Some(2)), "(start_poll, RcuOld::grace_period, wait_async ×2)");
}

// --- fork while other threads run grace periods -------------------------------------------------

#[test]
fn forks_while_other_threads_run_grace_periods_back_to_back_leave_children_that_complete_theirs() {
    if !isolated(
        "forks_while_other_threads_run_grace_periods_back_to_back_leave_children_that_complete_theirs",
    ) {
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let updaters: Vec<_> = (0..2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let mut value = pin!(Rcu::new(Box::new(0_u64)));
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    drop(value.as_mut().replace(Box::new(n)));
                    synchronize_rcu();
                }
            })
        })
        .collect();
    for _ in 0..5 {
        thread::sleep(Duration::from_millis(5));
        // SAFETY: the child only uses the engine, whose fork handlers keep it consistent.
        let outcome = unsafe {
            in_child(Duration::from_secs(10), |report| {
                report.line("forked");
                synchronize_rcu();
                report.line("synchronized");
                let mut value = pin!(Rcu::new(Box::new(1_u64)));
                drop(value.as_mut().replace(Box::new(2)));
                report.line("replaced");
                let ran = Arc::new(AtomicBool::new(false));
                let flag = Arc::clone(&ran);
                defer_rcu(move || flag.store(true, Ordering::SeqCst));
                rcu_barrier();
                if ran.load(Ordering::SeqCst) { Ok(()) } else { Err("the callback did not run".to_owned()) }
            })
        };
        assert_eq!(outcome, Outcome::Passed);
    }
    stop.store(true, Ordering::SeqCst);
    for updater in updaters {
        updater.join().expect("an updater");
    }
}

// --- fork during the engine's start-up ----------------------------------------------------------

#[test]
fn a_fork_while_another_thread_starts_the_engine_leaves_the_child_an_engine_that_starts() {
    if !isolated("a_fork_while_another_thread_starts_the_engine_leaves_the_child_an_engine_that_starts") {
        return;
    }
    // Nothing has started the engine in this process yet: this thread's first call does (the
    // environment, the membarrier registration, a system call that takes a while, the fork
    // handlers), and the fork most likely lands in the middle of it.
    let starter = thread::spawn(synchronize_rcu);
    thread::sleep(Duration::from_micros(500));
    // SAFETY: the child only uses the engine, and forks a grandchild that only uses it too.
    let outcome = unsafe {
        in_child(Duration::from_secs(10), |report| {
            synchronize_rcu();
            report.line("the child's engine started");
            let guard = read_lock();
            drop(guard);
            let ran = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&ran);
            defer_rcu(move || flag.store(true, Ordering::SeqCst));
            rcu_barrier();
            if !ran.load(Ordering::SeqCst) {
                return Err("the callback did not run".to_owned());
            }
            report.line("the child's callbacks run");
            // The fork handlers are installed once in the child (twice, the prepare handler would
            // take its locks twice and this fork would never return).
            match in_child(Duration::from_secs(5), |_| {
                synchronize_rcu();
                Ok(())
            }) {
                Outcome::Passed => Ok(()),
                other => Err(format!("the grandchild: {other:?}")),
            }
        })
    };
    starter.join().expect("the starting thread");
    assert_eq!(outcome, Outcome::Passed);
    synchronize_rcu();
}
