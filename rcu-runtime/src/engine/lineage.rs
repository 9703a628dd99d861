//! What callbacks queue and defer, so that `rcu_barrier` can wait for it, transitively.
//!
//! `rcu_barrier` queues a marker callback; when the marker runs, every callback queued before
//! the barrier has run. What those callbacks queued in turn (a callback that drops an `RcuBox`
//! queues another) or deferred (a dropped non-null `Rcu` waits for the worker's next grace
//! period) may still be pending. So the worker gives each callback a *generation*: the number of
//! the batch that ran it, or, for a callback queued by another callback (or by a deferred drop),
//! its parent's generation. A barrier whose marker ran in batch `b` is released once no pending
//! callback of generation `b` or older remains: then every descendant of every callback queued
//! before it has run, whatever other threads keep queueing meanwhile.
//!
//! All of this state belongs to the worker thread (thread-locals), which is the only thread that
//! runs callbacks, and so the only one whose enqueues have a parent.

use core::cell::{Cell, RefCell};
use core::ptr::NonNull;
use std::collections::{BTreeMap, HashMap};

use super::head::RcuHead;

/// A generation: the number of the batch that ran the callback at the root of a lineage.
pub(crate) type Generation = u64;

/// What tells a waiting `rcu_barrier` caller that it may return.
type Signal = Box<dyn FnOnce()>;

thread_local! {
    /// The number of the batch the worker is running (or ran last).
    static BATCH: Cell<Generation> = const { Cell::new(0) };
    /// The generation of the callback or deferred drop running now on this thread, if any.
    static RUNNING: Cell<Option<Generation>> = const { Cell::new(None) };
    /// Callbacks queued by callbacks and not run yet: their head and generation.
    static PENDING: RefCell<HashMap<usize, Generation>> = RefCell::new(HashMap::new());
    /// How many of `PENDING` each generation has.
    static PENDING_BY_GENERATION: RefCell<BTreeMap<Generation, usize>> = const { RefCell::new(BTreeMap::new()) };
    /// Barriers whose marker ran, with the marker's generation, waiting for older lineages.
    static WAITING: RefCell<Vec<(Generation, Signal)>> = const { RefCell::new(Vec::new()) };
}

/// The worker starts a new batch: callbacks it runs from now on are roots of this generation.
pub(crate) fn next_batch() {
    BATCH.set(BATCH.get() + 1);
}

/// Marks the callback queued at `head` as having a parent, if it was queued by a callback or a
/// deferred drop of the worker (which is then running): it inherits the parent's generation.
#[inline]
pub(crate) fn queued(head: NonNull<RcuHead>) {
    if let Some(generation) = RUNNING.get() {
        record(head, generation);
    }
}

#[cold]
fn record(head: NonNull<RcuHead>, generation: Generation) {
    PENDING.with_borrow_mut(|pending| pending.insert(head.as_ptr().addr(), generation));
    PENDING_BY_GENERATION.with_borrow_mut(|counts| *counts.entry(generation).or_default() += 1);
}

/// The generation of what runs now, for a drop that it defers.
pub(crate) fn current() -> Option<Generation> {
    RUNNING.get()
}

/// Runs the callback queued at `head` (by calling `run`) with its generation set: its parent's if
/// a callback queued it, else the current batch's.
pub(crate) fn run_callback<R>(head: NonNull<RcuHead>, run: impl FnOnce() -> R) -> R {
    let generation = take_parent(head).unwrap_or_else(|| BATCH.get());
    run_as(generation, run)
}

/// Runs `run` (a deferred drop) with `generation` set.
pub(crate) fn run_as<R>(generation: Generation, run: impl FnOnce() -> R) -> R {
    /// Clears the generation, also when `run` unwinds.
    struct Running;
    impl Drop for Running {
        fn drop(&mut self) {
            RUNNING.set(None);
        }
    }
    RUNNING.set(Some(generation));
    let _running = Running;
    run()
}

/// Forgets `head` as pending; its parent's generation, if a callback queued it.
fn take_parent(head: NonNull<RcuHead>) -> Option<Generation> {
    if PENDING.with_borrow(HashMap::is_empty) {
        return None;
    }
    let generation = PENDING.with_borrow_mut(|pending| pending.remove(&head.as_ptr().addr()))?;
    PENDING_BY_GENERATION.with_borrow_mut(|counts| {
        if let Some(count) = counts.get_mut(&generation) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&generation);
            }
        }
    });
    Some(generation)
}

/// From a barrier's marker callback: `signal` runs once every lineage as old as the marker's
/// generation has finished (see [`release_waiters`]).
pub(crate) fn wait_for_lineages(signal: Signal) {
    let generation = RUNNING.get().unwrap_or_else(|| BATCH.get());
    WAITING.with_borrow_mut(|waiting| waiting.push((generation, signal)));
}

/// After a batch and its deferred drops: runs the signals of the barriers whose lineages have
/// all finished.
pub(crate) fn release_waiters() {
    let oldest_pending = PENDING_BY_GENERATION.with_borrow(|counts| counts.keys().next().copied());
    let released: Vec<_> = WAITING.with_borrow_mut(|waiting| {
        let (ready, rest): (Vec<_>, Vec<_>) = waiting
            .drain(..)
            .partition(|&(generation, _)| oldest_pending.is_none_or(|oldest| oldest > generation));
        *waiting = rest;
        ready
    });
    for (_, signal) in released {
        signal();
    }
}
