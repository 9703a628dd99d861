//! The expansion of small inputs, checked for the items and shapes it must have.

use proc_macro2::TokenStream;

use super::derive;

/// Runs the derive on `item` and checks that the output is well-formed Rust.
fn derive_str(item: &str) -> String {
    let output = derive(item.parse().unwrap());
    syn::parse2::<syn::File>(output.clone()).unwrap_or_else(|error| panic!("{error}: {output}"));
    norm(&output.to_string())
}

/// Without whitespace: how tokens are spaced when printed is not what the tests check.
fn norm(tokens: &str) -> String {
    tokens.split_whitespace().collect()
}

fn has(out: &str, needle: &str) -> bool {
    out.contains(&norm(needle))
}

fn count(out: &str, needle: &str) -> usize {
    out.matches(&norm(needle)).count()
}

const CONFIG: &str = "struct Config {
    #[rcu] routes: Rcu<Box<RouteTable>>,
    reloads: u64,
    #[pin] pinned: Pinned,
    #[rcu_head] head: RcuHead,
    #[rcu_links] links: RcuLinks,
}";

#[test]
fn named_struct_gets_every_impl() {
    let out = derive_str(CONFIG);
    assert!(!has(&out, "compile_error"));
    for n in 0..5 {
        assert_eq!(count(&out, &format!("HasField < :: rcu_runtime :: Field < {n} > > for Config")), 1);
    }
    assert_eq!(count(&out, "HasPinnedField < :: rcu_runtime :: Field < 0 >"), 1);
    assert_eq!(count(&out, "HasPinnedField < :: rcu_runtime :: Field < 2 >"), 1);
    assert_eq!(count(&out, "HasPinnedField <"), 2);
    assert_eq!(count(&out, "RcuField < :: rcu_runtime :: Field < 0 > > for Config"), 1);
    assert_eq!(count(&out, "RcuField <"), 1);
    assert_eq!(count(&out, ":: rcu_runtime :: HasRcuHead for Config"), 1);
    assert_eq!(count(&out, ":: rcu_runtime :: HasRcuLinks for Config"), 1);
    assert_eq!(count(&out, ":: rcu_runtime :: RcuProtected for Config"), 1);
    assert!(has(&out, "struct ConfigProjection < 'pin > where Config : 'pin"));
    assert!(has(&out, "routes : :: rcu_runtime :: RcuMut < 'pin , Rcu < Box < RouteTable > > >"));
    assert!(has(&out, "pinned : :: rcu_runtime :: __private :: Pin < & 'pin mut Pinned >"));
    assert!(has(&out, "reloads : & 'pin mut u64"));
    assert!(has(&out, "struct ConfigProjectionRef < 'pin >"));
    assert!(has(&out, "struct ConfigView < 'view >"));
    assert!(has(&out, "fn routes (& self) -> & 'view Rcu < Box < RouteTable > >"));
    // Only `#[rcu]` fields get a view method.
    assert!(!has(&out, "fn reloads"));
    assert!(has(&out, ":: rcu_runtime :: __private :: UseRcuProtectedPinnedDropInsteadOfDrop for Config"));
    assert!(has(&out, ":: rcu_runtime :: RcuHead :: __field :: < Self , :: rcu_runtime :: Field < 3 > > ()"));
    assert_eq!(
        count(&out, ":: rcu_runtime :: RcuLinks :: __field :: < Self , :: rcu_runtime :: Field < 4 > > ()"),
        2
    );
    // The links project like a plain field.
    assert!(has(&out, "links : & 'pin mut RcuLinks"));
    assert!(has(
        &out,
        "type ReaderFields = (< Self as :: rcu_runtime :: HasField < :: rcu_runtime :: Field < 0 > > > :: Type ,) ;"
    ));
    assert!(has(
        &out,
        "(:: rcu_runtime :: __private :: PhantomData < & 'pin () > , Rcu < Box < RouteTable > > , Pinned ,) : :: rcu_runtime :: __private :: Unpin"
    ));
    // Nothing from `core` by its own path, and no `offset_of!`.
    assert!(!has(&out, ":: core") && !has(&out, ":: std") && !has(&out, "offset_of"));
}

#[test]
fn no_rcu_head_means_no_has_rcu_head() {
    let out = derive_str("struct S { #[rcu] a: Rcu<Box<u8>> }");
    assert!(!has(&out, "HasRcuHead"));
    assert!(!has(&out, "HasRcuLinks"));
}

