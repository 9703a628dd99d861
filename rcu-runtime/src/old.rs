//! A value that was unpublished and whose grace period has not been waited for yet.

use core::ffi::c_void;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll, ready};

use crate::engine;
use crate::gp::{GpWait, get_state};
use crate::head::HasRcuHead;
use crate::{ForeignOwnable, GpState, RcuHead, call_rcu, defer_rcu};

/// An unpublished value that readers may still be using: it is dropped only after a grace period.
///
/// Returned by [`Rcu::replace`](crate::Rcu::replace), [`copy_update`](crate::Rcu::copy_update)
/// and [`take`](crate::Rcu::take). Choose how to reclaim it:
///
/// | | waits? | allocates? | needs |
/// |---|---|---|---|
/// | drop it | until a grace period has elapsed since the unpublication | no | |
/// | [`wait`](RcuOld::wait) | the same, then gives the value back | no | |
/// | [`wait_async`](RcuOld::wait_async) | no thread: a future that gives the value back | no | `P: Send + 'static` |
/// | [`defer_drop`](RcuOld::defer_drop) | no: dropped on the callback worker | one box | `P: Send + 'static` |
/// | [`drop_async`](RcuOld::drop_async) | no: `call_rcu` through the value's [`RcuHead`] | nothing | `P = Box<T>`, `T: HasRcuHead + Send` |
///
/// An `RcuOld` remembers the grace-period state of its unpublication (the kernel's
/// `get_state_synchronize_rcu`, taken with a fence and a load, no lock): dropping it, `wait` and
/// `wait_async` return at once when a full grace period has elapsed since (the kernel's
/// `cond_synchronize_rcu`). So the values retired before one [`synchronize_rcu`] all go for
/// the price of that one grace period:
///
/// ```
/// use rcu_runtime::{synchronize_rcu, Rcu};
/// use std::pin::pin;
///
/// let mut slots: Vec<_> = (0..8).map(|i| Box::pin(Rcu::new(Box::new(i)))).collect();
/// let olds: Vec<_> = slots.iter_mut().filter_map(|s| s.as_mut().take()).collect();
/// synchronize_rcu(); // one grace period...
/// drop(olds);        // ...and these eight drops wait for nothing more
/// ```
///
/// Dropped on the callback worker (inside another callback), it neither waits nor panics: it is
/// queued to be dropped after the worker's next grace period (or dropped at once if its grace
/// period has elapsed).
///
/// [`synchronize_rcu`]: crate::synchronize_rcu
///
/// `RcuOld<P>` is `Send` when `P: Send`, and always `Sync`: it gives access to the value only
/// after a grace period, when no reader borrows it any more, and `&RcuOld` gives none at all.
///
/// # Panics
///
/// Dropping it inside a read-side critical section on the same thread panics: the grace period
/// would wait for the caller's own guard. Use `defer_drop` or `drop_async` there. It panics even
/// when its grace period has elapsed, so that the mistake shows in every run, not only in those
/// where no grace period happened to complete meanwhile. (While a panic unwinds out of a
/// read-side critical section, a dropped `RcuOld` leaks its value instead, since a second panic
/// would abort; it drops it if its grace period has elapsed.)
///
/// # Invariants
///
/// `ptr` came from `P::into_foreign`, is owned by this value and is reachable by no new reader
/// (it was unpublished before this value was created); `state` was taken after that
/// unpublication, so once it has elapsed no reader holds a borrow of the value.
///
/// # Examples
///
/// ```
/// use rcu_runtime::Rcu;
/// use std::pin::pin;
///
/// let mut rcu = pin!(Rcu::new(Box::new(1)));
/// let old = rcu.as_mut().replace(Box::new(2)).unwrap(); // an RcuOld<Box<i32>>
/// drop(old); // waits for a grace period, then frees the box
/// ```
#[must_use = "dropping an RcuOld waits for a grace period; say so with drop(), or use defer_drop()/drop_async()"]
pub struct RcuOld<P: ForeignOwnable> {
    ptr: NonNull<c_void>,
    state: GpState,
    _owns: PhantomData<P>,
}

// SAFETY: an `RcuOld<P>` owns a `P` and drops it (or hands it out) on whichever thread holds it
// (`P: Send`). Unlike `Rcu`, it needs no `P: Sync`: readers on other threads may still hold
// borrows of the value, but an `RcuOld` gives access to it only after a grace period (`wait`,
// `drop`, `defer_drop`, `drop_async`), when those borrows have ended.
unsafe impl<P: ForeignOwnable + Send> Send for RcuOld<P> {}
// SAFETY: `&RcuOld<P>` gives no access to the value at all (`Debug` shows the pointer only).
unsafe impl<P: ForeignOwnable> Sync for RcuOld<P> {}

/// A foreign pointer sent to the callback worker along with the ownership of its `P`.
struct SendPtr(NonNull<c_void>);
// SAFETY: only built by `RcuOld::defer_drop`, whose `P: Send` bound makes the ownership it carries
// sendable.
unsafe impl Send for SendPtr {}

