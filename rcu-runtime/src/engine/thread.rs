//! What the engine knows about the current thread: its reader (registered on first use,
//! unregistered at exit), its QSBR reader if it has one, and what it is doing right now (running
//! callbacks, reporting a stall), which decides whether it may wait for a grace period.
//!
//! The read side starts here: [`enter`] and [`exit`] are what `read_lock` and `Guard::drop`
//! compile to.

use core::cell::{Cell, RefCell};
use core::ptr;

use super::reader::ReaderNode;
use super::sync::Arc;
use super::{domain, start};

/// Where every thread's reader pointer starts, and returns to when its registration is torn down:
/// a reader that is never inside a section and tells `enter` that it must register first.
static UNREGISTERED: ReaderNode = ReaderNode::unregistered();

thread_local! {
    /// This thread's reader: [`UNREGISTERED`] before registration and after deregistration, so
    /// that it is never null and the read side pays one TLS load for it and no check.
    /// Const-initialized and without destructor.
    static READER: Cell<*const ReaderNode> = const { Cell::new(&raw const UNREGISTERED) };
    /// Keeps this thread's reader alive and unregisters it when the thread exits.
    static REGISTRATION: RefCell<Option<Registration>> = const { RefCell::new(None) };
    /// This thread's QSBR reader node while a `QsbrReader` exists on it, else null.
    static QSBR: Cell<*const ReaderNode> = const { Cell::new(ptr::null()) };
    /// Set while this thread runs the stall handler, inside the grace period it reports on.
    static REPORTING_STALL: Cell<bool> = const { Cell::new(false) };
}

/// Owns a thread's registration; dropped by the thread-local destructors at thread exit.
struct Registration(Arc<ReaderNode>);

impl Drop for Registration {
    fn drop(&mut self) {
        if self.0.is_reading() {
            // A guard of this thread is still alive: leaked with `mem::forget`, or kept in a
            // thread-local that is destroyed after this one. Its critical section has not ended,
            // and borrows taken under it (`&'static` ones, for a leaked guard) may have reached
            // other threads, so grace periods must keep waiting for it: the reader stays
            // registered, and `READER` stays valid (the registry keeps the node alive) so that a
            // guard dropped later still ends the section. A leaked guard thus stalls grace
            // periods for good, and the stall reports name this thread.
            return;
        }
        READER.set(&raw const UNREGISTERED);
        domain().unregister(&self.0);
    }
}

/// Registers the current thread as a reader and returns its node.
fn register_current_thread() -> *const ReaderNode {
    start();
    let thread = std::thread::current();
    let node = Arc::new(ReaderNode::new(thread.name().map(str::to_owned), current_tid()));
    let raw = Arc::as_ptr(&node);
    domain().register(Arc::clone(&node));
    let kept = REGISTRATION.try_with(|registration| {
        *registration.borrow_mut() = Some(Registration(Arc::clone(&node)));
    });
    if kept.is_err() {
        // The thread is already running its thread-local destructors: nothing can unregister it
        // at exit any more, so the registry keeps the node for good. It stays idle outside this
        // last critical section, so it never holds a grace period up.
        core::mem::forget(node);
    }
    READER.set(raw);
    raw
}

/// The OS thread id, for stall reports.
pub(crate) fn current_tid() -> i64 {
    // SAFETY: gettid has no preconditions and cannot fail.
    i64::from(unsafe { libc::gettid() })
}

/// Enters a read-side critical section on this thread's reader, registering it first if needed.
#[inline]
#[track_caller]
pub(crate) fn enter() {
    // SAFETY: `READER` points to `UNREGISTERED` (a static) or to this thread's node, kept alive
    // by its `Registration` (or leaked for good), which outlives every use on this thread.
    if !unsafe { (*READER.get()).enter(domain()) } {
        enter_registering();
    }
}

/// [`enter`] on a thread that is not registered yet.
#[cold]
#[inline(never)]
#[track_caller]
fn enter_registering() {
    let node = register_current_thread();
    // SAFETY: the node just registered, kept alive as in `enter`.
    unsafe { (*node).lock(domain()) };
}

/// Leaves the read-side critical section entered by the matching [`enter`].
///
/// When the thread's registration was already torn down (a guard kept in a thread-local that is
/// destroyed after ours), `READER` is back at `UNREGISTERED`, whose `unlock` does nothing:
/// deregistration marked the reader idle.
#[inline]
pub(crate) fn exit() {
    // SAFETY: as in `enter`.
    unsafe { (*READER.get()).unlock(domain()) };
}

/// Whether the current thread is inside a read-side critical section: it holds a guard, or its
/// QSBR reader is online.
#[inline]
pub(crate) fn is_reading() -> bool {
    // SAFETY: as in `enter`.
    let reading = unsafe { (*READER.get()).is_reading() };
    reading || qsbr_online()
}

