//! Code generation, split by what it generates: [`types`] (the projection and view types next
//! to the struct), [`impls`] (the per-field traits, the view's methods and `RcuProtected`),
//! [`pinning`] (the projections and the compiler-checked proofs of structural pinning), and
//! [`generics`] (the struct's generics, adapted for generated items).
//!
//! The public projection and view types are emitted next to the struct; everything else lives in
//! one `const _: () = { .. };` block that declares no named item, only impls: a user type named
//! like a helper could otherwise resolve to the helper wherever the expansion copies the user's
//! tokens (field types, bounds). Every other name comes through the runtime's path
//! (`::rcu_runtime::__private::Pin`, never `::core::pin::Pin`, which `extern crate self as core`
//! redirects; `__private::usize`, never `usize`, which a user `struct usize;` shadows), and field
//! places are computed with native syntax (`&raw const (*p).field`).
//! What the runtime relies on is checked by its own signatures (see `rcu_runtime::__private`),
//! so even a redirected runtime path cannot make the expansion unsound.
//!
//! Comments do not survive in tokens, so the safety argument of each `unsafe` item is written
//! next to the `quote!` that emits it, and repeated in `tests/expanded.rs`, the compiled,
//! commented expansion of an example struct.

pub(crate) mod generics;
mod impls;
mod pinning;
mod types;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{DeriveInput, GenericParam, Generics, Lifetime, LifetimeParam, Path, WherePredicate};

use self::generics::{fresh_lifetime, normalized};
use crate::ast::{Field, FieldKind, Input};
use crate::error::Errors;
use crate::{fallback, valid};

/// The expansion entry point: derive input in, items (or errors plus the fallback) out.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return Errors::from(error).to_compile_errors(),
    };
    let mut errors = Errors::default();
    let parsed = Input::from_syn(&input, &mut errors);
    let items = match valid::check(&parsed) {
        Ok(()) => expand(&parsed),
        Err(fatal) => {
            errors.push(fatal);
            fallback::expand(&parsed)
        }
    };
    let errors = errors.to_compile_errors();
    quote! {
        #errors
        #items
    }
}

/// What every part of the expansion needs.
struct Cx<'a> {
    input: &'a Input<'a>,
    krate: Path,
    /// `#krate::__private`, where the items of `core` the expansion names come from.
    private: TokenStream,
    /// The lifetime of the projections (`'pin`, or a variant the struct does not use).
    pin: Lifetime,
    /// The lifetime of the reader view (`'view`, or a variant the struct does not use).
    view: Lifetime,
    /// The struct's type with its generic arguments: `Config<'x, T>`.
    self_ty: TokenStream,
    /// The struct's generic parameters for generated items: no defaults, and every bound moved
    /// to the `where` clause (bounds written in two places would draw lints on generated code
    /// that carries the user's spans).
    generics: Generics,
}

impl<'a> Cx<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        let ident = input.ident;
        let (_, ty_generics, _) = input.generics.split_for_impl();
        let krate = input.krate();
        Cx {
            input,
            private: quote!(#krate::__private),
            krate,
            pin: fresh_lifetime(input.generics, "pin"),
            view: fresh_lifetime(input.generics, "view"),
            self_ty: quote!(#ident #ty_generics),
            generics: normalized(input.generics),
        }
    }

    /// The struct's generic parameters, normalized (see `Cx::generics`), behind `lifetime`.
    fn generics_with(&self, lifetime: &Lifetime) -> Generics {
        let mut generics = self.generics.clone();
        generics.params.insert(0, GenericParam::Lifetime(LifetimeParam::new(lifetime.clone())));
        generics
    }

    /// `where` + the struct's own predicates + `extra`.
    fn where_with(&self, extra: &[TokenStream]) -> TokenStream {
        let own = self.generics.where_clause.iter().flat_map(|clause| clause.predicates.iter());
        let own: Vec<&WherePredicate> = own.collect();
        if own.is_empty() && extra.is_empty() {
            return TokenStream::new();
        }
        quote!(where #(#own,)* #(#extra,)*)
    }

    /// The struct's own `where` clause.
    fn where_clause(&self) -> TokenStream {
        self.where_with(&[])
    }

    /// `HasField<Field<N>>` of `field`, as a path: `#krate::HasField<#krate::Field<N>>`.
    fn has_field_trait(&self, field: &Field<'_>) -> TokenStream {
        let krate = &self.krate;
        let n = field.index_literal();
        quote!(#krate::HasField<#krate::Field<#n>>)
    }
}

fn expand(input: &Input<'_>) -> TokenStream {
    let cx = Cx::new(input);
    let projection = types::projection_type(&cx, types::Mutability::Mut);
    let projection_ref = types::projection_type(&cx, types::Mutability::Shared);
    let view = types::view_type(&cx);
    let has_field = input.fields.iter().map(|field| impls::has_field(&cx, field));
    let pinned = input
        .fields
        .iter()
        .filter(|field| field.is_pinned())
        .map(|field| impls::has_pinned_field(&cx, field));
    let rcu_fields = input.fields_of(FieldKind::Rcu).map(|field| impls::rcu_field(&cx, field));
    let rcu_head = input.fields_of(FieldKind::RcuHead).next().map(|field| impls::has_rcu_head(&cx, field));
    let rcu_links = input.fields_of(FieldKind::RcuLinks).next().map(|field| impls::has_rcu_links(&cx, field));
    let project_methods = pinning::project_methods(&cx);
    let view_impls = impls::view_impls(&cx);
    let rcu_protected = impls::rcu_protected_impl(&cx);
    let unpin = pinning::unpin_impl(&cx);
    let drop = pinning::drop_impls(&cx);
    quote! {
        #projection
        #projection_ref
        #view

        // Only impls in here: a named item would be in scope of the user's tokens copied below
        // (field types, bounds), and a user type of the same name would resolve to it. Locals and
        // parameters are named `__rcu_derive_*`: an identifier pattern becomes a constant pattern
        // (or an error) when a `const` of that name is in scope, and no span hygiene on stable
        // Rust prevents that, so those names are reserved.
        #[allow(
            non_camel_case_types,
            non_upper_case_globals,
            single_use_lifetimes,
            unused_lifetimes,
            unused_qualifications,
            dyn_drop,
            clippy::used_underscore_binding,
            clippy::needless_lifetimes,
        )]
        const _: () = {
            #(#has_field)*
            #(#pinned)*
            #(#rcu_fields)*
            #rcu_head
            #rcu_links
            #project_methods
            #view_impls
            #rcu_protected
            #unpin
            #drop
        };
    }
}

/// `tokens` with every token (and every group's delimiters) spanned at `span`, so that an error
/// about them points there.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner = proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod listing_tests;