impl<P: ForeignOwnable> RcuOld<P> {
    /// Wraps an unpublished pointer, recording the grace-period state of now.
    ///
    /// # Safety
    ///
    /// `ptr` came from `P::into_foreign`, the caller owns it, and no new reader can reach it:
    /// the caller unpublished it (or ended every way to reach it) before this call, on this
    /// thread, so the fence inside `get_state` orders that before the state is read.
    #[inline]
    pub(crate) unsafe fn from_unpublished(ptr: NonNull<c_void>) -> Self {
        // INVARIANT: by the caller's contract; the state is taken after the unpublication.
        Self { ptr, state: get_state(), _owns: PhantomData }
    }

    /// Gives up the pointer without dropping anything.
    fn into_raw(self) -> NonNull<c_void> {
        ManuallyDrop::new(self).ptr
    }

    /// Takes the value back.
    ///
    /// # Safety
    ///
    /// `self.state` has elapsed.
    unsafe fn into_value(self) -> P {
        // SAFETY: the state taken after the value was unpublished has elapsed (the caller's
        // contract), so no reader holds a borrow (invariant); we own the pointer and give it
        // back exactly once.
        unsafe { P::from_foreign(self.into_raw().as_ptr()) }
    }

    /// The grace period this value waits for: the first that started after it was unpublished.
    ///
    /// # Examples
    ///
    /// ```
    /// use rcu_runtime::{synchronize_rcu, Rcu};
    /// use std::pin::pin;
    ///
    /// let mut rcu = pin!(Rcu::new(Box::new(1)));
    /// let old = rcu.as_mut().replace(Box::new(2)).unwrap();
    /// let state = old.grace_period();
    /// synchronize_rcu();
    /// assert!(state.poll());
    /// assert_eq!(*old.wait(), 1); // returns at once: the grace period has elapsed
    /// ```
    pub fn grace_period(&self) -> GpState {
        self.state
    }

    /// Waits for a grace period and gives the value back: no reader can see it any more.
    ///
    /// Returns at once when a full grace period has elapsed since the value was unpublished.
    ///
    /// # Panics
    ///
    /// Inside a read-side critical section on the same thread (even when it would not wait).
    ///
    /// ```
    /// use rcu_runtime::Rcu;
    /// use std::pin::pin;
    ///
    /// let mut rcu = pin!(Rcu::new(Box::new(vec![1])));
    /// let mut old = rcu.as_mut().replace(Box::new(vec![])).unwrap().wait();
    /// old.push(2); // ours again: mutable, reusable
    /// assert_eq!(*old, vec![1, 2]);
    /// ```
    #[track_caller]
    pub fn wait(self) -> P {
        engine::wait_for_reclaim(self.state.target(), "RcuOld::wait()");
        // SAFETY: `wait_for_reclaim` returned, so the state has elapsed.
        unsafe { self.into_value() }
    }

    /// Waits for the grace period without blocking a thread, and gives the value back.
    ///
    /// The future completes once a full grace period has elapsed since the value was
    /// unpublished (at once if one has); the engine wakes the task when the grace period ends,
    /// with any executor (see [`GpState::wait_async`]). Dropping the future before it completes
    /// hands the value to the callback worker, which drops it after the grace period
    /// ([`defer_drop`](RcuOld::defer_drop)): cancelling never blocks the thread.
    ///
    /// The future is `Send` when `P: Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     use std::task::{Context, Poll, Wake, Waker};
    /// #     struct Unpark(std::thread::Thread);
    /// #     impl Wake for Unpark { fn wake(self: std::sync::Arc<Self>) { self.0.unpark() } }
    /// #     let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop {
    /// #         if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) { return v; }
    /// #         std::thread::park();
    /// #     }
    /// # }
    /// use rcu_runtime::RcuCell;
    ///
    /// let config = RcuCell::new(Box::new(String::from("v1")));
    /// let old = config.replace(Box::new(String::from("v2"))).unwrap();
    /// // In a task: `let v1 = old.wait_async().await;`
    /// let v1: Box<String> = block_on(old.wait_async());
    /// assert_eq!(*v1, "v1");
    /// ```
    pub fn wait_async(self) -> impl Future<Output = P> + Send
    where
        P: Send + 'static,
    {
        OldWait { grace_period: self.state.wait_future(), old: Some(self) }
    }

    /// Drops the value on the callback worker after a grace period, without waiting.
    ///
    /// Costs one allocation; for `Box<T>` with an embedded [`RcuHead`], `drop_async` costs none.
    ///
    /// ```
    /// use rcu_runtime::Rcu;
    /// use std::pin::pin;
    ///
    /// let mut rcu = pin!(Rcu::new(Box::new(String::from("old"))));
    /// if let Some(old) = rcu.as_mut().replace(Box::new(String::from("new"))) {
    ///     old.defer_drop(); // returns at once, even inside a read-side critical section
    /// }
    /// ```
    pub fn defer_drop(self)
    where
        P: Send + 'static,
    {
        let ptr = SendPtr(self.into_raw());
        defer_rcu(move || {
            let ptr = ptr;
            // SAFETY: the closure runs after a grace period that started after the value was
            // unpublished (invariant), and owns the pointer; it runs once.
            drop(unsafe { P::from_foreign(ptr.0.as_ptr()) });
        });
    }
}

