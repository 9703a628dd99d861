//! Attribute parsing: `#[rcu_protected(..)]` on the struct, `#[rcu]`, `#[pin]`, `#[rcu_head]`
//! and `#[rcu_links]` on fields, and the `#[repr(packed)]` that structural pinning rules out.
//!
//! Parsing recovers from mistakes: a bad option is reported through [`Errors`] and otherwise
//! ignored, so the expansion can still go ahead and the user sees one error per mistake.

use proc_macro2::TokenTree;
use quote::ToTokens;
use syn::{Attribute, Ident, LitStr, Meta, Path, Token};

use crate::error::Errors;

/// The names of the helper attributes, as the user writes them.
pub(crate) const RCU: &str = "rcu";
pub(crate) const PIN: &str = "pin";
pub(crate) const RCU_HEAD: &str = "rcu_head";
pub(crate) const RCU_LINKS: &str = "rcu_links";
pub(crate) const RCU_PROTECTED: &str = "rcu_protected";

/// The options of `#[rcu_protected(..)]`, plus what the struct's other attributes tell us.
#[derive(Default)]
pub(crate) struct Container {
    /// `project = Name`: the pinned mutable projection type.
    pub(crate) project: Option<Ident>,
    /// `project_ref = Name`: the pinned shared projection type.
    pub(crate) project_ref: Option<Ident>,
    /// `view = Name`: the reader view type.
    pub(crate) view: Option<Ident>,
    /// `PinnedDrop`: the user implements `rcu_runtime::PinnedDrop`, the derive emits `Drop`.
    pub(crate) pinned_drop: Option<Ident>,
    /// `crate = path`: where `rcu_runtime` is (default `::rcu_runtime`).
    pub(crate) krate: Option<Path>,
    /// The `packed` token of a `#[repr(packed)]` or `#[repr(packed(N))]`, if any.
    pub(crate) repr_packed: Option<Ident>,
}

/// Parses the struct's attributes. Field helper attributes put on the struct are reported.
pub(crate) fn container(attrs: &[Attribute], errors: &mut Errors) -> Container {
    let mut container = Container::default();
    for attr in attrs {
        let path = attr.path();
        if path.is_ident(RCU_PROTECTED) {
            if let Err(error) = parse_rcu_protected(attr, &mut container) {
                errors.push(error);
            }
        } else if path.is_ident("repr") {
            if let Some(packed) = find_packed(attr) {
                container.repr_packed.get_or_insert(packed);
            }
        } else if let Some(name) =
            [RCU, PIN, RCU_HEAD, RCU_LINKS].into_iter().find(|name| path.is_ident(name))
        {
            errors.spanned(attr, format!("`#[{name}]` goes on a field, not on the struct"));
        }
    }
    container
}

fn parse_rcu_protected(attr: &Attribute, container: &mut Container) -> syn::Result<()> {
    if let Meta::Path(_) = attr.meta {
        bail!(
            attr,
            "`#[rcu_protected]` needs options, as in `#[rcu_protected(view = ConfigView)]`; \
             without options, leave it out"
        );
    }
    attr.parse_nested_meta(|meta| {
        let name = meta.path.to_token_stream().to_string().replace(' ', "");
        let slot = match name.as_str() {
            "project" => Some(&mut container.project),
            "project_ref" => Some(&mut container.project_ref),
            "view" => Some(&mut container.view),
            _ => None,
        };
        if let Some(slot) = slot {
            let value = meta.value()?;
            let ident: Ident = value.parse().map_err(|error| {
                syn::Error::new(error.span(), format!("expected a type name, as in `{name} = MyType`"))
            })?;
            if slot.is_some() {
                return Err(meta.error(format!("duplicate `rcu_protected` option `{name}`")));
            }
            *slot = Some(ident);
            Ok(())
        } else if name == "PinnedDrop" {
            if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                return Err(meta.error("`PinnedDrop` takes no value"));
            }
            if container.pinned_drop.is_some() {
                return Err(meta.error("duplicate `rcu_protected` option `PinnedDrop`"));
            }
            container.pinned_drop = meta.path.get_ident().cloned();
            Ok(())
        } else if name == "crate" {
            let value = meta.value()?;
            // `crate = some::path`, or serde's `crate = "some::path"`.
            let path = if value.peek(LitStr) {
                value.parse::<LitStr>()?.parse::<Path>()?
            } else {
                value.call(Path::parse_mod_style)?
            };
            if container.krate.is_some() {
                return Err(meta.error("duplicate `rcu_protected` option `crate`"));
            }
            container.krate = Some(path);
            Ok(())
        } else {
            Err(meta.error(format!(
                "unknown `rcu_protected` option `{name}`; expected `project = Name`, \
                 `project_ref = Name`, `view = Name`, `PinnedDrop` or `crate = path`"
            )))
        }
    })
}

