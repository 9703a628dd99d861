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
        reason = "the loom build has the engine without the process-wide API that uses these parts"
    )
)]

mod callbacks;
mod collections;
#[cfg_attr(not(loom), expect(unreachable_pub, reason = "public only for the loom models"))]
mod domain;
mod gp;
mod head;
mod membarrier;
#[cfg_attr(not(loom), expect(unreachable_pub, reason = "public only for the loom models"))]
mod reader;
mod sync;
mod waker;

pub mod field;

pub mod config;
#[cfg(not(loom))]
mod engine;
#[cfg(not(loom))]
mod foreign;
#[cfg(not(loom))]
mod fork;
#[cfg(not(loom))]
mod guard;
#[cfg(not(loom))]
mod map;
#[cfg(not(loom))]
mod old;
#[cfg(not(loom))]
mod qsbr;
#[cfg(not(loom))]
mod rcu;
#[cfg(not(loom))]
mod rcu_box;
#[cfg(not(loom))]
mod stats;
#[cfg(not(loom))]
mod worker;

pub use field::{Field, HasField, HasPinnedField};
pub use head::{HasRcuHead, RcuCallback, RcuHead};

#[cfg(not(loom))]
pub use callbacks::{call_rcu, defer_rcu, rcu_barrier};
/// The collections' protocol steps, for the loom models in `tests/loom_collections.rs` only.
#[cfg(loom)]
#[doc(hidden)]
pub use collections::loom_raw as __loom_collections;
#[cfg(not(loom))]
pub use collections::{Cursor, HasRcuLinks, HashMapIter, ListIter, RcuHashMap, RcuLinks, RcuList};
#[cfg(not(loom))]
pub use foreign::{ForeignOwnable, ForeignOwnableRcu};
#[cfg(not(loom))]
pub use gp::{GpState, start_poll, synchronize_rcu};
#[cfg(not(loom))]
pub use guard::{Guard, is_reading, read_lock};
#[cfg(not(loom))]
pub use map::RcuMap;
#[cfg(not(loom))]
pub use old::RcuOld;
#[cfg(not(loom))]
pub use qsbr::QsbrReader;
#[cfg(not(loom))]
pub use rcu::Rcu;
#[cfg(not(loom))]
pub use rcu_box::RcuBox;
#[cfg(not(loom))]
pub use stats::{Stats, stats};

// BEGIN field projection
/// What `#[derive(RcuProtected)]` expands to; not public API.
#[cfg(not(loom))]
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
#[cfg(not(loom))]
mod mutex;
#[cfg(not(loom))]
mod protected;

#[cfg(not(loom))]
pub use mutex::{RcuMutex, RcuMutexGuard};
#[cfg(not(loom))]
pub use protected::{PinnedDrop, RcuMut, RcuProtected};
/// Derives [`RcuProtected`](trait@RcuProtected): see the trait and the `rcu-derive` README.
#[cfg(all(feature = "derive", not(loom)))]
pub use rcu_derive::RcuProtected;
// END field projection

/// The engine's internals, for the loom models in `tests/loom.rs` only.
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::domain::Domain;
    pub use crate::reader::ReaderNode;
}
