//! The rcutorture harness, after the kernel's: run for a few seconds by
//! `rcu-runtime/tests/torture.rs` and `tests/fence_fallback.rs`, and for as long as asked by
//! `examples/src/bin/rcutorture.rs`. [`run`] a [`TortureConfig`], print the [`TortureReport`],
//! fail on its [`failures`](TortureReport::failures).
//!
//! - [`stress`]: the configuration, the shared state, the fake writers and the run itself
//!   (spawning, watching for hangs, teardown);
//! - `readers`: the reader threads (ordinary, nested up to 64 deep, and QSBR);
//! - `writer`: the writer, which publishes and reclaims through every path the runtime offers;
//! - `forks`: the forker, which forks children while the run goes on, and the pause that
//!   quiet forks need;
//! - [`element`]: what the writer publishes, with its pipe stage, its poison, and the chain of
//!   nested `Rcu`s some elements own;
//! - [`histogram`]: the pipe-age histogram readers fill;
//! - [`waits`]: every wait timed, a wait over the limit is a failure, a wait that does not
//!   return ends the run;
//! - [`report`]: what a run saw and its failures.
//!
//! The poisoning allocator ([`crate::poison_alloc`]) and the random generator ([`crate::rng`])
//! are modules of their own: other tests use them without the harness.

pub mod element;
mod forks;
pub mod histogram;
mod readers;
pub mod report;
pub mod stress;
pub mod waits;
mod writer;

pub use forks::ForkSummary;
pub use report::TortureReport;
pub use stress::{TortureConfig, WriterMode, run};
