//! Callbacks that run after a grace period: the queue, the batch the worker has taken, the
//! batch step, and the backpressure handshake.
//!
//! Enqueueing is a push onto a lock-free stack (one compare-and-swap) and one counter increment.
//! The worker takes the whole stack at once, waits for one grace period that started after it
//! took the batch, and runs the batch oldest first. Because there is one queue and one worker,
//! callbacks run in the order they were queued, which is what makes `rcu_barrier` a callback at
//! the end of the queue.

use core::ptr::{self, NonNull};

use super::domain::Domain;
use super::head::{RcuCallback, RcuHead};
#[cfg(not(loom))]
use super::sync::MutexGuard;
use super::sync::{self, AtomicPtr, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering, fence};

/// The callbacks of one domain that wait for a grace period.
///
/// `repr(C, align(128))` with the two fields every `call_rcu` writes first: they fill a cache
/// line pair of their own, so that what the worker and the grace periods write (the counts, the
/// in-flight slot, the sequence state next to this queue in the domain) does not take that line
/// away from the threads that enqueue (measured: about 4 ns per `call_rcu` when they shared one).
#[repr(C, align(128))]
pub(crate) struct CallbackQueue {
    /// The most recently queued head; each head links to the one queued before it.
    top: AtomicPtr<RcuHead>,
    /// Queued callbacks that have not finished running, for backpressure and statistics.
    pending: AtomicUsize,
    /// Keeps `top` and `pending` alone in their 128 bytes.
    _enqueue_only: [u8; ENQUEUE_PAD],
    /// Callbacks run so far, and how many of them panicked.
    run: AtomicU64,
    panicked: AtomicU64,
    /// The batch the worker has taken and not finished, where `fork()` can find it: a batch that
    /// only lived on the worker's stack would be lost in a forked child. The worker holds the
    /// lock while it runs the callbacks, not while it waits for their grace period.
    in_flight: Mutex<Option<Batch>>,
    /// Callers waiting for the backlog to shrink (backpressure), and where they wait.
    room_waiters: AtomicUsize,
    room: Mutex<()>,
    room_freed: Condvar,
}

/// Padding after the enqueue fields of [`CallbackQueue`], to 128 bytes (loom's atomics are larger
/// and need no layout care).
#[cfg(not(loom))]
const ENQUEUE_PAD: usize =
    128 - core::mem::size_of::<AtomicPtr<RcuHead>>() - core::mem::size_of::<AtomicUsize>();
#[cfg(loom)]
const ENQUEUE_PAD: usize = 0;

#[cfg(not(loom))]
const _: () = assert!(core::mem::offset_of!(CallbackQueue, run) == 128);

impl CallbackQueue {
    super::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                top: AtomicPtr::new(ptr::null_mut()),
                pending: AtomicUsize::new(0),
                _enqueue_only: [0; ENQUEUE_PAD],
                run: AtomicU64::new(0),
                panicked: AtomicU64::new(0),
                in_flight: Mutex::new(None),
                room_waiters: AtomicUsize::new(0),
                room: Mutex::new(()),
                room_freed: Condvar::new(),
            }
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
    /// In a forked child, whose worker thread is gone: puts the batch that worker had taken back
    /// at the head of the queue, before every callback queued since, without counting it again
    /// (it is still pending). Its grace period starts over, which only delays it.
    ///
    /// # Safety
    ///
    /// No other thread can touch the queue: only the calling thread exists (the fork child
    /// handler).
    #[cfg(not(loom))]
    pub(crate) unsafe fn requeue_in_child(&self, batch: Batch) {
        // The queue is a stack, newest on top; `take_all` reverses it. So the stack must hold,
        // from the bottom: the batch oldest first, then the newer callbacks oldest first.
        let newer = self.take_all();
        let mut bottom_up = Vec::with_capacity(batch.len + newer.len);
        for taken in [batch, newer] {
            let mut next = taken.first;
            while let Some(head) = NonNull::new(next) {
                // SAFETY: the batch owns the chain (invariant), and no other thread exists.
                next = unsafe { RcuHead::next(head) };
                bottom_up.push(head);
            }
        }
        let mut top: *mut RcuHead = ptr::null_mut();
        for head in bottom_up {
            // SAFETY: the head is owned by one of the batches above, not published.
            unsafe { RcuHead::set_next(head, top) };
            top = head.as_ptr();
        }
        // Relaxed: only this thread exists.
        self.top.store(top, Ordering::Relaxed);
    }

    /// Locks the in-flight batch, for the fork handlers.
    #[cfg(not(loom))]
    pub(crate) fn lock_in_flight(&self) -> MutexGuard<'_, Option<Batch>> {
        sync::lock(&self.in_flight)
    }

    /// Locks the backpressure state, for the fork handlers.
    #[cfg(not(loom))]
    pub(crate) fn lock_room(&self) -> MutexGuard<'_, ()> {
        sync::lock(&self.room)
    }

    /// Waits while more than `max` callbacks are pending; `hurry` asks the worker to start on
    /// the backlog now. Returns at once if the backlog is small.
    ///
    /// The handshake with [`CallbackQueue::notify_room`] is a store-buffering pair: this side
    /// announces itself in `room_waiters` and then reads `pending`; the worker decreases
    /// `pending` and then reads `room_waiters`. A `SeqCst` fence between the write and the read
    /// on each side guarantees that at least one side sees the other's write: either we see the
    /// shrunken backlog, or the worker sees us and notifies (under the `room` lock, which we hold
    /// from the check until `wait` releases it, so the notification cannot fall between them).
    pub(crate) fn wait_for_room(&self, max: usize, hurry: impl Fn()) {
        if self.pending() <= max {
            return;
        }
        hurry();
        let mut room = sync::lock(&self.room);
        // Relaxed: ordered before the `pending` loads below by the SeqCst fence.
        self.room_waiters.fetch_add(1, Ordering::Relaxed);
        loop {
            // Pairs with the fence in `notify_room` (store buffering, see above).
            fence(Ordering::SeqCst);
            if self.pending.load(Ordering::Relaxed) <= max {
                break;
            }
            room = sync::wait(&self.room_freed, room);
            hurry();
        }
        self.room_waiters.fetch_sub(1, Ordering::Relaxed);
        drop(room);
    }

    /// Wakes the callers of [`CallbackQueue::wait_for_room`]; called after `pending` decreased.
    fn notify_room(&self) {
        // Pairs with the fence in `wait_for_room` (store buffering): after our decrement of
        // `pending`, either we see a waiter here or the waiter sees the decrement there.
        fence(Ordering::SeqCst);
        if self.room_waiters.load(Ordering::Relaxed) > 0 {
            let _room = sync::lock(&self.room);
            self.room_freed.notify_all();
        }
    }
}

