//! Callbacks that run after a grace period: the queue, `call_rcu`, `defer_rcu` and `rcu_barrier`.
//!
//! Enqueueing is a push onto a lock-free stack (one compare-and-swap) and one counter increment.
//! The worker thread takes the whole stack at once, waits for one grace period that started after
//! it took the batch, and runs the batch oldest first. Because there is one queue and one worker,
//! callbacks run in the order they were queued, which is what makes [`rcu_barrier`] a plain
//! callback at the end of the queue.

use core::ptr::{self, NonNull};

use crate::domain::Domain;
use crate::head::{RcuCallback, RcuHead};
use crate::sync::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

/// The callbacks of one domain that wait for a grace period.
pub(crate) struct CallbackQueue {
    /// The most recently queued head; each head links to the one queued before it.
    top: AtomicPtr<RcuHead>,
    /// Queued callbacks that have not finished running, for backpressure and statistics.
    pending: AtomicUsize,
    /// Callbacks run so far, and how many of them panicked.
    run: AtomicU64,
    panicked: AtomicU64,
}

impl CallbackQueue {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            top: AtomicPtr::new(ptr::null_mut()),
            pending: AtomicUsize::new(0),
            run: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            top: AtomicPtr::new(ptr::null_mut()),
            pending: AtomicUsize::new(0),
            run: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
        }
    }

    /// Queues `head`; returns the number of callbacks that were pending before it.
    ///
    /// # Safety
    ///
    /// The caller hands over exclusive ownership of `head` (and of whatever `func` will free) until
    /// `func` runs, and `func(head)` must be sound to call once no pre-existing reader remains.
    #[inline]
    pub(crate) unsafe fn push(&self, head: NonNull<RcuHead>, func: RcuCallback) -> usize {
        // Count the callback before publishing it: once published, the worker may run it and
        // subtract it at once. AcqRel: pairs with the worker's AcqRel decrement, so that a worker
        // that sees this count also sees the push below when it takes the next batch.
        let before = self.pending.fetch_add(1, Ordering::AcqRel);
        // Relaxed: the value only seeds the compare-and-swap loop.
        let mut top = self.top.load(Ordering::Relaxed);
        // SAFETY: the caller gave us exclusive ownership of `head`.
        unsafe { RcuHead::prepare(head, func, top) };
        loop {
            // Release: publishes the head's words to the worker's Acquire swap in `take_all`.
            match self.top.compare_exchange_weak(top, head.as_ptr(), Ordering::Release, Ordering::Relaxed) {
                Ok(_) => return before,
                Err(actual) => {
                    top = actual;
                    // SAFETY: the head is still ours: the failed exchange did not publish it.
                    unsafe { RcuHead::set_next(head, top) };
                }
            }
        }
    }

    /// Takes every queued callback, oldest first.
    pub(crate) fn take_all(&self) -> Batch {
        // Acquire: pairs with the Release exchange in `push`, making the heads' words visible.
        let mut top = self.top.swap(ptr::null_mut(), Ordering::Acquire);
        // Reverse the stack so the batch runs in queueing order.
        let mut oldest: *mut RcuHead = ptr::null_mut();
        let mut len = 0;
        while let Some(head) = NonNull::new(top) {
            // SAFETY: the swap gave us ownership of the whole chain; its links are visible.
            top = unsafe { RcuHead::next(head) };
            // SAFETY: as above.
            unsafe { RcuHead::set_next(head, oldest) };
            oldest = head.as_ptr();
            len += 1;
        }
        // INVARIANT: `oldest` starts a chain of `len` heads owned by the batch.
        Batch { first: oldest, len }
    }

    /// The number of callbacks queued and not yet finished.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Callbacks run so far, and how many of them panicked.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.run.load(Ordering::Relaxed), self.panicked.load(Ordering::Relaxed))
    }

    /// Records that `ran` callbacks finished, `panicked` of them by panicking; returns how many are
    /// still pending.
    fn finished(&self, ran: usize, panicked: u64) -> usize {
        self.run.fetch_add(ran as u64, Ordering::Relaxed);
        self.panicked.fetch_add(panicked, Ordering::Relaxed);
        // AcqRel: pairs with the increment in `push` (see there).
        let before = self.pending.fetch_sub(ran, Ordering::AcqRel);
        assert!(before >= ran, "rcu-runtime: callbacks ran that were never counted as pending");
        before - ran
    }
}

/// Callbacks taken from the queue together, in the order they were queued.
///
/// # Invariants
///
/// `first` starts a null-terminated chain of `len` queued heads that the batch owns.
pub(crate) struct Batch {
    first: *mut RcuHead,
    len: usize,
}

// SAFETY: a batch owns its queued heads, and `call_rcu`'s contract makes what they own sendable
// to the worker thread.
unsafe impl Send for Batch {}

