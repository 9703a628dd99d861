//! RCU collections: containers whose readers traverse without locks while updaters change them
//! through `&self`.
//!
//! - [`RcuList`]: the kernel's intrusive `list_*_rcu` doubly linked list.
//! - [`RcuHashMap`]: a resizable hash map with lock-free lookups (after the kernel's rhashtable
//!   and liburcu's rculfhash).
//! - [`RcuMap`]: a small ordered copy-on-write map.
//!
//! The parts of their protocols that the loom models check (linking and unlinking list nodes,
//! migrating a bucket during a resize) live in `raw` files written against `crate::engine::sync`'s
//! atomics, and are compiled under `--cfg loom` too; the typed layer around them is not (it needs
//! the process-wide engine).

#[cfg(not(loom))]
mod hash_map;
#[cfg(not(loom))]
mod list;
#[cfg(not(loom))]
mod map;

// The loom build has only the protocol files, included on their own.
#[cfg(loom)]
#[expect(unreachable_pub, reason = "the models use only some of the protocol's items")]
#[path = "hash_map/raw.rs"]
mod hash_map_raw;
#[cfg(loom)]
#[path = "list/raw.rs"]
mod list_raw;

#[cfg(not(loom))]
pub use hash_map::{Iter as HashMapIter, RcuHashMap};
#[cfg(not(loom))]
pub use list::{Cursor, HasRcuLinks, Iter as ListIter, RcuLinks, RcuList};
#[cfg(not(loom))]
pub use map::RcuMap;

/// The protocol-critical parts, for the loom models in `tests/loom_collections.rs` only.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_raw {
    pub use super::hash_map_raw::{RawNode, RawTable, link_front, lookup, migrate_bucket};
    pub use super::list_raw::{RawList, RcuLinks};
}
