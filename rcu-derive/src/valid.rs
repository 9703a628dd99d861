//! Checks on the parsed input, and the resolution of each field's attributes into a [`FieldKind`].
//!
//! Mistakes that leave a well-defined expansion (an attribute too many, two `#[rcu_head]`) are
//! recorded in [`Errors`] and resolved in the obvious way, so that the expansion goes ahead and the
//! user sees one error. Mistakes that would make the expansion itself fail to compile (packed
//! layout, clashing type names) are returned as `Err`, and the caller emits the fallback instead.

use std::collections::BTreeMap;

use syn::Ident;
use syn::ext::IdentExt;

use crate::ast::{FieldKind, Input};
use crate::attr::{Errors, PIN, RCU, RCU_HEAD};

/// Checks the input and sets each field's kind.
pub(crate) fn check(input: &mut Input<'_>, errors: &mut Errors) -> syn::Result<()> {
    resolve_field_kinds(input, errors);
    check_single_rcu_head(input, errors);
    check_not_packed(input)?;
    check_names(input)
}

fn resolve_field_kinds(input: &mut Input<'_>, errors: &mut Errors) {
    for field in &mut input.fields {
        let attrs = &field.attrs;
        field.kind = match (attrs.rcu, attrs.pin, attrs.rcu_head) {
            (Some(_), pin, head) => {
                for (extra, name) in [(pin, PIN), (head, RCU_HEAD)] {
                    if let Some(extra) = extra {
                        errors.spanned(
                            extra,
                            format!(
                                "`#[{RCU}]` and `#[{name}]` on one field: `#[{RCU}]` already pins \
                                 the field structurally{}; remove `#[{name}]`",
                                if name == RCU_HEAD { ", and an `Rcu` is not an `RcuHead`" } else { "" }
                            ),
                        );
                    }
                }
                FieldKind::Rcu
            }
            (None, Some(pin), Some(_)) => {
                errors.spanned(
                    pin,
                    format!(
                        "`#[{PIN}]` and `#[{RCU_HEAD}]` on one field: an `RcuHead` needs no \
                         structural pinning; remove `#[{PIN}]`"
                    ),
                );
                FieldKind::RcuHead
            }
            (None, None, Some(_)) => FieldKind::RcuHead,
            (None, Some(_), None) => FieldKind::Pin,
            (None, None, None) => FieldKind::Plain,
        };
    }
}

fn check_single_rcu_head(input: &mut Input<'_>, errors: &mut Errors) {
    let mut seen = false;
    for field in &mut input.fields {
        if field.kind != FieldKind::RcuHead {
            continue;
        }
        if seen {
            let attr = field.attrs.rcu_head.expect("an `RcuHead` field has the attribute");
            errors.spanned(
                attr,
                format!(
                    "a second `#[{RCU_HEAD}]` field: `HasRcuHead` names one head per struct, so at \
                     most one field can be `#[{RCU_HEAD}]`"
                ),
            );
            field.kind = FieldKind::Plain;
        }
        seen = true;
    }
}

fn check_not_packed(input: &Input<'_>) -> syn::Result<()> {
    if let Some(packed) = &input.attrs.repr_packed {
        bail!(
            packed,
            "`#[derive(RcuProtected)]` cannot be used on a `#[repr(packed)]` struct: its fields \
             may be unaligned, and pinned fields must not move, so they could never be projected"
        );
    }
    Ok(())
}