/// Whether the current thread has an online QSBR reader: it is inside a read-side critical
/// section until its next quiescent state.
fn qsbr_online() -> bool {
    let node = QSBR.get();
    // SAFETY: a non-null `QSBR` is the node of this thread's live QSBR reader, whose
    // registration keeps it alive; the reader clears `QSBR` before it lets go of the node.
    !node.is_null() && unsafe { (*node).is_reading() }
}

/// Panics with an explanation if the current thread may not wait for a grace period now.
///
/// `what` names the blocking operation. Waiting would deadlock inside a read-side critical
/// section (the grace period waits for the caller's own guard or online QSBR reader) and inside
/// the stall handler (which runs inside the grace period it would wait for).
#[track_caller]
pub(crate) fn assert_may_wait(what: &str) {
    assert!(
        !REPORTING_STALL.get(),
        "{what} called from the RCU stall handler: the handler runs inside the grace period that \
         is stalled, so waiting for a grace period there would wait for itself. Report the stall \
         and return; reclaim asynchronously (call_rcu, defer_rcu, RcuOld::defer_drop) if needed."
    );
    assert!(
        !qsbr_online(),
        "{what} called on a thread whose QsbrReader is online: the thread is inside a read-side \
         critical section until its next quiescent state, and the grace period would wait for \
         it, so it would deadlock. Call it inside QsbrReader::while_offline (or use \
         QsbrReader::synchronize_rcu / QsbrReader::rcu_barrier), or reclaim asynchronously \
         (call_rcu, defer_rcu, RcuOld::defer_drop)."
    );
    assert!(
        !is_reading(),
        "{what} called inside an RCU read-side critical section on the same thread: it waits for \
         a grace period, which waits for this thread's own Guard, so it would deadlock. Drop \
         every Guard first, or reclaim asynchronously (call_rcu, defer_rcu, RcuOld::defer_drop)."
    );
}

/// Whether waiting for a grace period on this thread could deadlock (see [`assert_may_wait`]);
/// for the places that then choose not to wait instead of panicking.
pub(crate) fn must_not_wait() -> bool {
    REPORTING_STALL.get() || is_reading()
}

/// Runs `report` with the thread marked as reporting a stall, so that a handler that waits for
/// a grace period panics instead of deadlocking.
pub(crate) fn reporting_stall<R>(report: impl FnOnce() -> R) -> R {
    /// Clears the mark, also when the handler unwinds.
    struct Reporting;
    impl Drop for Reporting {
        fn drop(&mut self) {
            REPORTING_STALL.set(false);
        }
    }
    REPORTING_STALL.set(true);
    let _reporting = Reporting;
    report()
}

/// The QSBR reader of the current thread: registered, online, unregistered when dropped.
///
/// # Invariants
///
/// `node` is registered in the domain and is this thread's `QSBR` node.
pub(crate) struct QsbrRegistration {
    node: Arc<ReaderNode>,
}

impl QsbrRegistration {
    /// Registers the current thread's QSBR reader, online.
    ///
    /// # Panics
    ///
    /// If the thread already has one.
    pub(crate) fn register() -> Self {
        assert!(
            QSBR.get().is_null(),
            "QsbrReader::register() called on a thread that already has a QsbrReader: use that one"
        );
        start();
        let thread = std::thread::current();
        let name = format!("{} (QSBR)", thread.name().unwrap_or("unnamed"));
        let node = Arc::new(ReaderNode::new(Some(name), current_tid()));
        domain().register(Arc::clone(&node));
        QSBR.set(Arc::as_ptr(&node));
        // A reader that registers is idle until it enters its section, like a thread's first
        // `read_lock`: a grace period that took the registry before us needs no waiting for us.
        node.lock(domain());
        // INVARIANT: registered, and this thread's `QSBR` node.
        Self { node }
    }

    /// Reports a quiescent state: the section that was open ends and a new one begins.
    #[inline]
    pub(crate) fn quiescent_state(&self) {
        self.node.quiescent_state(domain());
    }

    /// Leaves the section (offline).
    pub(crate) fn go_offline(&self) {
        self.node.unlock(domain());
    }

    /// Enters a section again (online).
    pub(crate) fn go_online(&self) {
        self.node.lock(domain());
    }

    /// Whether the reader is inside its section.
    pub(crate) fn is_online(&self) -> bool {
        self.node.is_reading()
    }
}

impl Drop for QsbrRegistration {
    fn drop(&mut self) {
        if self.node.is_reading() {
            self.node.unlock(domain());
        }
        QSBR.set(ptr::null());
        domain().unregister(&self.node);
    }
}

/// The reader nodes of the current thread (ordinary, QSBR), for the fork handler.
pub(super) fn current_nodes() -> [*const ReaderNode; 2] {
    [READER.get(), QSBR.get()]
}

/// Whether `node` is the reader every unregistered thread points at (no node of a thread).
pub(super) fn is_unregistered(node: *const ReaderNode) -> bool {
    core::ptr::eq(node, &raw const UNREGISTERED)
}
