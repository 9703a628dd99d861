//! What rcu-runtime's tests and the examples' `rcutorture` program share. Unpublished: a
//! dev-dependency of `rcu-runtime` and a dependency of `examples`.
//!
//! Each module owns one thing:
//!
//! - [`torture`]: the rcutorture harness (readers, a writer going through every way of
//!   publishing and reclaiming, fake writers, forks), its report and the failures it detects;
//!   run for a few seconds by `rcu-runtime/tests/torture.rs` and `tests/fence_fallback.rs`, for
//!   as long as asked by `examples/src/bin/rcutorture.rs`;
//! - [`poison_alloc`]: the global allocator of the stress runs, which poisons freed memory,
//!   keeps it out of circulation for a while and counts writes after free;
//! - [`liveness`]: hang detection ([`HANG`], [`wait_until`], [`join_within`], …): a step that
//!   may hang fails its test with a message instead of hanging `cargo test`;
//! - [`child`]: running a check in a forked child process, with a verdict through a pipe;
//! - [`tracked`]: [`Tracked`], a value that counts its drops and poisons itself, and [`counter`];
//! - [`reader_inside`]: [`ReaderInside`], a thread parked inside a read-side section;
//! - [`panics`]: [`panic_message`], the text of a panic payload;
//! - [`probe`](mod@probe): the [`probe!`] macro, which tells a type's `Send`/`Sync` at run time;
//! - [`rng`]: a small seeded random generator (no dependency);
//! - [`sync`]: `Mutex` and `Condvar` that ThreadSanitizer understands without an instrumented
//!   standard library (`scripts/tsan.sh`).
//!
//! # One runtime per test binary
//!
//! `rcu-runtime` depends on this crate as a dev-dependency, and this crate on `rcu-runtime`: a
//! cycle that cargo allows. An integration test (`rcu-runtime/tests/*.rs`) and this crate then
//! link the same `rcu_runtime` library, so the harness drives the engine the test configures
//! (`tests/fence_fallback.rs` relies on it: it turns full fences on, and the harness's report
//! must say `Fences`, with the same `BarrierMode` type). The runtime's *unit* tests must not
//! use this crate: they are a second build of the runtime, and this crate would see the other.
//!
//! # Under loom
//!
//! `RUSTFLAGS="--cfg loom"` builds every dev-dependency of the runtime, this crate included, but
//! the loom build of the runtime has only its engine (see `rcu-runtime/src/lib.rs`). The crate
//! is empty then: the loom models do not use it.

#![cfg(not(loom))]

pub mod child;
pub mod isolated;
pub mod liveness;
pub mod panics;
pub mod poison_alloc;
pub mod probe;
pub mod reader_inside;
pub mod rng;
pub mod sync;
pub mod torture;
pub mod tracked;

/// This crate's own tests run under the allocator they check (see `poison_alloc`'s tests).
#[cfg(test)]
#[global_allocator]
static ALLOC: poison_alloc::PoisonAllocator = poison_alloc::PoisonAllocator;

pub use isolated::isolated;
pub use liveness::{HANG, finishes_within, join_while_progressing, join_within, wait_until};
pub use panics::panic_message;
pub use probe::{Fallback, Probe};
pub use reader_inside::ReaderInside;
pub use tracked::{LIVE, POISON, Tracked, counter};