/// Who holds a name that a generated type or a generic parameter might take.
enum Holder {
    /// The struct.
    Struct,
    /// The generated type set by this `rcu_protected` option (or named by default after it).
    Option(&'static str),
}

impl Holder {
    fn describe(&self) -> String {
        match self {
            Holder::Struct => "the struct itself".to_owned(),
            Holder::Option(option) => format!("`{option}`"),
        }
    }
}

/// The three generated types must be distinct from each other and from the struct; the struct's
/// type and const parameters must not take any of those names either, or the generated impls
/// would name the parameter instead. Raw identifiers are compared without their `r#`: `r#View`
/// is `View`. (The expansion declares no other named item, so no other name can clash.)
fn check_names(input: &Input<'_>) -> syn::Result<()> {
    // name -> who holds it, and the identifier the user wrote for it, if any
    let mut names: BTreeMap<String, (Holder, Option<&Ident>)> = BTreeMap::new();
    let ident = input.ident;
    names.insert(ident.unraw().to_string(), (Holder::Struct, Some(ident)));
    let chosen = [
        (input.attrs.project.as_ref(), input.projection_ident(), "project"),
        (input.attrs.project_ref.as_ref(), input.projection_ref_ident(), "project_ref"),
        (input.attrs.view.as_ref(), input.view_ident(), "view"),
    ];
    for (written, name, option) in chosen {
        if let Some((holder, holder_ident)) = names.get(&name.unraw().to_string()) {
            match (written, holder_ident) {
                (Some(written), _) => bail!(
                    written,
                    "the name `{written}` for `{option}` is already taken by {}; each generated \
                     type needs its own name (set them with `#[rcu_protected({option} = Name)]`)",
                    holder.describe()
                ),
                // A default name (`SView`) can only be taken by the struct or by the name chosen
                // for an earlier option: point at that, the only place the user wrote the name.
                (None, holder_ident) => {
                    let at = holder_ident.unwrap_or(ident);
                    bail!(
                        at,
                        "the name `{at}` for {} is the default name of `{option}`; each generated \
                         type needs its own name (set it with `#[rcu_protected({option} = Name)]`)",
                        holder.describe()
                    )
                }
            }
        }
        names.insert(name.unraw().to_string(), (Holder::Option(option), written));
    }
    let params = input.generics.type_params().map(|param| &param.ident);
    let params = params.chain(input.generics.const_params().map(|param| &param.ident));
    for param in params {
        if let Some((holder, _)) = names.get(&param.unraw().to_string()) {
            let holder = match holder {
                Holder::Option(option) => format!("the type generated for `{option}`"),
                Holder::Struct => Holder::Struct.describe(),
            };
            bail!(
                param,
                "the generic parameter `{param}` has the name of {holder}, which the generated \
                 items must name; rename the parameter"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses and checks `item`: the field kinds, the recorded errors, and the fatal error if any.
    fn check_str(item: &str) -> (Vec<FieldKind>, Vec<String>, Option<String>) {
        let input: syn::DeriveInput = syn::parse_str(item).unwrap();
        let mut errors = Errors::default();
        let mut parsed = Input::from_syn(&input, &mut errors).unwrap();
        let fatal = check(&mut parsed, &mut errors).err().map(|error| error.to_string());
        (parsed.fields.iter().map(|field| field.kind).collect(), errors.messages(), fatal)
    }

    #[test]
    fn kinds_of_valid_fields() {
        let (kinds, errors, fatal) =
            check_str("struct S { #[rcu] a: A, #[pin] b: B, c: C, #[rcu_head] d: RcuHead }");
        assert_eq!(kinds, [FieldKind::Rcu, FieldKind::Pin, FieldKind::Plain, FieldKind::RcuHead]);
        assert!(errors.is_empty() && fatal.is_none());
    }

    #[test]
    fn rcu_with_another_attribute_is_an_error_and_stays_rcu() {
        let (kinds, errors, fatal) = check_str("struct S { #[rcu] #[pin] a: A, #[rcu_head] #[rcu] b: B }");
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
        assert!(fatal.is_none());
    }

    #[test]
    fn pinned_rcu_head_is_an_error_and_stays_the_head() {
        let (kinds, errors, _) = check_str("struct S { #[pin] #[rcu_head] h: RcuHead }");
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
        let (kinds, errors, fatal) =
            check_str("struct S(#[rcu_head] RcuHead, #[rcu_head] RcuHead, #[rcu_head] RcuHead);");
        assert_eq!(kinds, [FieldKind::RcuHead, FieldKind::Plain, FieldKind::Plain]);
        assert_eq!(errors.len(), 2);
        assert!(errors.iter().all(|error| error.starts_with("a second `#[rcu_head]` field")));
        assert!(fatal.is_none());
    }

    #[test]
    fn packed_is_fatal() {
        let (_, _, fatal) = check_str("#[repr(C, packed)] struct S { #[rcu] a: A }");
        assert!(
            fatal
                .unwrap()
                .starts_with("`#[derive(RcuProtected)]` cannot be used on a `#[repr(packed)]` struct")
        );
    }

    #[test]
    fn clashing_names_are_fatal() {
        let (_, _, fatal) = check_str("#[rcu_protected(view = SProjection)] struct S;");
        assert_eq!(
            fatal.unwrap(),
            "the name `SProjection` for `view` is already taken by `project`; each generated type \
             needs its own name (set them with `#[rcu_protected(view = Name)]`)"
        );
        let (_, _, fatal) = check_str("#[rcu_protected(project = S)] struct S;");
        assert!(fatal.unwrap().contains("already taken by the struct itself"));
        let (_, _, fatal) = check_str("#[rcu_protected(project = A, project_ref = B, view = C)] struct S;");
        assert!(fatal.is_none());
    }

    #[test]
    fn enums_and_unions_are_fatal_when_read() {
        for (item, start) in [
            ("enum E { A }", "`#[derive(RcuProtected)]` only supports structs: readers"),
            ("union U { a: u8 }", "`#[derive(RcuProtected)]` only supports structs: the fields of a union"),
        ] {
            let input: syn::DeriveInput = syn::parse_str(item).unwrap();
            let error = Input::from_syn(&input, &mut Errors::default()).err().unwrap();
            assert!(error.to_string().starts_with(start), "for {item}: {error}");
        }
    }
}
