//! Checks on the parsed input that make the expansion impossible: not a struct, a packed
//! layout, clashing type names. They only read the [`Input`]; the caller emits the fallback
//! instead of the expansion when one fails. (Mistakes that leave a well-defined expansion were
//! recorded while the input was read, in [`crate::ast`].)

use std::collections::BTreeMap;

use syn::Ident;
use syn::ext::IdentExt;

use crate::ast::{Input, Item};

/// Checks that the input can be expanded.
pub(crate) fn check(input: &Input<'_>) -> syn::Result<()> {
    check_struct(input)?;
    check_not_packed(input)?;
    check_names(input)
}

fn check_struct(input: &Input<'_>) -> syn::Result<()> {
    match input.item {
        Item::Struct => Ok(()),
        Item::Enum(token) => bail!(
            token,
            "`#[derive(RcuProtected)]` only supports structs: readers of an `Rcu` field must \
             find it at a fixed place, which an enum variant does not give; put the enum \
             inside an `Rcu<Box<..>>` field of a struct instead"
        ),
        Item::Union(token) => bail!(
            token,
            "`#[derive(RcuProtected)]` only supports structs: the fields of a union overlap, \
             so they cannot be projected one by one"
        ),
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
    use crate::error::Errors;

    /// Reads and checks `item`: the fatal error if any.
    fn check_str(item: &str) -> Option<String> {
        let input: syn::DeriveInput = syn::parse_str(item).unwrap();
        let parsed = Input::from_syn(&input, &mut Errors::default());
        check(&parsed).err().map(|error| error.to_string())
    }

    #[test]
    fn packed_is_fatal() {
        let fatal = check_str("#[repr(C, packed)] struct S { #[rcu] a: A }");
        assert!(
            fatal
                .unwrap()
                .starts_with("`#[derive(RcuProtected)]` cannot be used on a `#[repr(packed)]` struct")
        );
    }

    #[test]
    fn clashing_names_are_fatal() {
        let fatal = check_str("#[rcu_protected(view = SProjection)] struct S;");
        assert_eq!(
            fatal.unwrap(),
            "the name `SProjection` for `view` is already taken by `project`; each generated type \
             needs its own name (set them with `#[rcu_protected(view = Name)]`)"
        );
        let fatal = check_str("#[rcu_protected(project = S)] struct S;");
        assert!(fatal.unwrap().contains("already taken by the struct itself"));
        assert!(check_str("#[rcu_protected(project = A, project_ref = B, view = C)] struct S;").is_none());
    }

    #[test]
    fn enums_and_unions_are_fatal() {
        for (item, start) in [
            ("enum E { A }", "`#[derive(RcuProtected)]` only supports structs: readers"),
            ("union U { a: u8 }", "`#[derive(RcuProtected)]` only supports structs: the fields of a union"),
        ] {
            let error = check_str(item).unwrap();
            assert!(error.starts_with(start), "for {item}: {error}");
        }
    }

    #[test]
    fn enum_attribute_mistakes_are_not_reported() {
        let input: syn::DeriveInput = syn::parse_str("#[rcu_protected(veiw = V)] enum E { A }").unwrap();
        let mut errors = Errors::default();
        let parsed = Input::from_syn(&input, &mut errors);
        assert!(errors.messages().is_empty());
        assert!(check(&parsed).is_err());
    }
}
