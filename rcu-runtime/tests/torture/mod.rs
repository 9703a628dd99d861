//! The rcutorture harness: shared by `tests/torture.rs`, `tests/fence_fallback.rs` and the
//! long-running `examples/src/bin/rcutorture.rs` (which includes this directory by path).
//!
//! - [`stress`]: the run itself (readers, writer, fake writers) and its report;
//! - [`element`]: what the writer publishes, with its pipe stage and its poison;
//! - [`histogram`]: the pipe-age histogram readers fill;
//! - [`poison_alloc`]: the global allocator that poisons and quarantines freed memory;
//! - [`rng`]: per-thread random streams for delays and choices.
//!
//! `liveness.rs`, next to these, is not part of the harness: the behaviour tests include it on its
//! own (`#[path = "torture/liveness.rs"]`) to fail instead of hanging when a grace period or the
//! callback worker gets stuck.

pub(crate) mod element;
pub(crate) mod histogram;
pub(crate) mod poison_alloc;
pub(crate) mod rng;
pub(crate) mod stress;
