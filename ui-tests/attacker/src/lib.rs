//! The adversary of the `repr(packed)` UI tests: an attribute macro that adds `#[repr(packed)]` to
//! the struct it is put on.
//!
//! Written after `#[derive(RcuProtected)]`, it runs after the derive has read the struct, so the
//! derive cannot see the attribute: only the compiler-checked field reference that the derive's
//! `HasField` impls take (a reference to a field of a packed struct is error E0793) can reject
//! the packed layout. The macro depends on nothing but `proc_macro`, so
//! it costs the suite almost no build time.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// Prepends `#[repr(packed)]` to the item, leaving the item itself untouched.
///
/// ```ignore
/// #[derive(rcu_runtime::RcuProtected)]
/// #[attacker::add_repr_packed]
/// struct Sneaky { #[rcu] routes: rcu_runtime::Rcu<Box<u64>> }
/// ```
#[proc_macro_attribute]
pub fn add_repr_packed(args: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(unexpected) = args.into_iter().next() {
        return compile_error("`#[add_repr_packed]` takes no arguments", unexpected.span());
    }
    let repr = TokenStream::from_iter([
        TokenTree::Ident(Ident::new("repr", Span::call_site())),
        TokenTree::Group(Group::new(
            Delimiter::Parenthesis,
            TokenTree::Ident(Ident::new("packed", Span::call_site())).into(),
        )),
    ]);
    let mut out = TokenStream::from_iter([
        TokenTree::Punct(Punct::new('#', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Bracket, repr)),
    ]);
    out.extend(item);
    out
}

/// `compile_error!("message")`, spanned at `span`.
fn compile_error(message: &str, span: Span) -> TokenStream {
    let mut literal = proc_macro::Literal::string(message);
    literal.set_span(span);
    TokenStream::from_iter([
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenTree::Literal(literal).into())),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ])
}
