//! The properties, each a `#[test]`.

use super::*;

/// Generated inputs get exactly the verdict the oracle gives them.
#[test]
fn generated_structs_get_the_oracles_verdict() {
    let mut tally = [0usize; 3];
    for seed in seeds() {
        let case = generate(seed);
        tally[match (&case.model, case.errors.is_empty()) {
            (Some(_), true) => 0,
            (Some(_), false) => 1,
            (None, _) => 2,
        }] += 1;
        if let Err(error) = check_case(&case) {
            panic!("{error}\n\n{}", case.describe());
        }
    }
    // The generator must keep covering each verdict (a few cases always run, even with
    // `RCU_DERIVE_FUZZ_CASES=1`, so only check the mix on real runs).
    if tally.iter().sum::<usize>() >= 300 {
        assert!(
            tally.iter().all(|&n| n * 10 >= tally.iter().sum::<usize>()),
            "valid, recoverable, fatal: {tally:?}"
        );
    }
}

/// One token of a flattened stream, with whether it is glued to the next (`'a`, `::`).
fn flatten(tree: TokenTree, out: &mut Vec<(String, bool)>) {
    match tree {
        TokenTree::Group(group) => {
            let (open, close) = match group.delimiter() {
                Delimiter::Parenthesis => ("(", ")"),
                Delimiter::Brace => ("{", "}"),
                Delimiter::Bracket => ("[", "]"),
                Delimiter::None => ("", ""),
            };
            out.push((open.to_owned(), false));
            for tree in group.stream() {
                flatten(tree, out);
            }
            out.push((close.to_owned(), false));
        }
        TokenTree::Punct(punct) => out.push((punct.as_char().to_string(), punct.spacing() == Spacing::Joint)),
        other => out.push((other.to_string(), false)),
    }
}

/// Random deletions, insertions, duplications and swaps of tokens in valid inputs: the derive
/// never panics, its output always parses, and no error means the input really was a struct.
#[test]
fn mutated_tokens_never_panic_and_errors_mean_invalid_input() {
    const INSERTS: &[&str] = &[
        ",",
        ";",
        "#",
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "<",
        ">",
        "::",
        "=",
        ":",
        "+",
        "?",
        "rcu",
        "pin",
        "rcu_head",
        "rcu_links",
        "rcu_protected",
        "Self",
        "r#type",
        "'a",
        "1",
        "\"s\"",
        "enum",
        "union",
        "pub",
        "where",
        "struct",
        "packed",
        "repr",
        "PinnedDrop",
        "crate",
        "view",
        "_",
        "dyn",
        "const",
        "fn",
    ];
    let mut run = 0;
    for seed in seeds() {
        let case = generate(seed);
        if !case.errors.is_empty() {
            continue;
        }
        let mut tokens = Vec::new();
        for tree in case.source.parse::<TokenStream>().expect("generated sources lex") {
            flatten(tree, &mut tokens);
        }
        let mut rng = Rng::new(seed ^ 0x6d75_7461_7465);
        for _ in 0..4 {
            let mut mutated = tokens.clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(mutated.len());
                match rng.below(4) {
                    0 => {
                        mutated.remove(at);
                    }
                    1 => mutated.insert(at, ((rng.pick(INSERTS)).to_owned(), false)),
                    2 => {
                        let token = mutated[at].clone();
                        mutated.insert(at, token);
                    }
                    _ if at + 1 < mutated.len() => mutated.swap(at, at + 1),
                    _ => {}
                }
                if mutated.is_empty() {
                    break;
                }
            }
            let mut source = String::new();
            for (token, joint) in &mutated {
                source.push_str(token);
                if !joint {
                    source.push(' ');
                }
            }
            let Ok(input) = source.parse::<TokenStream>() else { continue };
            run += 1;
            let output = match run_derive(&source) {
                Ok(output) => output,
                Err(panic) => {
                    panic!("the derive panicked ({panic}) on a mutation of seed {seed:#x}:\n{source}")
                }
            };
            let file: syn::File = syn::parse2(output.clone()).unwrap_or_else(|error| {
                panic!("the output does not parse ({error}) for:\n{source}\n{output}")
            });
            if compile_errors(&file).is_empty() {
                let parsed = syn::parse2::<syn::DeriveInput>(input);
                let is_struct = matches!(&parsed, Ok(input) if matches!(input.data, syn::Data::Struct(_)));
                assert!(is_struct, "no error for an input that is not a struct (seed {seed:#x}):\n{source}");
                assert!(!mentions_compile_error(output), "a stray `compile_error!` for:\n{source}");
            }
        }
    }
    assert!(run > 0 || std::env::var_os("RCU_DERIVE_FUZZ_CASES").is_some(), "no mutation lexed");
}

