//! RCU-protected collections: readers look up without locks, updaters reclaim after a grace
//! period.

mod map;

pub use map::RcuMap;
