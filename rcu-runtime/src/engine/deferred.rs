//! Closures queued as callbacks: one allocation holds the closure and the head that queues it.

use core::ptr::NonNull;

use super::call_rcu;
use super::head::RcuHead;

/// An object that owns a closure and the head that queues it.
///
/// `repr(C)` puts `head` at offset 0, so a pointer to the head is a pointer to the object.
#[repr(C)]
struct Deferred<F> {
    head: RcuHead,
    f: F,
}

/// Runs and frees a [`Deferred`] closure.
///
/// # Safety
///
/// `head` is the head of a `Box<Deferred<F>>` leaked by [`defer`], passed here once.
unsafe fn run_deferred<F: FnOnce()>(head: NonNull<RcuHead>) {
    // SAFETY: by this function's contract the head is the first field (`repr(C)`) of a leaked
    // `Box<Deferred<F>>`, with provenance over the whole box, and we are its only owner now.
    let deferred = unsafe { Box::from_raw(head.as_ptr().cast::<Deferred<F>>()) };
    (deferred.f)();
}

/// Runs `f` on the callback worker after a grace period.
pub(crate) fn defer<F: FnOnce() + Send + 'static>(f: F) {
    let deferred = NonNull::from(Box::leak(Box::new(Deferred { head: RcuHead::new(), f })));
    // SAFETY: the box was just leaked, so its head (at offset 0) is ours and not queued;
    // `run_deferred::<F>` reclaims exactly that box, once, and `F: Send + 'static` lets it run
    // later on the worker thread.
    unsafe { call_rcu(deferred.cast::<RcuHead>(), run_deferred::<F>) };
}
