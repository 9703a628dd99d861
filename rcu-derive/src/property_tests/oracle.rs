//! The oracle's rules that are not about writing: the field kinds, and the fatal error.

use super::*;

/// The oracle's reading of the helpers into kinds, with the errors of `ast.rs`: `#[rcu]` wins
/// over every other helper, then `#[rcu_head]`, then `#[rcu_links]`, then `#[pin]`; each loser
/// is an error at its attribute (the `#[pin]` one after the `#[rcu_head]`/`#[rcu_links]` one
/// only when `#[rcu]` is there). Then a second head or a second set of links, in field order.
pub(super) fn resolve_kinds(g: &mut Gen<'_>, fields: &[GenField]) -> Vec<Kind> {
    let mut kinds = Vec::new();
    for field in fields {
        let h = &field.helpers;
        let kind = if h.rcu.is_some() {
            for (extra, rule, message) in [
                (h.pin, "rcu with pin", "`#[rcu]` and `#[pin]` on one field"),
                (h.rcu_head, "rcu with rcu_head", "`#[rcu]` and `#[rcu_head]` on one field"),
                (h.rcu_links, "rcu with rcu_links", "`#[rcu]` and `#[rcu_links]` on one field"),
            ] {
                if let Some(extra) = extra {
                    g.error(rule, message, extra);
                }
            }
            Kind::Rcu
        } else {
            let (kind, pin_message) = match (h.rcu_head, h.rcu_links) {
                (Some(_), links) => {
                    if let Some(links) = links {
                        let message = "`#[rcu_head]` and `#[rcu_links]` on one field";
                        g.error("rcu_head with rcu_links", message, links);
                    }
                    (Kind::RcuHead, "`#[pin]` and `#[rcu_head]` on one field")
                }
                (None, Some(_)) => (Kind::RcuLinks, "`#[pin]` and `#[rcu_links]` on one field"),
                (None, None) => (if h.pin.is_some() { Kind::Pin } else { Kind::Plain }, ""),
            };
            if let (Some(pin), Kind::RcuHead | Kind::RcuLinks) = (h.pin, kind) {
                g.error("pin with rcu_head or rcu_links", pin_message, pin);
            }
            kind
        };
        kinds.push(kind);
    }
    let (mut head_seen, mut links_seen) = (false, false);
    for (field, kind) in fields.iter().zip(&mut kinds) {
        let (seen, attr, rule, message) = match *kind {
            Kind::RcuHead => {
                (&mut head_seen, field.helpers.rcu_head, "second rcu_head", "a second `#[rcu_head]` field")
            }
            Kind::RcuLinks => (
                &mut links_seen,
                field.helpers.rcu_links,
                "second rcu_links",
                "a second `#[rcu_links]` field",
            ),
            _ => continue,
        };
        if *seen {
            g.error(rule, message, attr.expect("a head or links field has the attribute"));
            *kind = Kind::Plain;
        }
        *seen = true;
    }
    kinds
}

/// A name the oracle has seen taken.
pub(super) struct Taken {
    /// Without `r#`.
    pub(super) name: String,
    /// Who holds it, as the derive's messages say.
    pub(super) holder: String,
    /// The name as the user wrote it, and where; `None` for names the user never wrote.
    pub(super) written: Option<(String, Loc)>,
}

/// The error that stops the expansion: packed, or a name taken twice.
pub(super) fn fatal_error(
    options: &Options,
    written: &str,
    ident_loc: Loc,
    params: &[Param],
) -> Option<Expected> {
    let error = |rule, message: String, loc: Loc| {
        Some(Expected { rule, message, start: loc.start, end: Some(loc.end) })
    };
    if let Some(packed) = options.packed {
        let message = "`#[derive(RcuProtected)]` cannot be used on a `#[repr(packed)]` struct".to_owned();
        return error("repr(packed)", message, packed);
    }
    let ident = unraw(written);
    // The expansion declares no named item of its own (names like `__RcuPinnedFields`, which it
    // once hid in `const _`, are as good as any): only the struct and the generated types count.
    let mut taken: Vec<Taken> = Vec::new();
    let holder = "the struct itself".to_owned();
    taken.push(Taken { name: ident.to_owned(), holder, written: Some((written.to_owned(), ident_loc)) });
    let chosen = [
        ("project", &options.project, "Projection"),
        ("project_ref", &options.project_ref, "ProjectionRef"),
        ("view", &options.view, "View"),
    ];
    for (option, value, suffix) in chosen {
        let name = generated_name(value, ident, suffix);
        if let Some(Taken { holder: who, written: holder, .. }) =
            taken.iter().find(|taken| taken.name == name)
        {
            return match value {
                Some((value, loc)) => error(
                    "generated names clash",
                    format!("the name `{value}` for `{option}` is already taken by {who}"),
                    *loc,
                ),
                None => {
                    let (holder, loc) =
                        holder.as_ref().expect("a default name clashes only with a chosen one");
                    error(
                        "default name taken by an option",
                        format!("the name `{holder}` for {who} is the default name of `{option}`"),
                        *loc,
                    )
                }
            };
        }
        taken.push(Taken { name, holder: format!("`{option}`"), written: value.clone() });
    }
    for param in params.iter().filter(|param| !param.lifetime) {
        if taken.iter().any(|taken| taken.name == unraw(&param.name)) {
            let message = format!("the generic parameter `{}` has the name of ", param.name);
            return error("generic parameter named like a generated type", message, param.loc);
        }
    }
    None
}