#[test]
fn rcu_links_in_a_generic_tuple_struct_under_cfg() {
    let out = derive_str("struct N<T: Send>(T, #[cfg(unix)] #[rcu_links] RcuLinks) where T: Sync;");
    assert!(has(
        &out,
        "# [cfg (unix)] # [automatically_derived] unsafe impl < T > :: rcu_runtime :: HasRcuLinks for N < T > where T : Send , T : Sync ,"
    ));
    assert!(has(
        &out,
        ":: rcu_runtime :: RcuLinks :: __field :: < Self , :: rcu_runtime :: Field < 1 > > ()"
    ));
}

#[test]
fn tuple_struct_projects_to_a_tuple_struct_and_names_view_methods_by_position() {
    let out = derive_str("pub struct T(u8, #[rcu] pub Rcu<Box<u8>>);");
    assert!(has(
        &out,
        "pub struct TProjection < 'pin > (# [doc = \" The field `0`, projected.\"] & 'pin mut u8 ,"
    ));
    assert!(has(&out, "pub fn field_1 (& self)"));
    assert!(has(&out, "& raw const (* __rcu_derive_base) . 1"));
    assert!(has(&out, "RcuField < :: rcu_runtime :: Field < 1 > >"));
}

#[test]
fn unit_and_empty_structs_expand() {
    for item in ["struct U;", "struct E {}", "struct T();"] {
        let out = derive_str(item);
        assert!(!has(&out, "compile_error"), "{item}");
        assert!(has(&out, "__pin : :: rcu_runtime :: __private :: PhantomData"), "{item}");
    }
}

#[test]
fn generics_lifetimes_and_where_clauses_are_carried_everywhere() {
    let out = derive_str(
        "struct G<'pin, 'view, T: Clone = u8, const N: usize = 2> where T: Send {
            #[rcu] a: Rcu<Box<[T; N]>>, b: &'pin T, c: &'view T,
        }",
    );
    // The struct already uses `'pin` and `'view`: the expansion picks other names. Bounds
    // move to the `where` clause, before the struct's own predicates.
    assert!(has(
        &out,
        "struct GProjection < '__pin , 'pin , 'view , T , const N : usize > where T : Clone , T : Send , G < 'pin , 'view , T , N > : '__pin ,"
    ));
    assert!(has(
        &out,
        "struct GView < '__view , 'pin , 'view , T , const N : usize > where T : Clone , T : Send , G < 'pin , 'view , T , N > : '__view ,"
    ));
    // Defaults are kept off every generated definition.
    assert!(!has(&out, "= u8"));
    assert!(!has(&out, "= 2"));
    assert!(has(
        &out,
        "impl < 'pin , 'view , T , const N : usize > :: rcu_runtime :: RcuProtected for G < 'pin , 'view , T , N > where T : Clone , T : Send ,"
    ));
}

#[test]
fn options_rename_types_and_move_the_crate() {
    let out = derive_str(
        "#[rcu_protected(project = P, project_ref = R, view = V, crate = ::rt)] struct S { #[rcu] a: A }",
    );
    assert!(
        has(&out, "struct P < 'pin >") && has(&out, "struct R < 'pin >") && has(&out, "struct V < 'view >")
    );
    assert!(!has(&out, "rcu_runtime"));
    assert!(has(&out, ":: rt :: RcuProtected for S"));
}

#[test]
fn pinned_drop_emits_drop_instead_of_forbidding_it() {
    let out = derive_str("#[rcu_protected(PinnedDrop)] struct S { #[rcu] a: A }");
    assert!(has(&out, ":: rcu_runtime :: __private :: Drop for S"));
    assert!(has(&out, "< Self as :: rcu_runtime :: PinnedDrop > :: drop (__rcu_derive_pinned)"));
    assert!(!has(&out, "UseRcuProtectedPinnedDropInsteadOfDrop for S"));
    let out = derive_str("struct S { #[rcu] a: A }");
    assert!(!has(&out, ":: rcu_runtime :: __private :: Drop for S"));
    assert!(has(&out, "UseRcuProtectedPinnedDropInsteadOfDrop for S"));
}

