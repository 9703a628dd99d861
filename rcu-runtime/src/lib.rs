//! Userspace read-copy-update, shaped after the Linux kernel's Rust RCU API.
//!
//! Readers enter a read-side critical section with [`read_lock`] (a thread-local load and two
//! plain stores) and follow RCU-protected pointers ([`Rcu`]) without locks or atomic
//! read-modify-writes. Updaters publish a new version with a single atomic store and reclaim the
//! old one after a *grace period*: synchronously ([`synchronize_rcu`], [`RcuOld`]'s drop) or
//! asynchronously ([`call_rcu`], [`defer_rcu`], [`RcuOld::drop_async`], [`RcuBox`]).
//!
//! ```
//! use rcu_runtime::{read_lock, Rcu};
//! use std::pin::pin;
//!
//! let mut config = pin!(Rcu::new(Box::new(String::from("v1"))));
//!
//! // Readers, on any thread: no lock, no atomic read-modify-write.
//! let guard = read_lock();
//! assert_eq!(config.dereference(&guard).map(|s| s.as_str()), Some("v1"));
//! drop(guard);
//!
//! // The updater publishes a new version and frees the old one after a grace period.
//! let old = config.as_mut().replace(Box::new(String::from("v2")));
//! drop(old); // waits for the readers that might still see "v1"
//! ```
//!
//! Threads that read in a loop and have natural pauses (between requests, event-loop turns) can
//! register a [`QsbrReader`] instead: they read through its guard at the cost of a plain load
//! and report quiescent states, liburcu's QSBR flavour with the borrow checker enforcing its
//! rule.
//!
//! The engine follows liburcu's memb flavour: per-thread counters, a phase-flipping global
//! counter, and `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` on the grace-period side (full
//! fences when membarrier is not available, see [`config`]). Callbacks run on a worker thread in
//! batches, one grace period per batch, with backpressure past a bound.
//!
//! # The book
//!
//! The tutorial lives in the repository's `book/` directory (`mdbook build book`, or read the
//! Markdown in `book/src/`); every Rust block in it is compiled and run by `cargo test`. It goes
//! from what RCU is to readers and guards (and QSBR readers), updaters and `Pin`, grace periods,
//! [`RcuHead`] and `#[derive(RcuProtected)]`, field projection through [`RcuMutex`], what the
//! compiler rejects and why, the derive's expanded code, performance against liburcu,
//! crossbeam-epoch, arc-swap and `RwLock`, porting kernel code, and pitfalls (stalls, leaked
//! guards, blocking callbacks, `fork`).

#![cfg_attr(
    loom,
    expect(
        dead_code,
        reason = "the loom build has the engine without the process-wide parts that use these items"
    )
)]

// The engine: everything below the typed API, the only part that the loom models build.
mod engine;

pub use engine::config;
pub use engine::head::{RcuCallback, RcuHead};

/// Items that only exist outside the loom build: the loom models check the engine alone (see
/// `tests/loom.rs`), so the typed layer above it is not built under `--cfg loom`.
macro_rules! typed_layer {
    ($($item:item)*) => { $( #[cfg(not(loom))] $item )* };
}

typed_layer! {
    // The read side and grace periods as users see them.
    mod callbacks;
    mod gp;
    mod guard;
    mod qsbr;
    mod stats;

    // Typed pointers.
    mod foreign;
    mod head;
    mod old;
    mod rcu;
    mod rcu_box;

    // RCU field projection, and collections.
    mod collections;
    mod projection;
    mod writer_lock;

    /// What `#[derive(RcuProtected)]` expands to; not public API.
    #[doc(hidden)]
    pub use projection::private as __private;

    pub use callbacks::{call_rcu, defer_rcu, rcu_barrier};
    pub use collections::RcuMap;
    pub use foreign::{ForeignOwnable, ForeignOwnableRcu};
    pub use gp::{GpState, start_poll, synchronize_rcu};
    pub use guard::{Guard, is_reading, read_lock};
    pub use head::HasRcuHead;
    pub use old::RcuOld;
    pub use projection::{Field, HasField, HasPinnedField, PinnedDrop, RcuMut, RcuMutex, RcuMutexGuard, RcuProtected};
    pub use qsbr::QsbrReader;
    pub use rcu::Rcu;
    pub use rcu_box::RcuBox;
    pub use stats::{Stats, stats};

    /// Derives [`RcuProtected`](trait@RcuProtected): see the trait and the `rcu-derive` README.
    #[cfg(feature = "derive")]
    pub use rcu_derive::RcuProtected;
}

/// The engine's internals, for the loom models in `tests/loom.rs` only (see
/// `engine::loom_api`).
#[cfg(loom)]
#[doc(hidden)]
pub use engine::loom_api as __loom;
