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
//! The everyday case, one pointer that any thread replaces through `&self` (arc-swap's job), is
//! an [`RcuCell`]: readers [`dereference`](RcuCell::dereference) it under a guard or take a
//! [`read`](RcuCell::read) snapshot; updaters [`replace`](RcuCell::replace) it or run a
//! [`copy_update`](RcuCell::copy_update) loop. For `Arc` pointers the borrow is an [`ArcBorrow`],
//! which makes an owned `Arc` in one increment; an [`RcuOld`] can be awaited
//! ([`RcuOld::wait_async`]) instead of blocking a thread.
//!
//! ```
//! use rcu_runtime::RcuCell;
//!
//! static CONFIG: RcuCell<Box<String>> = RcuCell::null();
//! CONFIG.replace(Box::new(String::from("v1")));
//! assert_eq!(CONFIG.read().map(|s| s.len()), Some(2));
//! CONFIG.replace(Box::new(String::from("v2"))).unwrap().defer_drop();
//! ```
//!
//! Threads that read in a loop and have natural pauses (between requests, event-loop turns) can
//! register a [`QsbrReader`] instead: they read through its guard at the cost of a plain load
//! and report quiescent states, liburcu's QSBR flavour with the borrow checker enforcing its
//! rule.
//!
//! Most RCU-protected data is a collection rather than one pointer, and the crate has three
//! (their chapter in the book compares them): [`RcuList`], the kernel's intrusive `list_*_rcu`
//! (the node type marks its [`RcuLinks`] field `#[rcu_links]` under
//! `#[derive(RcuProtected)]`); [`RcuHashMap`], a hash map that grows and shrinks by itself while
//! lookups go on without locks or atomic read-modify-writes (after the kernel's rhashtable and
//! liburcu's rculfhash); and [`RcuMap`], a small ordered copy-on-write map. Readers pass a guard
//! and get borrows that live as long as it; updaters go through `&self`, from any thread, and
//! never wait for readers:
//!
//! ```
//! use rcu_runtime::{read_lock, RcuHashMap};
//!
//! let sessions = RcuHashMap::new();
//! sessions.insert(7_u64, String::from("alice"));
//! let guard = read_lock();
//! let name = sessions.get(&7, &guard).expect("present"); // no lock
//! assert!(sessions.remove(&7)); // unlinked now, freed after a grace period...
//! assert_eq!(name, "alice"); // ...so the reader's borrow is still good
//! ```
//!
//! The engine follows liburcu's memb flavour: per-thread counters, a phase-flipping global
//! counter, and `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` on the grace-period side (full
//! fences when membarrier is not available, see [`config`]). Callbacks run on a worker thread in
//! batches, one grace period per batch, with backpressure past a bound.
//!
//! # Thread safety
//!
//! One rule decides every `Send` and `Sync` below: a borrow handed out under a [`Guard`]
//! ([`Rcu::dereference`], the view of an [`RcuMutex`], [`RcuMap::keys`] and
//! [`RcuMap::load_rcu`], [`RcuBox::with_rcu`], [`RcuList::iter`], [`RcuHashMap::get`] and
//! [`RcuHashMap::iter`]) lives as long as the guard, not as long as its owner. The owner may be moved to another thread while the borrow lives, and the receiving
//! thread may then read the same value. So an owner is `Send` only when what its readers borrow
//! is `Sync` (as `Arc<T>` needs `T: Send + Sync`), and `Sync` only when that is `Sync`; owning a
//! value that may be dropped on another thread adds `Send`.
//!
//! | Type | `Send` when | `Sync` when | Why |
//! |---|---|---|---|
//! | [`Guard`] | never | never | its read-side critical section belongs to the thread that entered it |
//! | [`QsbrReader`] | never | never | its section, and the guard it lends, belong to the thread that registered it |
//! | [`Rcu<P>`](Rcu) | `P: Send + Sync` | `P: Sync` | the receiver may drop the `P`; readers' borrows outlive a move of the `Rcu` |
//! | [`RcuOld<P>`](RcuOld) | `P: Send` | always | it gives the value back only after a grace period, when no reader borrows it; `&RcuOld` gives nothing |
//! | [`RcuCell<P>`](RcuCell) | `P: Send + Sync` | `P: Send + Sync` | updaters on any thread take the old `P` out through `&self` and drop it; readers on every thread share the pointee, and their borrows outlive a move of the cell |
//! | [`RcuRef<'_, T>`](RcuRef) | never | never | it carries its thread's read-side critical section, as a `Guard` |
//! | [`ArcBorrow<'_, T>`](ArcBorrow) | `T: Send + Sync` | `T: Send + Sync` | as `&Arc<T>`: it gives `&T` and a new `Arc<T>` that may be dropped (last) on the receiving thread |
//! | the futures of [`GpState::wait_async`], [`RcuOld::wait_async`] | always; `P: Send` | always; `P: Send` | a number and a registration; the value they give back |
//! | [`RcuBox<T>`](RcuBox) (`T: Send`) | `T: Sync` | `T: Sync` | the worker drops the `T`; borrows from `with_rcu` outlive a move of the box |
//! | [`RcuMap<K, P>`](RcuMap) | `K`, `P`: `Send + Sync` | `K`, `P`: `Send + Sync` | updaters on any thread move keys and values in and out; readers' keys and values outlive a move of the map |
//! | [`RcuList<T>`](RcuList) | `T: Send + Sync` | `T: Send + Sync` | updaters on any thread add nodes and take removed ones back; readers' `&T` outlive a move of the list |
//! | [`RcuHashMap<K, V, S>`](RcuHashMap) | `K`, `V`: `Send + Sync`; `S: Send` | `K`, `V`: `Send + Sync`; `S: Sync` | updaters on any thread move entries in, removed ones are dropped on the worker; readers' `&K`, `&V` outlive a move of the map; readers on every thread hash with `&S` |
//! | [`ListIter<'_, T>`](ListIter), [`HashMapIter<'_, K, V>`](HashMapIter) | `T: Sync` (`K`, `V`: `Sync`) | the same | like `&T`: they lend what they yield, within the guard's borrow |
//! | [`Cursor<'_, T>`](Cursor) | never | `T: Sync` | it holds the list's lock, released on the thread that took it; `&Cursor` lends `&T` |
//! | [`RcuMutex<T>`](RcuMutex) | `T: Send`, `#[rcu]` pointees `Sync` | the same | lock holders on any thread use the `T`; readers share the `#[rcu]` fields, and their borrows outlive a move of the mutex |
//! | [`RcuMutexGuard<'_, T>`](RcuMutexGuard) | never | `T: Sync` and `RcuMutex<T>: Sync` | the lock is released on the thread that took it; `&guard` gives `&T` |
//! | the derived view (`{Struct}View<'_>`) | `#[rcu]` pointees `Sync` | the same | it lends `&Rcu<P>` for the `#[rcu]` fields and nothing else |
//! | the derived projections | each projected field is | each projected field is | they are structs of `RcuMut`, `Pin<&mut F>`, `&mut F`, `Pin<&F>` and `&F` |
//! | [`RcuMut<'_, Rcu<P>>`](RcuMut) | `P: Send + Sync` | `P: Sync` | as `Pin<&mut Rcu<P>>`: the updater's borrows of the current value outlive a hand-over |
//! | [`RcuHead`], [`RcuLinks`] | always | always | they hold no data of their own and offer nothing through `&` |
//! | [`GpState`] | always | always | a number; grace periods are process-wide |
//! | [`Stats`], [`Field<N>`](Field), [`Unchanged`], [`config::BarrierMode`], [`config::AlreadyStarted`], [`config::StallReport`] | always | always | plain data |
//!
//! "`#[rcu]` pointees `Sync`" is `T::ReaderFields: Sync` ([`RcuProtected::ReaderFields`]): every
//! `#[rcu]` field `Rcu<P>` has `P: Sync`. Fields without `#[rcu]` need only `Send`, since only
//! the lock holder reaches them. The [`ForeignOwnable`] pointers (`Box<T>`, `Pin<Box<T>>`,
//! `Arc<T>`, [`RcuBox<T>`](RcuBox)) keep their own auto traits; a borrow of one gives no more
//! than `&P` (the trait's contract), which is why the containers ask `P: Sync` of what readers
//! share. What runs or is dropped on the callback worker needs `Send + 'static`:
//! [`defer_rcu`]'s closure, [`RcuOld::defer_drop`]'s pointer, [`RcuOld::drop_async`]'s `T`, an
//! [`RcuBox`]'s value, a removed [`RcuHashMap`] entry. Each "not `Send`/`Sync` unless" above has
//! a compile-fail case in `ui-tests/tests/ui/send_sync/` (and `guard/`, `qsbr/`, `mutex/`,
//! `collections/`), next to a passing twin.
//!
//! # The book
//!
//! The tutorial lives in the repository's `book/` directory (`mdbook build book`, or read the
//! Markdown in `book/src/`); every Rust block in it is compiled and run by `cargo test`. It goes
//! from what RCU is to readers and guards (and QSBR readers), updaters and `Pin`, grace periods,
//! [`RcuHead`] and `#[derive(RcuProtected)]`, field projection through [`RcuMutex`], the RCU
//! collections, what the compiler rejects and why, thread safety, the derive's expanded code,
//! performance against liburcu, crossbeam-epoch, arc-swap and `RwLock` (and of the collections
//! against std's `HashMap`, papaya, dashmap and scc), porting kernel code, and pitfalls (stalls,
//! leaked guards, blocking callbacks, `fork`).