/// Finds `packed` among the arguments of a `#[repr(..)]`.
fn find_packed(attr: &Attribute) -> Option<Ident> {
    let Meta::List(list) = &attr.meta else { return None };
    list.tokens.clone().into_iter().find_map(|token| match token {
        TokenTree::Ident(ident) if ident == "packed" => Some(ident),
        _ => None,
    })
}

/// The helper attributes of one field, each kept so errors can point at it.
#[derive(Default)]
pub(crate) struct FieldAttrs<'a> {
    pub(crate) rcu: Option<&'a Attribute>,
    pub(crate) pin: Option<&'a Attribute>,
    pub(crate) rcu_head: Option<&'a Attribute>,
    pub(crate) rcu_links: Option<&'a Attribute>,
    /// The field's `#[cfg(..)]` attributes, copied onto everything emitted for the field.
    pub(crate) cfgs: Vec<&'a Attribute>,
    /// The field's doc comments, copied onto its projections.
    pub(crate) docs: Vec<&'a Attribute>,
}

/// Parses the attributes of one field.
pub(crate) fn field<'a>(attrs: &'a [Attribute], errors: &mut Errors) -> FieldAttrs<'a> {
    let mut parsed = FieldAttrs::default();
    for attr in attrs {
        let path = attr.path();
        let (name, slot) = if path.is_ident(RCU) {
            (RCU, &mut parsed.rcu)
        } else if path.is_ident(PIN) {
            (PIN, &mut parsed.pin)
        } else if path.is_ident(RCU_HEAD) {
            (RCU_HEAD, &mut parsed.rcu_head)
        } else if path.is_ident(RCU_LINKS) {
            (RCU_LINKS, &mut parsed.rcu_links)
        } else if path.is_ident("cfg") {
            parsed.cfgs.push(attr);
            continue;
        } else if path.is_ident("doc") {
            parsed.docs.push(attr);
            continue;
        } else if path.is_ident(RCU_PROTECTED) {
            errors.spanned(attr, "`#[rcu_protected(..)]` goes on the struct, not on a field");
            continue;
        } else {
            continue;
        };
        match &attr.meta {
            Meta::Path(_) => {}
            Meta::List(list) => errors.push(syn::Error::new(
                list.delimiter.span().join(),
                format!("`#[{name}]` takes no arguments"),
            )),
            Meta::NameValue(nv) => errors.spanned(&nv.value, format!("`#[{name}]` takes no value")),
        }
        if slot.is_some() {
            errors.spanned(attr, format!("duplicate `#[{name}]` on one field"));
        } else {
            *slot = Some(attr);
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container_of(item: &str) -> (Container, Vec<String>) {
        let input: syn::DeriveInput = syn::parse_str(item).unwrap();
        let mut errors = Errors::default();
        let container = container(&input.attrs, &mut errors);
        (container, errors.messages())
    }

    fn field_of(field_attrs: &str) -> Vec<String> {
        let input: syn::DeriveInput = syn::parse_str(&format!("struct S {{ {field_attrs} a: A }}")).unwrap();
        let syn::Data::Struct(data) = &input.data else { unreachable!("a struct") };
        let mut errors = Errors::default();
        field(&data.fields.iter().next().unwrap().attrs, &mut errors);
        errors.messages()
    }

    #[test]
    fn all_container_options() {
        let (c, errors) = container_of(
            "#[rcu_protected(project = P, project_ref = R, view = V, PinnedDrop, crate = ::my::rt)] struct S;",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.project.unwrap(), "P");
        assert_eq!(c.project_ref.unwrap(), "R");
        assert_eq!(c.view.unwrap(), "V");
        assert_eq!(c.pinned_drop.unwrap(), "PinnedDrop");
        assert_eq!(c.krate.unwrap().to_token_stream().to_string(), ":: my :: rt");
    }

    #[test]
    fn options_may_be_split_over_attributes_and_crate_may_be_a_string() {
        let (c, errors) =
            container_of(r#"#[rcu_protected(view = V)] #[rcu_protected(crate = "other")] struct S;"#);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(c.view.unwrap(), "V");
        assert_eq!(c.krate.unwrap().to_token_stream().to_string(), "other");
    }

    #[test]
    fn unknown_option_is_named_with_the_valid_ones() {
        let (c, errors) = container_of("#[rcu_protected(veiw = V)] struct S;");
        assert_eq!(
            errors,
            ["unknown `rcu_protected` option `veiw`; expected `project = Name`, `project_ref = Name`, \
              `view = Name`, `PinnedDrop` or `crate = path`"]
        );
        assert!(c.view.is_none());
    }

    #[test]
    fn option_mistakes() {
        let cases = [
            ("#[rcu_protected(view = A, view = B)] struct S;", "duplicate `rcu_protected` option `view`"),
            (
                "#[rcu_protected(PinnedDrop, PinnedDrop)] struct S;",
                "duplicate `rcu_protected` option `PinnedDrop`",
            ),
            ("#[rcu_protected(PinnedDrop = yes)] struct S;", "`PinnedDrop` takes no value"),
            ("#[rcu_protected(view = 5)] struct S;", "expected a type name, as in `view = MyType`"),
            (
                "#[rcu_protected] struct S;",
                "`#[rcu_protected]` needs options, as in `#[rcu_protected(view = ConfigView)]`; without \
                 options, leave it out",
            ),
            ("#[rcu] struct S;", "`#[rcu]` goes on a field, not on the struct"),
            ("#[rcu_head] struct S;", "`#[rcu_head]` goes on a field, not on the struct"),
            ("#[rcu_links] struct S;", "`#[rcu_links]` goes on a field, not on the struct"),
        ];
        for (item, expected) in cases {
            let (_, errors) = container_of(item);
            assert_eq!(errors, [expected], "for {item}");
        }
    }

    #[test]
    fn first_value_wins_after_a_duplicate() {
        let (c, _) = container_of("#[rcu_protected(view = A, view = B)] struct S;");
        assert_eq!(c.view.unwrap(), "A");
    }

    #[test]
    fn repr_packed_is_found_in_any_form() {
        for item in
            ["#[repr(packed)] struct S;", "#[repr(C, packed(2))] struct S;", "#[repr(packed, C)] struct S;"]
        {
            let (c, errors) = container_of(item);
            assert!(errors.is_empty());
            assert_eq!(c.repr_packed.unwrap(), "packed", "for {item}");
        }
        for item in ["#[repr(C)] struct S;", "#[repr(align(8))] struct S;", "struct S;"] {
            assert!(container_of(item).0.repr_packed.is_none(), "for {item}");
        }
    }

    #[test]
    fn field_attributes_take_no_arguments() {
        assert_eq!(field_of("#[rcu(fast)]"), ["`#[rcu]` takes no arguments"]);
        assert_eq!(field_of("#[pin = true]"), ["`#[pin]` takes no value"]);
        assert_eq!(field_of("#[rcu_head()]"), ["`#[rcu_head]` takes no arguments"]);
        assert_eq!(field_of("#[rcu_links(x)]"), ["`#[rcu_links]` takes no arguments"]);
    }

    #[test]
    fn field_attribute_mistakes() {
        assert_eq!(field_of("#[rcu] #[rcu]"), ["duplicate `#[rcu]` on one field"]);
        assert_eq!(field_of("#[rcu_links] #[rcu_links]"), ["duplicate `#[rcu_links]` on one field"]);
        assert_eq!(
            field_of("#[rcu_protected(view = V)]"),
            ["`#[rcu_protected(..)]` goes on the struct, not on a field"]
        );
        assert!(
            field_of("#[rcu] #[pin] #[rcu_head] #[rcu_links] #[cfg(all())] #[doc = \"x\"] #[other]")
                .is_empty()
        );
    }

    #[test]
    fn field_keeps_cfgs_and_docs() {
        let input: syn::DeriveInput =
            syn::parse_str("struct S { /// doc\n #[cfg(unix)] #[rcu] a: A }").unwrap();
        let syn::Data::Struct(data) = &input.data else { unreachable!("a struct") };
        let mut errors = Errors::default();
        let attrs = field(&data.fields.iter().next().unwrap().attrs, &mut errors);
        assert!(attrs.rcu.is_some() && attrs.pin.is_none() && attrs.rcu_head.is_none());
        assert!(attrs.rcu_links.is_none());
        assert_eq!(attrs.cfgs.len(), 1);
        assert_eq!(attrs.docs.len(), 1);
    }
}
