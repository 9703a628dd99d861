//! The rcu-toolkit book, compiled: every chapter of `book/src` is included here as documentation,
//! so `cargo test -p book` compiles and runs every Rust block of the tutorial. Build the HTML with
//! `mdbook build book` (`cargo install mdbook`).

#[doc = include_str!("src/introduction.md")]
pub mod introduction {}

#[doc = include_str!("src/basics.md")]
pub mod basics {}

#[doc = include_str!("src/derive-expanded.md")]
pub mod derive_expanded {}

#[doc = include_str!("src/performance.md")]
pub mod performance {}

/// The README's example, compiled and run so that it stays true.
#[doc = include_str!("../README.md")]
pub mod readme {}
