//! A typed view of the derive input that borrows from the `syn` tree, keeping every span, with
//! each field's kind resolved from its attributes.
//!
//! Reading the input never fails: attribute mistakes are recorded in [`Errors`] and resolved in
//! the obvious way (an extra attribute is ignored, a second `#[rcu_head]` or `#[rcu_links]` is a
//! plain field), so
//! the expansion goes ahead and the user sees one error per mistake. An enum or a union is read
//! too, without fields, so that [`crate::valid`] can reject it and [`crate::fallback`] can still
//! emit its stub from the parsed options.

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote_spanned};
use syn::{
    Attribute, Data, DeriveInput, Fields, Generics, Ident, Index, Member, Path, Token, Type, Visibility,
};

use crate::attr::{self, Container, FieldAttrs, PIN, RCU, RCU_HEAD, RCU_LINKS};
use crate::error::Errors;

/// The item being derived for.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) generics: &'a Generics,
    /// Whether it is a struct; `valid` rejects the others.
    pub(crate) item: Item,
    pub(crate) style: Style,
    /// The struct's fields (none for an enum or a union).
    pub(crate) fields: Vec<Field<'a>>,
    pub(crate) attrs: Container,
}

/// What kind of item the derive was put on.
#[derive(Clone, Copy)]
pub(crate) enum Item {
    Struct,
    /// An enum, with its `enum` keyword for the error.
    Enum(Token![enum]),
    /// A union, with its `union` keyword for the error.
    Union(Token![union]),
}

/// How the struct writes its fields; the projections copy it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `struct S { a: A }`
    Named,
    /// `struct S(A);`
    Tuple,
    /// `struct S;` (and enums and unions, which have no fields here)
    Unit,
}

/// One field of the struct.
pub(crate) struct Field<'a> {
    /// The position among the fields the derive sees (the `N` of `Field<N>`).
    pub(crate) index: usize,
    /// `name` or `0`, as used in `self.name` / `self.0`.
    pub(crate) member: Member,
    pub(crate) vis: &'a Visibility,
    /// The field's type, with `Self` replaced by the struct's type: the type is copied into
    /// generated structs and functions, where `Self` would mean something else or nothing. A
    /// type with a `+` (`dyn A + B`) is put in parentheses, so that it stays one type after `&`.
    pub(crate) ty: Type,
    pub(crate) attrs: FieldAttrs<'a>,
    /// What the field is, resolved from its attributes.
    pub(crate) kind: FieldKind,
}

/// What a field is to the derive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum FieldKind {
    /// No attribute: reachable only by the updater, projected to `&mut F`.
    Plain,
    /// `#[pin]`: structurally pinned, projected to `Pin<&mut F>`.
    Pin,
    /// `#[rcu]`: an `Rcu<P>` readers reach without the lock; projected to `RcuMut`.
    Rcu,
    /// `#[rcu_head]`: the struct's `RcuHead`; projected like a plain field.
    RcuHead,
    /// `#[rcu_links]`: the struct's `RcuLinks`, for an `RcuList`; projected like a plain field.
    RcuLinks,
}

impl<'a> Input<'a> {
    /// Reads the input. Attribute mistakes are recorded in `errors`; an enum or a union is read
    /// without its fields and without reporting its attributes' mistakes, since the one error it
    /// gets is that it is not a struct.
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Self {
        let (item, syn_fields) = match &input.data {
            Data::Struct(data) => (Item::Struct, Some(&data.fields)),
            Data::Enum(data) => (Item::Enum(data.enum_token), None),
            Data::Union(data) => (Item::Union(data.union_token), None),
        };
        let attrs = match syn_fields {
            Some(_) => attr::container(&input.attrs, errors),
            None => attr::container(&input.attrs, &mut Errors::default()),
        };
        let style = match syn_fields {
            Some(Fields::Named(_)) => Style::Named,
            Some(Fields::Unnamed(_)) => Style::Tuple,
            Some(Fields::Unit) | None => Style::Unit,
        };
        let syn_fields: Vec<&syn::Field> = syn_fields.into_iter().flatten().collect();
        // Three passes, so that the errors come in this order: attribute syntax, attributes that
        // contradict each other, a second head or a second set of links (in field order).
        let field_attrs: Vec<FieldAttrs<'a>> =
            syn_fields.iter().map(|field| attr::field(&field.attrs, errors)).collect();
        let claimed: Vec<FieldKind> = field_attrs.iter().map(|attrs| claimed_kind(attrs, errors)).collect();
        let (mut head_seen, mut links_seen, mut other_seen) = (false, false, false);
        let fields = syn_fields
            .into_iter()
            .zip(field_attrs)
            .zip(claimed)
            .enumerate()
            .map(|(index, ((field, attrs), claimed))| {
                let (seen, attr, name, what) = match claimed {
                    FieldKind::RcuHead => {
                        (&mut head_seen, attrs.rcu_head, RCU_HEAD, "`HasRcuHead` names one head")
                    }
                    FieldKind::RcuLinks => {
                        (&mut links_seen, attrs.rcu_links, RCU_LINKS, "`HasRcuLinks` names one set of links")
                    }
                    _ => (&mut other_seen, None, "", ""),
                };
                let kind = match attr {
                    Some(attr) if *seen => {
                        errors.spanned(
                            attr,
                            format!(
                                "a second `#[{name}]` field: {what} per struct, so at most one field \
                                 can be `#[{name}]`"
                            ),
                        );
                        FieldKind::Plain
                    }
                    _ => {
                        *seen = true;
                        claimed
                    }
                };
                Field {
                    index,
                    member: match &field.ident {
                        Some(ident) => Member::Named(ident.clone()),
                        None => Member::Unnamed(Index { index: index as u32, span: Span::call_site() }),
                    },
                    vis: &field.vis,
                    ty: replace_self(&field.ty, &input.ident, &input.generics),
                    attrs,
                    kind,
                }
            })
            .collect();
        Input { ident: &input.ident, vis: &input.vis, generics: &input.generics, item, style, fields, attrs }
    }