impl Batch {
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl CallbackQueue {
    /// Puts a taken batch back in the queue without counting it again (it is still pending), so
    /// that the next batch runs it: for a forked child, whose worker thread is gone.
    #[cfg(not(loom))]
    pub(crate) fn requeue(&self, batch: Batch) {
        let mut next = batch.first;
        while let Some(head) = NonNull::new(next) {
            // SAFETY: the batch owns the chain; read the link before relinking the head.
            next = unsafe { RcuHead::next(head) };
            let mut top = self.top.load(Ordering::Relaxed);
            loop {
                // SAFETY: the head is owned by the batch, not published.
                unsafe { RcuHead::set_next(head, top) };
                // Release: as in `push`.
                match self.top.compare_exchange_weak(top, head.as_ptr(), Ordering::Release, Ordering::Relaxed)
                {
                    Ok(_) => break,
                    Err(actual) => top = actual,
                }
            }
        }
    }
}

impl Domain {
    /// Takes the queued callbacks, waits for a grace period that started after they were queued,
    /// and runs them. Returns the number of callbacks still pending afterwards.
    ///
    /// A panicking callback is caught and counted; the rest of the batch still runs. (The worker
    /// thread does the same in steps, keeping the batch where `fork()` can find it.)
    #[cfg(loom)]
    pub(crate) fn process_callbacks(&self) -> usize {
        let batch = self.callbacks.take_all();
        if batch.is_empty() {
            return self.callbacks.pending();
        }
        self.wait_for_callback_grace_period();
        self.run_batch(batch)
    }

    /// Waits for a grace period that starts after now: taken after a batch, it covers the batch.
    ///
    /// Every callback in the batch was queued before the batch was taken, and so after its object
    /// was unpublished.
    pub(crate) fn wait_for_callback_grace_period(&self) {
        let target = self.seq.snapshot();
        self.seq.wait_for(self, target);
    }

    /// Runs a batch whose grace period has elapsed; returns the number of callbacks still pending.
    pub(crate) fn run_batch(&self, batch: Batch) -> usize {
        let mut panicked = 0;
        let mut next = batch.first;
        while let Some(head) = NonNull::new(next) {
            // SAFETY: the batch owns the chain (invariant); read the link before the callback
            // frees the head.
            next = unsafe { RcuHead::next(head) };
            // SAFETY: as above; the head was queued by `push`, which stored its callback.
            let func = unsafe { RcuHead::func(head) };
            // A callback that panics has already given up what it owned; nothing of ours is left
            // half-updated, so observing the unwind is fine.
            let call = std::panic::AssertUnwindSafe(|| {
                // SAFETY: a grace period has elapsed since the head was queued, which is what the
                // `push` caller required before `func(head)` may run; it runs once.
                unsafe { func(head) }
            });
            let result = std::panic::catch_unwind(call);
            if result.is_err() {
                panicked += 1;
                report_callback_panic();
            }
        }
        self.callbacks.finished(batch.len, panicked)
    }
}

fn report_callback_panic() {
    #[cfg(not(loom))]
    eprintln!(
        "rcu-runtime: an RCU callback panicked (message above); the other callbacks still run, \
         and what the panicking callback was freeing may have leaked"
    );
}

#[cfg(not(loom))]
pub use api::*;

#[cfg(not(loom))]
mod api {
    use core::ptr::NonNull;
    use std::sync::{Arc, Condvar, Mutex};

    use crate::engine::domain;
    use crate::guard::assert_not_reading;
    use crate::head::{HasRcuHead, RcuCallback, RcuHead};
    use crate::worker;

    /// Queues `func(head)` to run on the callback worker after a grace period.
    ///
    /// The kernel's `call_rcu`: embed an [`RcuHead`] in the object to free, unpublish the object,
    /// then queue it. `func` runs once, after every read-side critical section that was running
    /// when `call_rcu` was called has ended, on the worker thread. May be called inside a
    /// read-side critical section.
    ///
    /// When more than [`max_pending_callbacks`](crate::config::max_pending_callbacks) callbacks
    /// are pending, the caller waits for the worker to catch up (backpressure), unless it is
    /// inside a read-side critical section or is itself a callback.
    ///
    /// # Safety
    ///
    /// - `head` points to a live `RcuHead` that the caller owns exclusively, and keeps that way
    ///   until `func` runs (it is not queued twice, not freed, not moved).
    /// - `func(head)` is sound to call once a grace period has elapsed, on another thread: what it
    ///   touches must be `Send`, and no reader may reach it any more (it was unpublished).
    ///
    /// # Examples
    ///
    /// ```
    /// use core::ptr::NonNull;
    /// use rcu_runtime::{call_rcu, rcu_barrier, HasRcuHead, RcuHead};
    /// # use rcu_runtime::{Field, HasField};
    ///
    /// struct Node { value: u64, head: RcuHead }
    /// # // SAFETY: type and offset of `Node::head`.
    /// # unsafe impl HasField<Field<1>> for Node { type Type = RcuHead; const OFFSET: usize = core::mem::offset_of!(Node, head); }
    /// # // SAFETY: through the field's `HasField` impl.
    /// # unsafe impl HasRcuHead for Node {
    /// #     fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead { <Self as HasField<Field<1>>>::raw_get_field(this) }
    /// #     // SAFETY: forwarded.
    /// #     unsafe fn rcu_head_container_of(h: *mut RcuHead) -> *mut Self { unsafe { <Self as HasField<Field<1>>>::field_container_of(h) } }
    /// # }
    ///
    /// /// # Safety
    /// /// `head` is the head of a leaked `Box<Node>`.
    /// unsafe fn free_node(head: NonNull<RcuHead>) {
    ///     // SAFETY: by this function's contract.
    ///     drop(unsafe { Box::from_raw(Node::rcu_head_container_of(head.as_ptr())) });
    /// }
    ///
    /// let node = Box::into_raw(Box::new(Node { value: 7, head: RcuHead::new() }));
    /// let head = NonNull::new(Node::raw_get_rcu_head(node)).unwrap();
    /// // SAFETY: we own the leaked box and give it to the callback; nothing else can reach it.
    /// unsafe { call_rcu(head, free_node) };
    /// rcu_barrier(); // the node is freed by now
    /// ```
    #[inline]
    pub unsafe fn call_rcu(head: NonNull<RcuHead>, func: RcuCallback) {
        // SAFETY: forwarded from the caller.
        let before = unsafe { domain().callbacks.push(head, func) };
        worker::after_enqueue(before);
    }

