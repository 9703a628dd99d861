//! Keeping RCU usable, and sound, in the child of a `fork()`.
//!
//! Only the forking thread exists in the child. The `prepare` handler takes the engine's locks,
//! so that no other thread is half-way through changing the state they protect when the address
//! space is copied. It takes them in the one order every other path respects: first the
//! worker's in-flight batch (held while callbacks run, and callbacks may take any of the
//! others: a grace period, a registration, a wake-up), then the sequence state, the registry,
//! the backpressure state and the worker handle. So `fork()` waits at most for the running
//! callbacks to finish, never for a grace period. When a callback itself forks, the batch lock
//! is its own and is skipped.
//!
//! The child then:
//! - keeps every reader that was inside a read-side critical section. A thread that was reading
//!   at the moment of the fork does not exist in the child, so its section never ends there;
//!   but borrows taken under it may have been handed to the forking thread (a scoped thread, a
//!   leaked guard's `&'static`), and they live on in the child's copy of memory. So the child's
//!   grace periods wait for those sections for good, as the parent's would for a leaked guard,
//!   and stall reports name them. Idle readers of other threads are dropped: nothing is borrowed
//!   under them.
//! - forgets a grace period another thread was running (it did not complete); one that the
//!   forking thread leads (it forked from the stall handler) goes on in the child, which completes
//!   it when the handler returns;
//! - puts the in-flight batch of a worker that does not exist in the child back at the head of
//!   the queue; the next call that needs the worker (queueing a callback, polling,
//!   `rcu_barrier`) starts a new one, which runs what the parent had queued. When the forking
//!   thread is the worker itself, it stays the worker and finishes its batch;
//! - registers membarrier again for its new address space (or falls back to full fences).

use super::sync::MutexGuard;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;

use super::callbacks::Batch;
use super::gp::SeqState;
use super::reader::ReaderNode;
use super::sync::Arc;
use super::{domain, membarrier, thread, worker};

/// The locks held across `fork()`, in the order they are taken.
struct Held {
    /// `None` when forking from the worker thread itself, which holds it while running callbacks.
    in_flight: Option<MutexGuard<'static, Option<Batch>>>,
    seq: MutexGuard<'static, SeqState>,
    registry: MutexGuard<'static, Vec<Arc<ReaderNode>>>,
    _room: MutexGuard<'static, ()>,
    worker: MutexGuard<'static, Option<Thread>>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Whether the handlers are installed in this process. Set after `pthread_atfork` returns, and by
/// the child handler itself: a child forked between the two has the handlers (its handler ran),
/// so they are never installed twice (the prepare handler would then take its locks twice).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the handlers, once, at engine start (a forked child whose parent had not installed
/// them yet may come here again).
pub(crate) fn install_handlers() {
    // Relaxed: start-up runs on one thread at a time, which orders the calls.
    if INSTALLED.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: the three handlers are `extern "C" fn()` that neither unwind (they only lock, edit
    // and unlock in-process state) nor depend on arguments; pthread_atfork copies the pointers.
    let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    assert_eq!(rc, 0, "rcu-runtime: pthread_atfork failed ({rc}); fork() would not be safe");
    // Relaxed: as above.
    INSTALLED.store(true, Ordering::Relaxed);
}

extern "C" fn prepare() {
    let d = domain();
    let held = Held {
        in_flight: (!worker::on_worker_thread()).then(|| d.callbacks.lock_in_flight()),
        seq: d.seq.lock_state(),
        registry: super::sync::lock(&d.registry),
        _room: d.callbacks.lock_room(),
        worker: worker::lock_for_fork(),
    };
    HELD.with(|slot| *slot.borrow_mut() = Some(held));
}

extern "C" fn parent() {
    HELD.with(|slot| drop(slot.borrow_mut().take()));
}

extern "C" fn child() {
    // Relaxed: only this thread exists in the child.
    INSTALLED.store(true, Ordering::Relaxed);
    let Some(mut held) = HELD.with(|slot| slot.borrow_mut().take()) else {
        return;
    };
    let mine = thread::current_nodes();
    held.registry.retain(|reader| {
        let node = Arc::as_ptr(reader);
        mine.contains(&node) || reader.orphan_if_reading()
    });
    worker::after_fork_in_child(&mut held.worker);
    if let Some(batch) = held.in_flight.as_mut().and_then(|in_flight| in_flight.take()) {
        // SAFETY: only this thread exists in the child.
        unsafe { domain().callbacks.requeue_in_child(batch) };
    }
    domain().seq.forget_running(&mut held.seq);
    drop(held);
    if membarrier::reinit_after_fork() {
        domain().use_reader_fences();
        for node in mine {
            if !node.is_null() && !thread::is_unregistered(node) {
                // SAFETY: a reader node of this thread (not the shared unregistered one) is kept
                // alive by its owner (the thread's registration, or its QSBR reader), and this
                // is its thread.
                unsafe { (*node).use_fences() };
            }
        }
    }
}