    /// The path of the runtime crate in generated code.
    pub(crate) fn krate(&self) -> Path {
        self.attrs.krate.clone().unwrap_or_else(|| syn::parse_quote!(::rcu_runtime))
    }

    /// The name of the pinned mutable projection type.
    pub(crate) fn projection_ident(&self) -> Ident {
        self.attrs.project.clone().unwrap_or_else(|| format_ident!("{}Projection", self.ident))
    }

    /// The name of the pinned shared projection type.
    pub(crate) fn projection_ref_ident(&self) -> Ident {
        self.attrs.project_ref.clone().unwrap_or_else(|| format_ident!("{}ProjectionRef", self.ident))
    }

    /// The name of the reader view type.
    pub(crate) fn view_ident(&self) -> Ident {
        self.attrs.view.clone().unwrap_or_else(|| format_ident!("{}View", self.ident))
    }

    /// The fields of one kind.
    pub(crate) fn fields_of(&self, kind: FieldKind) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(move |field| field.kind == kind)
    }
}

impl Field<'_> {
    /// `Field<N>` for this field, as an unsuffixed literal `N`.
    pub(crate) fn index_literal(&self) -> Literal {
        Literal::usize_unsuffixed(self.index)
    }

    /// Whether the field is structurally pinned.
    pub(crate) fn is_pinned(&self) -> bool {
        matches!(self.kind, FieldKind::Pin | FieldKind::Rcu)
    }

    /// The name of the reader view's method for an `#[rcu]` field: the field's name, or
    /// `field_N` for a tuple struct.
    pub(crate) fn view_method(&self) -> Ident {
        match &self.member {
            Member::Named(ident) => ident.clone(),
            Member::Unnamed(index) => format_ident!("field_{}", index.index),
        }
    }

    /// The field's `#[cfg]` attributes.
    pub(crate) fn cfgs(&self) -> &[&Attribute] {
        &self.attrs.cfgs
    }
}

/// The kind a field's attributes ask for. Attributes that contradict each other are an error,
/// and the field takes the kind of the stronger one: `#[rcu]` over all the others, then
/// `#[rcu_head]`, then `#[rcu_links]`, then `#[pin]`.
fn claimed_kind(attrs: &FieldAttrs<'_>, errors: &mut Errors) -> FieldKind {
    if attrs.rcu.is_some() {
        for (extra, name, not_a) in [
            (attrs.pin, PIN, ""),
            (attrs.rcu_head, RCU_HEAD, "RcuHead"),
            (attrs.rcu_links, RCU_LINKS, "RcuLinks"),
        ] {
            if let Some(extra) = extra {
                let not_a = if not_a.is_empty() {
                    String::new()
                } else {
                    format!(", and an `Rcu` is not an `{not_a}`")
                };
                errors.spanned(
                    extra,
                    format!(
                        "`#[{RCU}]` and `#[{name}]` on one field: `#[{RCU}]` already pins the field \
                         structurally{not_a}; remove `#[{name}]`"
                    ),
                );
            }
        }
        return FieldKind::Rcu;
    }
    let (kind, name, ty) = match (attrs.rcu_head, attrs.rcu_links) {
        (Some(_), links) => {
            if let Some(links) = links {
                errors.spanned(
                    links,
                    format!(
                        "`#[{RCU_HEAD}]` and `#[{RCU_LINKS}]` on one field: the `RcuHead` and the \
                         `RcuLinks` are two fields of their own; remove `#[{RCU_LINKS}]` here and \
                         put it on an `RcuLinks` field"
                    ),
                );
            }
            (FieldKind::RcuHead, RCU_HEAD, "RcuHead")
        }
        (None, Some(_)) => (FieldKind::RcuLinks, RCU_LINKS, "RcuLinks"),
        (None, None) => {
            return if attrs.pin.is_some() { FieldKind::Pin } else { FieldKind::Plain };
        }
    };
    if let Some(pin) = attrs.pin {
        errors.spanned(
            pin,
            format!(
                "`#[{PIN}]` and `#[{name}]` on one field: an `{ty}` needs no structural pinning; \
                 remove `#[{PIN}]`"
            ),
        );
    }
    kind
}

