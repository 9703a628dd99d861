//! Errors: the [`Errors`] a run of the derive collects, and [`bail!`] for the fatal ones.
//!
//! A mistake that leaves a well-defined expansion is recorded in [`Errors`] and the expansion
//! goes ahead; a mistake that would make the expansion itself fail to compile is returned as a
//! `syn::Error` (usually through [`bail!`]), and the caller emits the fallback instead. Either
//! way every error becomes one spanned `compile_error!`.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

/// Returns early with a [`syn::Error`] spanned at the given tokens.
macro_rules! bail {
    ($tokens:expr, $($fmt:tt)+) => {
        return ::core::result::Result::Err(::syn::Error::new_spanned($tokens, ::std::format!($($fmt)+)))
    };
}

/// The errors found so far; they are all reported, and the expansion still runs when none is fatal.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Option<syn::Error>,
}

impl Errors {
    /// Records one more error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// Records an error spanned at `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// The messages recorded so far, in order.
    #[cfg(test)]
    pub(crate) fn messages(&self) -> Vec<String> {
        self.errors.iter().flat_map(|errors| errors.clone()).map(|error| error.to_string()).collect()
    }

    /// One `compile_error! { "message" }` per recorded error, spanned over the tokens it is
    /// about.
    ///
    /// Written as a bare `compile_error!` rather than `syn`'s `::core::compile_error!`: a crate
    /// with `extern crate self as core;` would turn the latter into a resolution error that
    /// hides the message.
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        let Some(errors) = &self.errors else { return TokenStream::new() };
        errors
            .clone()
            .into_iter()
            .flat_map(|error| {
                // `syn::Error::span` is the start on stable; `to_compile_error` knows the end
                // too: reuse its spans and replace only the path.
                let tokens: Vec<TokenTree> = error.to_compile_error().into_iter().collect();
                let (start, end) = match (tokens.first(), tokens.last()) {
                    (Some(first), Some(last)) => (first.span(), last.span()),
                    _ => (error.span(), error.span()),
                };
                let message = proc_macro2::Literal::string(&error.to_string());
                let mut ident = quote::quote_spanned!(start=> compile_error!);
                let mut body = proc_macro2::Group::new(
                    proc_macro2::Delimiter::Brace,
                    TokenStream::from(TokenTree::Literal(message)),
                );
                body.set_span(end);
                ident.extend([TokenTree::Group(body)]);
                ident
            })
            .collect()
    }
}

impl From<syn::Error> for Errors {
    fn from(error: syn::Error) -> Self {
        Errors { errors: Some(error) }
    }
}