/// Frees a `Box<T>` whose embedded head was queued by [`RcuOld::drop_async`].
///
/// # Safety
///
/// `head` is the [`RcuHead`] of a `T` owned by a leaked `Box<T>`, passed here once.
unsafe fn drop_boxed<T: HasRcuHead>(head: NonNull<RcuHead>) {
    // SAFETY: by this function's contract the head belongs to a leaked `Box<T>` that we own now.
    drop(unsafe { Box::from_raw(T::rcu_head_container_of(head.as_ptr())) });
}

// The bounds are on the method, not on the impl: an unmet `T: HasRcuHead` is then reported at the
// call with `HasRcuHead`'s own message ("add an `#[rcu_head]` field"), rather than as "the method
// exists but its trait bounds were not satisfied".
impl<T: 'static> RcuOld<Box<T>> {
    /// Drops the box after a grace period through `call_rcu` and its embedded [`RcuHead`],
    /// without waiting and without allocating.
    ///
    /// When `T` has no drop glue, only the memory is freed (the kernel's `kfree_rcu`).
    ///
    /// ```
    /// use rcu_runtime::{rcu_barrier, Rcu, RcuHead, RcuProtected};
    /// use std::pin::pin;
    ///
    /// #[derive(RcuProtected)]
    /// struct Route { prefix: u32, #[rcu_head] head: RcuHead }
    ///
    /// let mut table = pin!(Rcu::new(Box::new(Route { prefix: 10, head: RcuHead::new() })));
    /// let old = table.as_mut().replace(Box::new(Route { prefix: 11, head: RcuHead::new() }));
    /// old.unwrap().drop_async();
    /// rcu_barrier(); // the old route is freed by now
    /// ```
    pub fn drop_async(self)
    where
        T: HasRcuHead + Send,
    {
        let object = self.into_raw().as_ptr().cast::<T>();
        let head = NonNull::new(T::raw_get_rcu_head(object))
            .expect("HasRcuHead::raw_get_rcu_head returned null for a live object");
        // SAFETY: the object is unpublished (invariant) and owned by us, hence so is its head,
        // which is not queued; `drop_boxed::<T>` reclaims exactly this box once a grace period
        // has elapsed, on the worker, which `T: Send + 'static` allows.
        unsafe { call_rcu(head, drop_boxed::<T>) };
    }
}

pin_project_lite::pin_project! {
    /// The future of [`RcuOld::wait_async`]: the grace period's future, then the value.
    ///
    /// # Invariants
    ///
    /// `old` is `Some` until the future completes; `grace_period` waits for `old`'s state.
    struct OldWait<P>
    where
        P: ForeignOwnable,
        P: Send,
        P: 'static,
    {
        #[pin]
        grace_period: GpWait,
        old: Option<RcuOld<P>>,
    }

    impl<P> PinnedDrop for OldWait<P>
    where
        P: ForeignOwnable,
        P: Send,
        P: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            // Cancelled before the grace period ended: the callback worker drops the value after
            // it, rather than this thread (an executor's) blocking in `RcuOld`'s drop.
            if let Some(old) = this.project().old.take() {
                if old.state.is_done() {
                    // SAFETY: the state has elapsed.
                    drop(unsafe { old.into_value() });
                } else {
                    old.defer_drop();
                }
            }
        }
    }
}

impl<P: ForeignOwnable + Send + 'static> Future for OldWait<P> {
    type Output = P;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<P> {
        let this = self.project();
        ready!(this.grace_period.poll(cx));
        let old = this.old.take().expect("RcuOld::wait_async's future polled after it completed");
        // SAFETY: the grace-period future completed, so `old`'s state has elapsed (invariant).
        Poll::Ready(unsafe { old.into_value() })
    }
}

impl<P: ForeignOwnable> Drop for RcuOld<P> {
    #[track_caller]
    fn drop(&mut self) {
        // SAFETY: `ptr` was unpublished before `state` was taken and is owned by this value
        // (invariant); `drop_foreign::<P>` reclaims exactly that pointer, once.
        unsafe {
            engine::retire(
                self.ptr,
                drop_foreign::<P>,
                self.state.target(),
                "dropping an RcuOld (or a non-null Rcu), which waits for a grace period,",
            );
        }
    }
}

/// Drops a foreign-owned `P`.
///
/// # Safety
///
/// `ptr` came from `P::into_foreign`, is owned by the caller, and no reader can reach it.
unsafe fn drop_foreign<P: ForeignOwnable>(ptr: NonNull<c_void>) {
    // SAFETY: by this function's contract.
    drop(unsafe { P::from_foreign(ptr.as_ptr()) });
}

impl<P: ForeignOwnable> fmt::Debug for RcuOld<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RcuOld").field("ptr", &self.ptr).finish()
    }
}
