//! `#[derive(RcuProtected)]`: RCU field projection for `rcu-runtime`.
//!
//! Use it through `rcu_runtime` (feature `derive`, on by default), which re-exports it next to the
//! trait of the same name; `README.md` of this crate lists what it emits and guarantees.
//!
//! The macro runs three passes, each in its own module: `ast` reads the input into a typed view
//! (with `attr` parsing the attributes), `valid` checks it, `expand` writes the code. A mistake
//! in the input becomes a spanned `compile_error!`; when the struct cannot be expanded at all,
//! `fallback` emits a stub impl next to it, so that the mistake is reported once, not once per
//! use of the struct.

#![forbid(unsafe_code)]

/// Returns early with a [`syn::Error`] spanned at the given tokens.
macro_rules! bail {
    ($tokens:expr, $($fmt:tt)+) => {
        return ::core::result::Result::Err(::syn::Error::new_spanned($tokens, ::std::format!($($fmt)+)))
    };
}

mod ast;
mod attr;
mod expand;
mod fallback;
mod valid;

#[cfg(test)]
mod property_tests;

/// Derives `rcu_runtime::RcuProtected` and the field projections of a struct.
///
/// Field attributes: `#[rcu]` (an `Rcu<P>` that readers reach without the lock), `#[pin]`
/// (another structurally pinned field), `#[rcu_head]` (the struct's `RcuHead`, at most one).
/// Container attribute: `#[rcu_protected(project = Name, project_ref = Name, view = Name,
/// PinnedDrop, crate = path)]`. See the `rcu_runtime::RcuProtected` documentation.
#[proc_macro_derive(RcuProtected, attributes(rcu, pin, rcu_head, rcu_protected))]
pub fn derive_rcu_protected(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::derive(input.into()).into()
}