impl Domain {
    /// The worker's step: takes the queued callbacks, waits for a grace period that started
    /// after they were queued, runs them, and wakes callers waiting for room. Returns the number
    /// of callbacks still pending afterwards.
    ///
    /// The batch waits in the in-flight slot while its grace period runs, where `fork()` finds
    /// it; the slot stays locked while the callbacks run, so `fork()` (which takes that lock
    /// first) waits at most for callbacks to run. A panicking callback is caught and counted;
    /// the rest of the batch still runs.
    pub(crate) fn process_callbacks(&self) -> usize {
        // Taken under the in-flight lock, which `fork()` takes first: a fork between the take and
        // the store would leave the child without the batch (neither queued nor in flight: never
        // run, and counted as pending for good).
        let mut in_flight = sync::lock(&self.callbacks.in_flight);
        let batch = self.callbacks.take_all();
        if batch.is_empty() {
            drop(in_flight);
            return self.callbacks.pending();
        }
        *in_flight = Some(batch);
        drop(in_flight);
        // A grace period that starts after the batch was taken covers it: every callback in it
        // was queued before, and so after its object was unpublished.
        self.seq.wait_for(self, self.seq.snapshot());
        let mut in_flight = sync::lock(&self.callbacks.in_flight);
        let Some(batch) = in_flight.take() else {
            // Only a forked child's handler takes the batch, and only in the child, where the
            // worker that took it does not exist.
            unreachable!("rcu-runtime: the in-flight batch vanished under the worker");
        };
        let remaining = self.run_batch(batch);
        drop(in_flight);
        self.callbacks.notify_room();
        remaining
    }

    /// Runs a batch whose grace period has elapsed; returns the number of callbacks still pending.
    fn run_batch(&self, batch: Batch) -> usize {
        let mut panicked = 0;
        let mut next = batch.first;
        while let Some(head) = NonNull::new(next) {
            // SAFETY: the batch owns the chain (invariant); read the link before the callback
            // frees the head.
            next = unsafe { RcuHead::next(head) };
            // SAFETY: as above; the head was queued by `push`, which stored its callback.
            let func = unsafe { RcuHead::func(head) };
            // A callback that panics has already given up what it owned; nothing of ours is
            // half-updated while it runs.
            let call = || {
                // SAFETY: a grace period has elapsed since the head was queued, which is what
                // the `push` caller required before `func(head)` may run; it runs once.
                unsafe { func(head) }
            };
            // What the callback queues belongs to its lineage, which `rcu_barrier` waits for.
            #[cfg(not(loom))]
            let failed = super::panic::catch(|| super::lineage::run_callback(head, call));
            #[cfg(loom)]
            let failed = super::panic::catch(call);
            if failed {
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
