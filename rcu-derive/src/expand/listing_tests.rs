//! `tests/expanded.rs` documents the expansion of one struct and says it is the real one: hold it
//! to that.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use super::derive;

const LISTING: &str = include_str!("../../tests/expanded.rs");

const INPUT: &str = "struct Config {
    #[rcu]
    routes: Rcu<Box<RouteTable>>,
    reloads: u64,
    #[rcu_head]
    head: RcuHead,
    #[rcu_links]
    links: RcuLinks,
}";

/// The tokens as strings, without doc attributes and without the trailing commas that
/// formatting adds or removes.
fn canonical(stream: TokenStream) -> Vec<String> {
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        match &trees[i] {
            TokenTree::Punct(punct) if punct.as_char() == '#' => {
                if let Some(TokenTree::Group(group)) = trees.get(i + 1) {
                    let is_doc = group.delimiter() == Delimiter::Bracket
                        && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(ident)) if ident == "doc");
                    if is_doc && !group.stream().to_string().starts_with("doc (") {
                        i += 2;
                        continue;
                    }
                }
                out.push("#".to_owned());
            }
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                let next_closes = match trees.get(i + 1) {
                    None => true,
                    Some(TokenTree::Punct(next)) => next.as_char() == ';',
                    Some(TokenTree::Group(next)) => next.delimiter() == Delimiter::Brace,
                    _ => false,
                };
                if !next_closes {
                    out.push(",".to_owned());
                }
            }
            TokenTree::Group(group) => {
                out.push(format!("{:?}(", group.delimiter()));
                out.extend(canonical(group.stream()));
                out.push(")".to_owned());
            }
            other => out.push(other.to_string()),
        }
        i += 1;
    }
    out
}

#[test]
fn expanded_listing_is_the_real_expansion() {
    let begin = LISTING.find("// BEGIN EXPANSION").expect("begin marker");
    let end = LISTING.find("// END EXPANSION").expect("end marker");
    let listing: TokenStream = LISTING[begin..end].parse().expect("the listing lexes");
    let derived = derive(INPUT.parse().unwrap());
    let (listing, derived) = (canonical(listing), canonical(derived));
    if listing != derived {
        let at = listing
            .iter()
            .zip(&derived)
            .position(|(a, b)| a != b)
            .unwrap_or(listing.len().min(derived.len()));
        let from = at.saturating_sub(12);
        panic!(
            "the listing differs from the derive at token {at}:\n listing: {}\n derived: {}",
            listing[from..(at + 12).min(listing.len())].join(" "),
            derived[from..(at + 12).min(derived.len())].join(" "),
        );
    }
}
