//! Keeping RCU usable in the child of a `fork()`.
//!
//! Only the forking thread exists in the child. The `prepare` handler takes the engine's locks, so
//! that no other thread is half-way through changing the state they protect when the address
//! space is copied (for the callback worker's in-flight batch, that means waiting while its
//! callbacks run, never while it waits for a grace period); the child then drops the readers of
//! threads that do not exist there, forgets the worker thread and any grace period another thread
//! was running, puts the worker's in-flight batch back in the queue, and registers membarrier
//! again for its new address space. Callbacks queued in the parent run in the child too (on a new
//! worker), which frees the child's copies of their objects.

use core::cell::RefCell;
use std::sync::MutexGuard;
use std::thread::Thread;

use crate::engine::domain;
use crate::gp::SeqState;
use crate::reader::ReaderNode;
use crate::sync::Arc;

/// The locks held across `fork()`, in the order they are taken.
struct Held {
    seq: MutexGuard<'static, SeqState>,
    registry: MutexGuard<'static, Vec<Arc<ReaderNode>>>,
    worker: MutexGuard<'static, Option<Thread>>,
    /// `None` when forking from the worker thread itself, which holds it while running callbacks.
    in_flight: Option<MutexGuard<'static, Option<crate::callbacks::Batch>>>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Installs the handlers, once, at engine start.
pub(crate) fn install_handlers() {
    // SAFETY: the three handlers are `extern "C" fn()` that neither unwind (they only lock, edit
    // and unlock in-process state) nor depend on arguments; pthread_atfork copies the pointers.
    let rc = unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
    assert_eq!(rc, 0, "rcu-runtime: pthread_atfork failed ({rc}); fork() would not be safe");
}

extern "C" fn prepare() {
    let d = domain();
    // Lock order: the sequence state, then the registry (a grace period takes the registry while
    // not holding the sequence lock, so no thread takes them the other way round), then the worker.
    let held = Held {
        seq: d.seq.lock_state(),
        registry: crate::sync::lock(&d.registry),
        worker: crate::worker::lock_for_fork(),
        in_flight: (!crate::worker::on_worker_thread()).then(crate::worker::lock_in_flight),
    };
    HELD.with(|slot| *slot.borrow_mut() = Some(held));
}

extern "C" fn parent() {
    HELD.with(|slot| drop(slot.borrow_mut().take()));
}

extern "C" fn child() {
    let Some(mut held) = HELD.with(|slot| slot.borrow_mut().take()) else {
        return;
    };
    let me = crate::guard::current_reader();
    let my_qsbr = crate::qsbr::current_node();
    held.registry.retain(|reader| {
        core::ptr::eq(Arc::as_ptr(reader), me) || core::ptr::eq(Arc::as_ptr(reader), my_qsbr)
    });
    crate::worker::forget_after_fork(&mut held.worker);
    // A batch the parent's worker had taken (waiting for its grace period) is still pending here:
    // give it to the next worker. Its grace period starts over, which only delays it.
    if let Some(batch) = held.in_flight.as_mut().and_then(|in_flight| in_flight.take()) {
        domain().callbacks.requeue(batch);
    }
    domain().seq.forget_running(&mut held.seq);
    drop(held);
    if crate::membarrier::reinit_after_fork() {
        domain().use_reader_fences();
        for mine in [me, my_qsbr] {
            if !mine.is_null() {
                // SAFETY: a non-null reader node of this thread is kept alive by its owner (the
                // thread's registration, or its `QsbrReader`), and this is its thread.
                unsafe { (*mine).use_fences() };
            }
        }
    }
}
