//! Property tests of the derive: random struct definitions, valid and invalid, each with the
//! verdict it must get, fed to [`crate::expand::derive`]; and a token-level mutation fuzzer.
//!
//! The generator writes the source text itself, so it knows where every token is. While it
//! writes, an oracle (written from the rules in `attr.rs`, `valid.rs` and the README, not by
//! calling them) records what the derive must answer: every `compile_error!` with its message
//! and the line and column of the token it must point at, or, for a valid input, the impls and
//! types the README promises. `proc-macro2`'s `span-locations` feature (a dev-dependency) makes
//! spans carry line and column outside a real macro.
//!
//! Every case comes from one 64-bit seed. A failure prints the seed and the source; rerun it
//! alone with `RCU_DERIVE_FUZZ_SEED=<seed> RCU_DERIVE_FUZZ_CASES=1 cargo test -p rcu-derive
//! property_tests`. `RCU_DERIVE_FUZZ_CASES` raises the number of cases for a long run (the
//! default keeps the module to a few seconds in a debug build), `RCU_DERIVE_FUZZ_SEED` moves
//! the run to other seeds.
//!
//! The module is split along those lines: [`rng`], [`source`] (text that knows where its tokens
//! are), [`case`] (what the derive must answer), [`generator`] and [`oracle`] (writing an input
//! and working out its verdict), [`runner`] (running the derive and checking its output), and
//! [`properties`] (the tests).

mod case;
mod generator;
mod oracle;
mod properties;
mod rng;
mod runner;
mod source;

use std::collections::BTreeSet;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use proc_macro2::{Delimiter, LineColumn, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::{Fields, GenericArgument, ImplItem, Item, LitStr, PathArguments, Type};

use self::case::*;
use self::generator::*;
use self::oracle::*;
use self::rng::*;
use self::runner::*;
use self::source::*;

/// Cases per property when `RCU_DERIVE_FUZZ_CASES` is not set.
pub(super) const DEFAULT_CASES: u64 = 1500;
/// The first seed when `RCU_DERIVE_FUZZ_SEED` is not set; case `i` uses seed `first + i`.
pub(super) const DEFAULT_SEED: u64 = 0x7263_755f_6675_7a7a;

pub(super) fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={value} is not a number")))
}

/// The seeds of this run.
pub(super) fn seeds() -> impl Iterator<Item = u64> {
    let cases = env_u64("RCU_DERIVE_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let first = env_u64("RCU_DERIVE_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    (0..cases).map(move |i| first.wrapping_add(i))
}
