//! Callbacks as users see them: [`call_rcu`], [`defer_rcu`] and [`rcu_barrier`]. The engine
//! queues and runs them (`engine::callbacks`, `engine::worker`).

use core::ptr::NonNull;

use crate::engine;
use crate::{RcuCallback, RcuHead};

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
    unsafe { engine::call_rcu(head, func) };
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
    engine::defer(f);
}

/// Waits until every callback queued (by any thread) before this call has run, and everything
/// those callbacks queued or deferred in turn, transitively.
///
/// When it returns, [`stats`](crate::stats) counts those callbacks; values that they dropped
/// which needed a grace period of their own (an `Rcu`, `RcuOld` or `RcuBox` dropped inside a
/// callback, at any depth of nesting) have been dropped too, and callbacks that callbacks queued
/// (with `call_rcu` or `defer_rcu`) have run. A callback that queues itself again forever keeps
/// `rcu_barrier` from returning: stop it first.
///
/// Use it before tearing down what callbacks refer to, or to make frees observable in tests.
///
/// # Panics
///
/// Inside a read-side critical section (the callbacks wait for a grace period, which would wait
/// for the caller; on a [`QsbrReader`](crate::QsbrReader) thread use
/// [`QsbrReader::rcu_barrier`](crate::QsbrReader::rcu_barrier)), in the stall handler, and when
/// called from an RCU callback (it would wait for itself).
///
/// ```
/// rcu_runtime::defer_rcu(|| println!("freed after a grace period"));
/// rcu_runtime::rcu_barrier();
/// ```
#[track_caller]
pub fn rcu_barrier() {
    engine::barrier("rcu_barrier()");
}
