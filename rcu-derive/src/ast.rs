//! A typed view of the derive input that borrows from the `syn` tree, keeping every span.

use proc_macro2::{Group, Literal, Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote_spanned};
use syn::{Attribute, Data, DeriveInput, Fields, Generics, Ident, Index, Member, Path, Type, Visibility};

use crate::attr::{self, Container, Errors, FieldAttrs};

/// The struct being derived for.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) generics: &'a Generics,
    pub(crate) style: Style,
    pub(crate) fields: Vec<Field<'a>>,
    pub(crate) attrs: Container,
}

/// How the struct writes its fields; the projections copy it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `struct S { a: A }`
    Named,
    /// `struct S(A);`
    Tuple,
    /// `struct S;`
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
    /// What the field is, once [`crate::valid`] has resolved the attributes.
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
}

impl<'a> Input<'a> {
    /// Reads the input. Enums and unions are fatal errors; attribute mistakes are recorded in
    /// `errors` and otherwise ignored.
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> syn::Result<Self> {
        let fields = match &input.data {
            Data::Struct(data) => &data.fields,
            Data::Enum(data) => bail!(
                data.enum_token,
                "`#[derive(RcuProtected)]` only supports structs: readers of an `Rcu` field must \
                 find it at a fixed place, which an enum variant does not give; put the enum \
                 inside an `Rcu<Box<..>>` field of a struct instead"
            ),
            Data::Union(data) => bail!(
                data.union_token,
                "`#[derive(RcuProtected)]` only supports structs: the fields of a union overlap, \
                 so they cannot be projected one by one"
            ),
        };
        let attrs = attr::container(&input.attrs, errors);
        let style = match fields {
            Fields::Named(_) => Style::Named,
            Fields::Unnamed(_) => Style::Tuple,
            Fields::Unit => Style::Unit,
        };
        let fields = fields
            .iter()
            .enumerate()
            .map(|(index, field)| Field {
                index,
                member: match &field.ident {
                    Some(ident) => Member::Named(ident.clone()),
                    None => Member::Unnamed(Index { index: index as u32, span: Span::call_site() }),
                },
                vis: &field.vis,
                ty: replace_self(&field.ty, &input.ident, &input.generics),
                attrs: attr::field(&field.attrs, errors),
                kind: FieldKind::Plain,
            })
            .collect();
        Ok(Input { ident: &input.ident, vis: &input.vis, generics: &input.generics, style, fields, attrs })
    }

    /// The path of the runtime crate in generated code.
    pub(crate) fn krate(&self) -> Path {
        krate(&self.attrs)
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

/// The runtime crate's path: `crate = ..` or `::rcu_runtime`.
pub(crate) fn krate(attrs: &Container) -> Path {
    attrs.krate.clone().unwrap_or_else(|| syn::parse_quote!(::rcu_runtime))
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

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