    /// An object that owns a closure and the head that queues it.
    #[repr(C)]
    struct Deferred<F> {
        head: RcuHead,
        f: F,
    }

    // SAFETY: `raw_get_rcu_head` returns the `head` field of `*this`, with the same provenance, and
    // `rcu_head_container_of` undoes it; `repr(C)` puts `head` at offset 0.
    unsafe impl<F> HasRcuHead for Deferred<F> {
        fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
            this.cast()
        }

        unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
            head.cast()
        }
    }

    /// Runs and frees a [`Deferred`] closure.
    ///
    /// # Safety
    ///
    /// `head` is the head of a `Box<Deferred<F>>` leaked by [`defer_rcu`], passed here once.
    unsafe fn run_deferred<F: FnOnce()>(head: NonNull<RcuHead>) {
        // SAFETY: by this function's contract the head is in a leaked `Box<Deferred<F>>`, and we
        // are its only owner now.
        let deferred = unsafe { Box::from_raw(Deferred::<F>::rcu_head_container_of(head.as_ptr())) };
        (deferred.f)();
    }

    /// Runs `f` on the callback worker after a grace period: the safe, closure form of `call_rcu`.
    ///
    /// Allocates one box for the closure; to reclaim without allocating, embed an [`RcuHead`] and
    /// use [`RcuOld::drop_async`](crate::RcuOld::drop_async) or [`call_rcu`].
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let ran = Arc::new(AtomicBool::new(false));
    /// let flag = Arc::clone(&ran);
    /// rcu_runtime::defer_rcu(move || flag.store(true, Ordering::Relaxed));
    /// rcu_runtime::rcu_barrier();
    /// assert!(ran.load(Ordering::Relaxed));
    /// ```
    pub fn defer_rcu<F: FnOnce() + Send + 'static>(f: F) {
        let deferred = Box::into_raw(Box::new(Deferred { head: RcuHead::new(), f }));
        let head = NonNull::new(Deferred::raw_get_rcu_head(deferred)).expect("boxes are non-null");
        // SAFETY: the box was just leaked, so the head is ours; `run_deferred::<F>` reclaims
        // exactly that box, and `F: Send + 'static` lets it run later on the worker thread.
        unsafe { call_rcu(head, run_deferred::<F>) };
    }

    /// Waits until every callback queued (by any thread) before this call has run.
    ///
    /// When it returns, [`stats`](crate::stats) counts those callbacks, and values that they
    /// dropped which needed a grace period of their own (an `Rcu` or `RcuOld` dropped inside a
    /// callback) have been dropped too.
    ///
    /// Use it before tearing down what callbacks refer to, or to make frees observable in tests.
    ///
    /// # Panics
    ///
    /// Inside a read-side critical section (the callbacks wait for a grace period, which would wait
    /// for the caller), and when called from an RCU callback (it would wait for itself).
    ///
    /// ```
    /// rcu_runtime::defer_rcu(|| println!("freed after a grace period"));
    /// rcu_runtime::rcu_barrier();
    /// ```
    #[track_caller]
    pub fn rcu_barrier() {
        assert_not_reading("rcu_barrier()");
        assert!(
            !worker::on_worker_thread(),
            "rcu_barrier() called from an RCU callback: it would wait for the callback worker, \
             which is the thread running it"
        );
        let done = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&done);
        defer_rcu(move || {
            // Signal once the worker has finished this batch's bookkeeping (statistics, pending
            // count) and the drops its callbacks left for after the next grace period.
            crate::worker::after_batch(Box::new(move || {
                *crate::sync::lock(&signal.0) = true;
                signal.1.notify_all();
            }));
        });
        worker::hurry();
        let mut finished = crate::sync::lock(&done.0);
        while !*finished {
            finished = crate::sync::wait(&done.1, finished);
        }
    }
}
