//! Quiescent-state-based readers: read-side critical sections that cost nothing at all.
//!
//! A [`QsbrReader`] keeps its thread inside one long read-side critical section, which the
//! thread ends and re-enters at points it chooses, its *quiescent states*: between two requests,
//! once per event-loop turn. Reading is then a plain load: [`QsbrReader::guard`] hands out the
//! section's [`Guard`] by reference, with no counter to update. In exchange, the thread must pass
//! a quiescent state regularly, or grace periods (and everything freed after one) wait for it.
//! This is liburcu's QSBR flavour, and the kernel's own model for non-preemptible RCU.
//!
//! The borrow checker enforces the one rule QSBR has: a quiescent state takes `&mut self`, so no
//! reference obtained through [`QsbrReader::guard`] can be alive across it.
//!
//! The reader is a registered reader of the engine whose section never ends while it is online:
//! a quiescent state increments a count in the reader's counter (one store, with the fences and
//! wake-up check of leaving a section), and a grace period that sees the count change since it
//! began stops waiting for the reader (see `gp.rs`). Going offline leaves the section.

use core::fmt;
use core::mem::ManuallyDrop;

use crate::engine::{self, QsbrRegistration};
use crate::guard::{Guard, NotThreadSafe};

/// A thread registered as a quiescent-state-based reader: reads cost a plain load, and the
/// thread reports quiescent states instead of entering and leaving sections.
///
/// While the reader is *online* (from [`register`](Self::register) on), its thread is inside a
/// read-side critical section: [`guard`](Self::guard) gives that section's [`Guard`] for free, and
/// nothing the thread can still reach is freed until it passes a quiescent state. Call
/// [`quiescent_state`](Self::quiescent_state) whenever the thread holds no RCU reference (between
/// work items), and go offline with [`while_offline`](Self::while_offline) around anything that
/// blocks for long. An online reader that never passes a quiescent state holds up every grace
/// period, like a long read-side section; stall reports name it.
///
/// One per thread; it cannot leave its thread. Dropping it takes the thread offline and
/// unregisters it. It is neither `Send` nor `Sync`: its section and the guard it lends belong to
/// the thread that registered it.
///
/// # Examples
///
/// ```
/// use rcu_runtime::{QsbrReader, Rcu};
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let config = Rcu::new(Box::new(String::from("v1")));
/// let stop = AtomicBool::new(false);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         let mut reader = QsbrReader::register();
///         while !stop.load(Ordering::Relaxed) {
///             // A request: reads cost a plain load.
///             let current = config.dereference(reader.guard()).expect("published");
///             assert!(current.starts_with('v'));
///             // Between requests, nothing RCU-protected is held: say so.
///             reader.quiescent_state();
///         }
///     });
///     rcu_runtime::synchronize_rcu(); // completes once the reader has passed quiescent states
///     stop.store(true, Ordering::Relaxed);
/// });
/// ```
///
/// # Latency
///
/// A grace period stops waiting for an online reader at the reader's first quiescent state after
/// the grace period began. An updater that finds another grace period already running waits for
/// that one to end and then for its own, so it may need a quiescent state from each online reader
/// for each of the two, as with liburcu's QSBR flavour. Readers that pass quiescent states often
/// (once per request) do not notice.
///
/// # Invariants
///
/// `registration` is this thread's QSBR reader; it is inside a section (the reader is online)
/// except while [`while_offline`](Self::while_offline) runs its closure, which holds `self`
/// borrowed.
pub struct QsbrReader {
    registration: QsbrRegistration,
    /// The evidence handed out by [`guard`](Self::guard); never dropped (dropping a `Guard` ends
    /// a section of the thread's ordinary reader, not of this one).
    guard: ManuallyDrop<Guard>,
    /// `!Send` and `!Sync`: the section belongs to the thread.
    _not_send_sync: NotThreadSafe,
}

impl QsbrReader {
    /// Registers the current thread as a QSBR reader, online.
    ///
    /// # Panics
    ///
    /// If the thread already has a `QsbrReader`: a second one would be a second section that the
    /// first one's quiescent states do not end.
    ///
    /// ```
    /// let reader = rcu_runtime::QsbrReader::register();
    /// assert!(reader.is_online());
    /// assert!(rcu_runtime::is_reading()); // online means inside a read-side section
    /// drop(reader);
    /// assert!(!rcu_runtime::is_reading());
    /// ```
    #[must_use = "the thread is unregistered as soon as the reader is dropped"]
    pub fn register() -> Self {
        let registration = QsbrRegistration::register();
        // SAFETY: the section just entered lasts until `quiescent_state`, `while_offline` or
        // `drop`, each of which takes `&mut self` (or `self`), so no borrow of this guard outlives
        // it; the guard is kept in a `ManuallyDrop` and never dropped.
        let guard = unsafe { Guard::for_qsbr() };
        // INVARIANT: registered and online.
        Self { registration, guard, _not_send_sync: NotThreadSafe }
    }