/// `ty` with every `Self` replaced by the struct's type: `Self` becomes `Struct<..>`, and
/// `Self::X` becomes `<Struct<..>>::X`. Each replacement is spanned at the `Self` it replaces.
fn replace_self(ty: &Type, ident: &Ident, generics: &Generics) -> Type {
    let tokens = replace_self_tokens(ty.to_token_stream(), ident, generics);
    // Replacing a type path by a type (or by a qualified path) keeps the type well-formed.
    let ty = syn::parse2(tokens).unwrap_or_else(|_| ty.clone());
    // The type is copied after `&'pin mut` and the like, where a `+` would end it: `dyn A + B`
    // (or the bare `A +` that rustc rejects on its own) needs parentheses to stay one type.
    let has_plus = match &ty {
        Type::TraitObject(object) => object.bounds.len() > 1 || object.bounds.trailing_punct(),
        Type::ImplTrait(impl_trait) => impl_trait.bounds.len() > 1 || impl_trait.bounds.trailing_punct(),
        _ => false,
    };
    if has_plus {
        Type::Paren(syn::TypeParen { paren_token: Default::default(), elem: Box::new(ty) })
    } else {
        ty
    }
}

fn replace_self_tokens(tokens: TokenStream, ident: &Ident, generics: &Generics) -> TokenStream {
    let (_, ty_generics, _) = generics.split_for_impl();
    let mut out = TokenStream::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Ident(this) if this == "Self" => {
                let span = this.span();
                // A clone keeps a raw identifier raw: `Ident::new("r#Node", ..)` would panic.
                let mut name = ident.clone();
                name.set_span(span);
                let followed_by_path =
                    matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if followed_by_path {
                    out.extend(quote_spanned!(span=> <#name #ty_generics>));
                } else {
                    out.extend(quote_spanned!(span=> #name #ty_generics));
                }
            }
            TokenTree::Group(group) => {
                let mut replaced =
                    Group::new(group.delimiter(), replace_self_tokens(group.stream(), ident, generics));
                replaced.set_span(group.span());
                out.extend([TokenTree::Group(replaced)]);
            }
            other => out.extend([other]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    /// Reads `item`: the field kinds and the recorded errors.
    fn read(item: &str) -> (Vec<FieldKind>, Vec<String>) {
        let input: DeriveInput = syn::parse_str(item).unwrap();
        let mut errors = Errors::default();
        let parsed = Input::from_syn(&input, &mut errors);
        (parsed.fields.iter().map(|field| field.kind).collect(), errors.messages())
    }

    #[test]
    fn kinds_of_valid_fields() {
        let (kinds, errors) = read("struct S { #[rcu] a: A, #[pin] b: B, c: C, #[rcu_head] d: RcuHead }");
        assert_eq!(kinds, [FieldKind::Rcu, FieldKind::Pin, FieldKind::Plain, FieldKind::RcuHead]);
        assert!(errors.is_empty());
    }

    #[test]
    fn rcu_with_another_attribute_is_an_error_and_stays_rcu() {
        let (kinds, errors) = read("struct S { #[rcu] #[pin] a: A, #[rcu_head] #[rcu] b: B }");
        assert_eq!(kinds, [FieldKind::Rcu, FieldKind::Rcu]);
        assert_eq!(
            errors,
            [
                "`#[rcu]` and `#[pin]` on one field: `#[rcu]` already pins the field structurally; \
                 remove `#[pin]`",
                "`#[rcu]` and `#[rcu_head]` on one field: `#[rcu]` already pins the field \
                 structurally, and an `Rcu` is not an `RcuHead`; remove `#[rcu_head]`",
            ]
        );
    }

    #[test]
    fn pinned_rcu_head_is_an_error_and_stays_the_head() {
        let (kinds, errors) = read("struct S { #[pin] #[rcu_head] h: RcuHead }");
        assert_eq!(kinds, [FieldKind::RcuHead]);
        assert_eq!(
            errors,
            [
                "`#[pin]` and `#[rcu_head]` on one field: an `RcuHead` needs no structural pinning; remove `#[pin]`"
            ]
        );
    }

    #[test]
    fn second_rcu_head_is_an_error_and_becomes_plain() {
        let (kinds, errors) =
            read("struct S(#[rcu_head] RcuHead, #[rcu_head] RcuHead, #[rcu_head] RcuHead);");
        assert_eq!(kinds, [FieldKind::RcuHead, FieldKind::Plain, FieldKind::Plain]);
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|error| error.starts_with("a second `#[rcu_head]` field")));
    }

    #[test]
    fn rcu_links_is_its_own_kind_and_conflicts_with_the_others() {
        let (kinds, errors) = read("struct S { #[rcu_links] a: RcuLinks, b: u8 }");
        assert_eq!(kinds, [FieldKind::RcuLinks, FieldKind::Plain]);
        assert!(errors.is_empty());
        let (kinds, errors) = read(
            "struct S { #[rcu] #[rcu_links] a: A, #[pin] #[rcu_links] b: B, #[rcu_links] #[rcu_head] c: C }",
        );
        assert_eq!(kinds, [FieldKind::Rcu, FieldKind::RcuLinks, FieldKind::RcuHead]);
        assert_eq!(
            errors,
            [
                "`#[rcu]` and `#[rcu_links]` on one field: `#[rcu]` already pins the field \
                 structurally, and an `Rcu` is not an `RcuLinks`; remove `#[rcu_links]`",
                "`#[pin]` and `#[rcu_links]` on one field: an `RcuLinks` needs no structural pinning; \
                 remove `#[pin]`",
                "`#[rcu_head]` and `#[rcu_links]` on one field: the `RcuHead` and the `RcuLinks` are \
                 two fields of their own; remove `#[rcu_links]` here and put it on an `RcuLinks` field",
            ]
        );
    }

    #[test]
    fn second_rcu_links_is_an_error_and_becomes_plain() {
        let (kinds, errors) =
            read("struct S { #[rcu_links] a: RcuLinks, #[rcu_head] h: RcuHead, #[rcu_links] b: RcuLinks }");
        assert_eq!(kinds, [FieldKind::RcuLinks, FieldKind::RcuHead, FieldKind::Plain]);
        assert_eq!(
            errors,
            ["a second `#[rcu_links]` field: `HasRcuLinks` names one set of links per struct, so at \
              most one field can be `#[rcu_links]`"]
        );
    }

    #[test]
    fn errors_come_by_pass_syntax_then_contradictions_then_heads() {
        let (_, errors) =
            read("struct S { #[rcu_head] a: H, #[rcu_head] #[rcu(x)] b: R, #[pin] #[rcu_head] c: H }");
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("`#[rcu]` takes no arguments"));
        assert!(errors[1].starts_with("`#[rcu]` and `#[rcu_head]` on one field"));
        assert!(errors[2].starts_with("`#[pin]` and `#[rcu_head]` on one field"));
        assert!(errors[3].starts_with("a second `#[rcu_head]` field"));
    }

    fn replaced(item: &str, ty: &str) -> String {
        let input: DeriveInput = syn::parse_str(item).unwrap();
        let ty: Type = syn::parse_str(ty).unwrap();
        let out = replace_self(&ty, &input.ident, &input.generics);
        quote!(#out).to_string()
    }

    #[test]
    fn self_becomes_the_structs_type() {
        assert_eq!(replaced("struct Node;", "Rcu<Box<Self>>"), "Rcu < Box < Node > >");
        assert_eq!(
            replaced("struct Node<'a, T: Clone, const N: usize>;", "Option<&'a Self>"),
            "Option < & 'a Node < 'a , T , N > >"
        );
        assert_eq!(replaced("struct S<T>;", "Vec<Self::Item>"), "Vec < < S < T > > :: Item >");
        assert_eq!(replaced("struct S;", "[u8; Self::LEN]"), "[u8 ; < S > :: LEN]");
        assert_eq!(replaced("struct S;", "fn(Self) -> (Self, MySelf)"), "fn (S) -> (S , MySelf)");
        assert_eq!(replaced("struct S;", "<Self as Tr>::X"), "< S as Tr > :: X");
    }
}
