//! `#[derive(RcuProtected)]`: RCU field projection for `rcu-runtime`.
//!
//! Use it through `rcu_runtime` (feature `derive`, on by default), which re-exports it next to the
//! trait of the same name; `README.md` of this crate lists what it emits and guarantees.
//!
//! One pass per module: `ast` reads the input into a typed view and resolves what each field
//! is (with `attr` parsing the attributes), `valid` checks that it can be expanded, `expand`
//! writes the code; `error` collects the mistakes as spanned `compile_error!`s, and `fallback`
//! emits a stub impl when the input cannot be expanded at all, so that the mistake is reported
//! once, not once per use of the struct.

#![forbid(unsafe_code)]

#[macro_use]
mod error;
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
/// (another structurally pinned field), `#[rcu_head]` (the struct's `RcuHead`, at most one),
/// `#[rcu_links]` (the struct's `RcuLinks`, at most one, for an `RcuList`).
/// Container attribute: `#[rcu_protected(project = Name, project_ref = Name, view = Name,
/// PinnedDrop, crate = path)]`. See the `rcu_runtime::RcuProtected` documentation.
#[proc_macro_derive(RcuProtected, attributes(rcu, pin, rcu_head, rcu_links, rcu_protected))]
pub fn derive_rcu_protected(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::derive(input.into()).into()
}
