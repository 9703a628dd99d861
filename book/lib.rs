//! The rcu-toolkit book, compiled: every chapter of `book/src` is included here as documentation,
//! so `cargo test -p book` compiles and runs every Rust block of the tutorial. Build the HTML with
//! `mdbook build book` (`cargo install mdbook`).

#[doc = include_str!("src/introduction.md")]
pub mod introduction {}

#[doc = include_str!("src/everyday-pointer.md")]
pub mod everyday_pointer {}

#[doc = include_str!("src/readers.md")]
pub mod readers {}

#[doc = include_str!("src/updaters.md")]
pub mod updaters {}

#[doc = include_str!("src/grace-periods.md")]
pub mod grace_periods {}

#[doc = include_str!("src/rcu-head.md")]
pub mod rcu_head {}

#[doc = include_str!("src/field-projection.md")]
pub mod field_projection {}

#[doc = include_str!("src/collections.md")]
pub mod collections {}

#[doc = include_str!("src/compiler-rejects.md")]
pub mod compiler_rejects {}

#[doc = include_str!("src/thread-safety.md")]
pub mod thread_safety {}

#[doc = include_str!("src/derive-expanded.md")]
pub mod derive_expanded {}

#[doc = include_str!("src/performance.md")]
pub mod performance {}

#[doc = include_str!("src/porting.md")]
pub mod porting {}

#[doc = include_str!("src/pitfalls.md")]
pub mod pitfalls {}

#[doc = include_str!("src/architecture.md")]
pub mod architecture {}

/// The README's example, compiled and run so that it stays true.
#[doc = include_str!("../README.md")]
pub mod readme {}
