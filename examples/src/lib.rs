//! What the example programs share, so that each `src/bin/*.rs` stays one file a user can read
//! (and copy) from top to bottom:
//!
//! - [`cli`]: the command line of the demo programs (`--flag value`, `--help`, usage errors);
//! - [`demo`]: the engine's choices in words, number formatting, stopping threads on the way out.
//!
//! The long `rcutorture` program runs the harness of the `test-support` crate, shared with
//! rcu-runtime's own tests.

pub mod cli;
pub mod demo;