/// The writer's positions are the ones `proc-macro2` reports, so the span checks compare like
/// with like (columns count characters, doc comments and newlines move lines).
#[test]
fn source_positions_match_proc_macro2() {
    fn starts(stream: TokenStream, out: &mut BTreeSet<Pos>) {
        for tree in stream {
            out.insert(tree.span().start().into());
            if let TokenTree::Group(group) = tree {
                starts(group.stream(), out);
            }
        }
    }
    for seed in seeds().take(200) {
        let mut rng = Rng::new(seed);
        let mut src = Src::new();
        let mut locs = Vec::new();
        for _ in 0..20 {
            let token = rng.pick(&["a", "Café", "'a", "\"ü\"", "::", "r#type", "5", "(x)"]);
            locs.push((token, src.tok(token)));
            if rng.chance(20) {
                src.raw(rng.pick(&["/// doc ünï\n", "\n", "/** x\n y */"]));
            }
        }
        let mut lexed = BTreeSet::new();
        starts(src.text.parse().expect("the text lexes"), &mut lexed);
        for (token, loc) in &locs {
            assert!(lexed.contains(&loc.start), "`{token}` is not at {:?} in:{}", loc.start, src.text);
        }
    }
    // No generated token is at the call site's position, so an unspanned error never matches.
    assert_eq!(Pos::from(proc_macro2::Span::call_site().start()), Pos { line: 1, column: 0 });
}

/// The one error the derive gives for `source`, and where it starts (`source` on one line).
fn single_error(source: &str) -> (String, Pos) {
    let output = run_derive(source).unwrap_or_else(|panic| panic!("panicked ({panic}) on {source}"));
    let file: syn::File = syn::parse2(output).expect("the output parses");
    check_no_lifetime_shadowing(&file).unwrap_or_else(|error| panic!("{error} for {source}"));
    match compile_errors(&file).as_slice() {
        [error] => (error.message.clone(), error.start),
        errors => panic!("{} errors for {source}: {errors:?}", errors.len()),
    }
}

/// Where `needle` first starts in a one-line `source`.
fn position_of(source: &str, needle: &str) -> Pos {
    let byte = source.find(needle).expect("the needle is in the source");
    Pos { line: 1, column: source[..byte].chars().count() }
}

/// The inputs that found bugs in the derive, each reduced to its point.
#[test]
fn inputs_that_found_bugs() {
    // A raw struct name and `Self` in a field type: `Ident::new("r#Node")` panicked. Names of
    // the items the expansion once hid inside `const _`, which shadowed a struct, a generated
    // type or a generic parameter of the same name there (and were then refused as reserved):
    // the block declares no named item any more, so they derive like any other name.
    for source in [
        "struct r#Node { next: Option<Box<Self>> }",
        "struct r#match(fn(Self) -> Self::X);",
        "struct __RcuPinnedFields { a: u8 }",
        "#[rcu_protected(view = __RcuReaderFields)] struct S;",
        "#[rcu_protected(project = SMustNotImplDrop)] struct S;",
        "struct S<__RcuPinnedFields>(__RcuPinnedFields);",
    ] {
        let output = run_derive(source).unwrap_or_else(|panic| panic!("panicked ({panic}) on {source}"));
        let file: syn::File = syn::parse2(output).expect("the output parses");
        assert!(compile_errors(&file).is_empty(), "{source}");
    }

    // A type with a `+` was copied after `&'pin mut`, where the `+` ends the type: the output
    // did not parse (found by the mutation test on `Rcu<Box<Self>> +`).
    for source in ["struct Node { #[rcu] view: Rcu<Box<Self>> + }", "struct S(u8, dyn Send + Sync);"] {
        let output = run_derive(source).unwrap_or_else(|panic| panic!("panicked ({panic}) on {source}"));
        let file: syn::File = syn::parse2(output).unwrap_or_else(|error| panic!("{error} for {source}"));
        assert!(compile_errors(&file).is_empty(), "{source}");
    }

    // The stub of an enum declared `'__view`/`'__pin` again inside an impl of the same
    // lifetimes (E0496, a second error for one mistake).
    let source = "enum E<'__view, '__pin> { A(&'__view &'__pin u8) }";
    let (message, start) = single_error(source);
    assert!(message.starts_with("`#[derive(RcuProtected)]` only supports structs"));
    assert_eq!(start, position_of(source, "enum"));

    // Raw identifiers are the same names as plain ones: these clashes went unnoticed.
    let cases = [
        (
            "#[rcu_protected(view = r#SProjection)] struct S;",
            "r#SProjection",
            "the name `r#SProjection` for `view` is already taken by `project`",
        ),
        (
            "#[rcu_protected(project = S)] struct r#S;",
            "S",
            "the name `S` for `project` is already taken by the struct itself",
        ),
        // A default name taken by an earlier option was reported at the struct's name.
        (
            "#[rcu_protected(project = SView)] struct S;",
            "SView",
            "the name `SView` for `project` is the default name of `view`",
        ),
        (
            "#[rcu_protected(project_ref = r#SView)] struct S;",
            "r#SView",
            "the name `r#SView` for `project_ref` is the default name of `view`",
        ),
        (
            "struct S<T, SView>(T, SView);",
            "SView",
            "the generic parameter `SView` has the name of the type generated for `view`",
        ),
        (
            "struct S<const SProjection: usize>([u8; SProjection]);",
            "SProjection",
            "the generic parameter `SProjection` has the name of the type generated for `project`",
        ),
    ];
    for (source, needle, expected) in cases {
        let (message, start) = single_error(source);
        assert!(message.starts_with(expected), "{source}: {message}");
        assert_eq!(start, position_of(source, needle), "{source}: {message}");
    }
}
