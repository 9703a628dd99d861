//! The struct's generics, adapted for the generated items: without defaults, with every bound
//! in the `where` clause, and lifetimes of the expansion's own that the struct does not use.

use proc_macro2::Span;
use syn::{GenericParam, Generics, Lifetime, WherePredicate};

/// A copy of `generics` without default values, for use in new definitions and impls.
pub(crate) fn without_defaults(generics: &Generics) -> Generics {
    let mut generics = generics.clone();
    for param in &mut generics.params {
        match param {
            GenericParam::Type(param) => {
                param.eq_token = None;
                param.default = None;
            }
            GenericParam::Const(param) => {
                param.eq_token = None;
                param.default = None;
            }
            GenericParam::Lifetime(_) => {}
        }
    }
    generics
}

/// `generics` without defaults, with every bound on a parameter moved to the `where` clause.
pub(super) fn normalized(generics: &Generics) -> Generics {
    let mut generics = without_defaults(generics);
    let mut moved: Vec<WherePredicate> = Vec::new();
    for param in &mut generics.params {
        match param {
            GenericParam::Type(param) if !param.bounds.is_empty() => {
                let (ident, bounds) = (&param.ident, &param.bounds);
                moved.push(syn::parse_quote!(#ident: #bounds));
                param.colon_token = None;
                param.bounds.clear();
            }
            GenericParam::Lifetime(param) if !param.bounds.is_empty() => {
                let (lifetime, bounds) = (&param.lifetime, &param.bounds);
                moved.push(syn::parse_quote!(#lifetime: #bounds));
                param.colon_token = None;
                param.bounds.clear();
            }
            _ => {}
        }
    }
    if !moved.is_empty() {
        let clause = generics.make_where_clause();
        let own = std::mem::take(&mut clause.predicates);
        clause.predicates.extend(moved);
        clause.predicates.extend(own);
    }
    generics
}

/// `'base`, or `'__base`, `'___base`, .. : the first that `generics` does not declare.
pub(crate) fn fresh_lifetime(generics: &Generics, base: &str) -> Lifetime {
    let taken: Vec<String> = generics.lifetimes().map(|param| param.lifetime.ident.to_string()).collect();
    let mut name = base.to_owned();
    while taken.contains(&name) {
        name = format!("_{name}");
        if !name.starts_with("__") {
            name = format!("_{name}");
        }
    }
    Lifetime::new(&format!("'{name}"), Span::call_site())
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn lifetime_for(generics: &str, base: &str) -> String {
        let generics: Generics = syn::parse_str(generics).unwrap();
        fresh_lifetime(&generics, base).to_string()
    }

    #[test]
    fn fresh_lifetimes_avoid_the_structs_own() {
        assert_eq!(lifetime_for("<'a, T>", "pin"), "'pin");
        assert_eq!(lifetime_for("<'pin, T>", "pin"), "'__pin");
        assert_eq!(lifetime_for("<'pin, '__pin>", "pin"), "'___pin");
    }

    #[test]
    fn defaults_are_dropped() {
        let generics: Generics = syn::parse_str("<T: Clone = u8, const N: usize = 3>").unwrap();
        let stripped = without_defaults(&generics);
        let (impl_generics, _, _) = stripped.split_for_impl();
        assert_eq!(quote!(#impl_generics).to_string(), quote!(<T: Clone, const N: usize>).to_string());
    }
}