    /// The current section's guard: what [`Rcu::dereference`](crate::Rcu::dereference) and every
    /// other read-side call takes. Free: no counter is touched.
    ///
    /// References obtained through it live until the next quiescent state at the latest (they
    /// borrow `self`, which a quiescent state needs mutably).
    ///
    /// ```
    /// use rcu_runtime::{QsbrReader, Rcu};
    ///
    /// let value = Rcu::new(Box::new(7));
    /// let reader = QsbrReader::register();
    /// assert_eq!(value.dereference(reader.guard()).copied(), Some(7));
    /// ```
    #[inline]
    pub fn guard(&self) -> &Guard {
        debug_assert!(self.is_online(), "a QsbrReader is always online while it can be borrowed");
        &self.guard
    }

    /// Reports a quiescent state: the thread holds no reference obtained through
    /// [`guard`](Self::guard) (the borrow checker makes sure of it). Grace periods that were
    /// waiting for this thread stop waiting for it (see [Latency](QsbrReader#latency)).
    ///
    /// One counter store and the fences of leaving a read-side section (with membarrier, compiler
    /// fences only): call it as often as convenient, e.g. once per request or event-loop turn.
    ///
    /// ```
    /// let mut reader = rcu_runtime::QsbrReader::register();
    /// for _request in 0..3 {
    ///     // ... read through reader.guard() ...
    ///     reader.quiescent_state();
    /// }
    /// ```
    #[inline]
    pub fn quiescent_state(&mut self) {
        // INVARIANT: still inside a section (a new one, for the grace periods).
        self.registration.quiescent_state();
    }

    /// Runs `f` with the thread offline: grace periods do not wait for it meanwhile, so `f` may
    /// block, sleep, or wait for a grace period itself. Online again afterwards.
    ///
    /// ```
    /// use rcu_runtime::{synchronize_rcu, QsbrReader};
    ///
    /// let mut reader = QsbrReader::register();
    /// reader.while_offline(|| {
    ///     assert!(!rcu_runtime::is_reading());
    ///     synchronize_rcu(); // would wait for this very thread if it were online
    ///     std::thread::sleep(std::time::Duration::from_millis(1));
    /// });
    /// assert!(reader.is_online());
    /// ```
    pub fn while_offline<R>(&mut self, f: impl FnOnce() -> R) -> R {
        /// Puts the reader back online, also when `f` unwinds.
        struct Online<'a>(&'a mut QsbrReader);
        impl Drop for Online<'_> {
            fn drop(&mut self) {
                // INVARIANT: inside a section again.
                self.0.registration.go_online();
            }
        }
        // INVARIANT: outside its section while `f` runs; `self` stays borrowed (by `Online`)
        // until it is back inside.
        self.registration.go_offline();
        let _online = Online(self);
        f()
    }

    /// Waits for a grace period from an online QSBR thread: [`synchronize_rcu`](crate::synchronize_rcu)
    /// with the reader offline for the wait (online, the grace period would wait for this thread).
    ///
    /// ```
    /// let mut reader = rcu_runtime::QsbrReader::register();
    /// reader.synchronize_rcu();
    /// ```
    #[track_caller]
    pub fn synchronize_rcu(&mut self) {
        self.while_offline(|| engine::synchronize("QsbrReader::synchronize_rcu()"));
    }

    /// Waits for the callbacks queued so far from an online QSBR thread:
    /// [`rcu_barrier`](crate::rcu_barrier) with the reader offline for the wait (online, the
    /// callbacks' grace period would wait for this thread).
    ///
    /// ```
    /// let mut reader = rcu_runtime::QsbrReader::register();
    /// rcu_runtime::defer_rcu(|| println!("ran after a grace period"));
    /// reader.rcu_barrier();
    /// ```
    #[track_caller]
    pub fn rcu_barrier(&mut self) {
        self.while_offline(|| engine::barrier("QsbrReader::rcu_barrier()"));
    }

    /// Whether the reader is online (always, while it can be borrowed).
    ///
    /// ```
    /// let reader = rcu_runtime::QsbrReader::register();
    /// assert!(reader.is_online());
    /// ```
    #[must_use]
    pub fn is_online(&self) -> bool {
        self.registration.is_online()
    }
}

impl fmt::Debug for QsbrReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QsbrReader").field("online", &self.is_online()).finish_non_exhaustive()
    }
}