#![cfg_attr(
    loom,
    expect(
        dead_code,
        reason = "the loom build has the engine without the process-wide parts that use these items"
    )
)]

// The engine: everything below the typed API, the only part that the loom models build (with
// the collections' protocol steps, which `collections` compiles alone under loom).
mod collections;
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
    mod cell;
    mod foreign;
    mod head;
    mod old;
    mod rcu;
    mod rcu_box;
    mod rcu_ref;

    // RCU field projection.
    mod projection;
    mod writer_lock;

    /// What `#[derive(RcuProtected)]` expands to; not public API.
    #[doc(hidden)]
    pub use projection::private as __private;

    pub use callbacks::{call_rcu, defer_rcu, rcu_barrier};
    pub use cell::{RcuCell, Unchanged};
    pub use collections::{Cursor, HasRcuLinks, HashMapIter, ListIter, RcuHashMap, RcuLinks, RcuList, RcuMap};
    pub use foreign::{ArcBorrow, ForeignOwnable, ForeignOwnableDeref, ForeignOwnableRcu};
    pub use gp::{GpState, start_poll, synchronize_rcu};
    pub use guard::{Guard, is_reading, read_lock};
    pub use head::HasRcuHead;
    pub use old::RcuOld;
    pub use projection::{Field, HasField, HasPinnedField, PinnedDrop, RcuMut, RcuMutex, RcuMutexGuard, RcuProtected};
    pub use qsbr::QsbrReader;
    pub use rcu::Rcu;
    pub use rcu_box::RcuBox;
    pub use rcu_ref::RcuRef;
    pub use stats::{Stats, stats};

    /// Derives [`RcuProtected`](trait@RcuProtected), whose documentation lists the attributes,
    /// names the generated types and has a complete example.
    #[cfg(feature = "derive")]
    pub use rcu_derive::RcuProtected;
}

/// The collections' protocol steps, for the loom models in `tests/loom_collections.rs` only.
#[cfg(loom)]
#[doc(hidden)]
pub use collections::loom_raw as __loom_collections;
/// The engine's internals, for the loom models in `tests/loom.rs` only (see
/// `engine::loom_api`).
#[cfg(loom)]
#[doc(hidden)]
pub use engine::loom_api as __loom;