#[test]
fn drop_is_forbidden_only_with_a_pinned_field() {
    for item in ["struct S { #[pin] a: A }", "struct S(#[rcu] A, B);"] {
        assert!(has(&derive_str(item), "UseRcuProtectedPinnedDropInsteadOfDrop for S"), "{item}");
    }
    for item in ["struct S { a: A, #[rcu_head] h: RcuHead }", "struct S;", "struct S(u8);"] {
        let out = derive_str(item);
        assert!(!has(&out, "UseRcuProtectedPinnedDropInsteadOfDrop for S"), "{item}");
        // A stray `impl PinnedDrop` still conflicts.
        assert!(has(&out, ":: rcu_runtime :: PinnedDrop for S"), "{item}");
    }
}

#[test]
fn cfgs_and_visibilities_are_copied() {
    let out = derive_str("pub struct S { #[cfg(unix)] #[rcu] pub(crate) a: A, b: B }");
    assert!(has(&out, "# [cfg (unix)] # [automatically_derived] unsafe impl :: rcu_runtime :: HasField"));
    assert!(has(&out, "# [cfg (unix)] # [doc = \" The field `a`, projected.\"] pub (crate) a :"));
    assert!(has(&out, "pub (crate) fn a (& self)"));
    assert!(has(&out, "pub struct SProjection"));
}

#[test]
fn recoverable_mistakes_still_expand_fully_next_to_the_error() {
    let out = derive_str("#[rcu_protected(veiw = V)] struct S { #[rcu(x)] a: A }");
    assert_eq!(count(&out, "compile_error"), 2);
    assert!(has(&out, "unknown `rcu_protected` option `veiw`"));
    assert!(has(&out, "`#[rcu]` takes no arguments"));
    // The field is still `#[rcu]`, so uses of the view keep compiling.
    assert!(has(&out, "fn a (& self)"));
    assert!(!has(&out, "Unexpanded"));
}

#[test]
fn fatal_mistakes_give_the_error_and_a_stub() {
    for (item, message) in [
        ("enum E { A }", "only supports structs"),
        ("union U { a: u8 }", "only supports structs"),
        ("#[repr(packed)] struct S { a: u8 }", "`#[repr(packed)]` struct"),
        ("#[rcu_protected(view = S)] struct S;", "already taken"),
    ] {
        let out = derive_str(item);
        assert_eq!(count(&out, "compile_error"), 1, "{item}");
        assert!(has(&out, message), "{item}: {out}");
        assert!(has(&out, ":: rcu_runtime :: __private :: Unexpanded"), "{item}");
        assert!(!has(&out, "HasField"), "{item}");
    }
}

#[test]
fn fallback_keeps_the_crate_option_and_generics() {
    let out = derive_str("#[rcu_protected(crate = ::rt)] enum E<'a, T: Copy> where T: Send { A(&'a T) }");
    assert!(has(&out, "unsafe impl < 'a , T : Copy > :: rt :: RcuProtected for E < 'a , T > where T : Send"));
}

/// Deleting any one token of a valid input must give either an expansion or errors, never a
/// panic; a cheap stand-in for fuzzing that runs on every `cargo test`.
#[test]
fn never_panics_on_mangled_input() {
    let inputs = [
        CONFIG,
        "#[rcu_protected(project = P, PinnedDrop, crate = ::rt)] pub struct T<'a, X: Clone>(#[rcu] Rcu<Box<X>>, &'a X) where X: Send;",
    ];
    for input in inputs {
        let tokens: Vec<String> =
            input.parse::<TokenStream>().unwrap().into_iter().flat_map(flatten).collect();
        for skip in 0..tokens.len() {
            let mangled: String = tokens
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != skip)
                .map(|(_, token)| token.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            if let Ok(stream) = mangled.parse::<TokenStream>() {
                let _ = derive(stream);
            }
        }
    }
}

/// Every token of a tree, delimiters as separate strings.
fn flatten(tree: proc_macro2::TokenTree) -> Vec<String> {
    match tree {
        proc_macro2::TokenTree::Group(group) => {
            let (open, close) = match group.delimiter() {
                proc_macro2::Delimiter::Parenthesis => ("(", ")"),
                proc_macro2::Delimiter::Brace => ("{", "}"),
                proc_macro2::Delimiter::Bracket => ("[", "]"),
                proc_macro2::Delimiter::None => ("", ""),
            };
            let mut out = vec![open.to_owned()];
            out.extend(group.stream().into_iter().flat_map(flatten));
            out.push(close.to_owned());
            out
        }
        other => vec![other.to_string()],
    }
}
