//! Running the derive and reading its output against the case.

use super::*;

/// Runs the derive, turning a panic into an `Err` with its message.
pub(super) fn run_derive(source: &str) -> Result<TokenStream, String> {
    let input: TokenStream = source.parse().map_err(|error| format!("the source does not lex: {error}"))?;
    panic::catch_unwind(AssertUnwindSafe(|| crate::expand::derive(input))).map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// The top-level `compile_error! { .. }` items, with their spans.
pub(super) fn compile_errors(file: &syn::File) -> Vec<Actual> {
    file.items
        .iter()
        .filter_map(|item| match item {
            Item::Macro(item)
                if item.mac.path.segments.last().is_some_and(|s| s.ident == "compile_error") =>
            {
                let ident = &item.mac.path.segments.last().expect("checked above").ident;
                let message = item.mac.parse_body::<LitStr>().map(|lit| lit.value()).unwrap_or_default();
                Some(Actual {
                    message,
                    start: ident.span().start().into(),
                    end: item.mac.delimiter.span().join().end().into(),
                })
            }
            _ => None,
        })
        .collect()
}

/// Whether some `compile_error!` hides anywhere in the tokens.
pub(super) fn mentions_compile_error(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "compile_error",
        TokenTree::Group(group) => mentions_compile_error(group.stream()),
        _ => false,
    })
}

/// The last segment of a path type, unraw.
pub(super) fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.unraw().to_string()),
        _ => None,
    }
}

/// `N` of the `Field<N>` argument of the trait path's last segment, if it has one.
pub(super) fn field_index(path: &syn::Path) -> Option<usize> {
    let PathArguments::AngleBracketed(args) = &path.segments.last()?.arguments else { return None };
    let Some(GenericArgument::Type(Type::Path(field))) = args.args.first() else { return None };
    let last = field.path.segments.last()?;
    if last.ident != "Field" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        GenericArgument::Const(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. })) => {
            n.base10_parse().ok()
        }
        GenericArgument::Type(Type::Path(n)) => n.path.get_ident().and_then(|n| n.to_string().parse().ok()),
        _ => None,
    }
}

/// Every `N` of a `Field<N>` in the tokens.
pub(super) fn field_indices_in(tokens: TokenStream, out: &mut Vec<usize>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Ident(ident) if ident == "Field" => {
                if let (Some(TokenTree::Punct(open)), Some(TokenTree::Literal(n))) =
                    (trees.get(i + 1), trees.get(i + 2))
                    && open.as_char() == '<'
                    && let Ok(n) = n.to_string().parse()
                {
                    out.push(n);
                }
            }
            TokenTree::Group(group) => field_indices_in(group.stream(), out),
            _ => {}
        }
    }
}

/// The lifetimes a `Generics` declares.
pub(super) fn declared_lifetimes(generics: &syn::Generics) -> BTreeSet<String> {
    generics.lifetimes().map(|param| param.lifetime.ident.to_string()).collect()
}

/// A lifetime declared by an associated item must not shadow one of its impl (E0496).
pub(super) fn check_no_lifetime_shadowing(file: &syn::File) -> Result<(), String> {
    struct Impls<'a>(Vec<&'a syn::ItemImpl>);
    impl<'a> Visit<'a> for Impls<'a> {
        fn visit_item_impl(&mut self, item: &'a syn::ItemImpl) {
            self.0.push(item);
            syn::visit::visit_item_impl(self, item);
        }
    }
    let mut impls = Impls(Vec::new());
    impls.visit_file(file);
    for item in impls.0 {
        let outer = declared_lifetimes(&item.generics);
        for inner in &item.items {
            let generics = match inner {
                ImplItem::Type(ty) => &ty.generics,
                ImplItem::Fn(f) => &f.sig.generics,
                _ => continue,
            };
            if let Some(shadowed) = declared_lifetimes(generics).intersection(&outer).next() {
                return Err(format!(
                    "an item of `{}` declares the lifetime `'{shadowed}` its impl already declares",
                    item.self_ty.to_token_stream()
                ));
            }
        }
    }
    Ok(())
}

/// The output's errors against the oracle's: the same number, each with the expected message
/// at the expected place.
pub(super) fn check_errors(case: &Case, actual: &[Actual]) -> Result<(), String> {
    let mut unmatched: Vec<&Actual> = actual.iter().collect();
    let mut missing: Vec<&Expected> = Vec::new();
    for expected in &case.errors {
        let found = unmatched.iter().position(|actual| {
            actual.message.starts_with(&expected.message)
                && actual.start == expected.start
                && expected.end.is_none_or(|end| end == actual.end)
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(expected),
        }
    }
    if missing.is_empty() && unmatched.is_empty() {
        return Ok(());
    }
    let rules: Vec<&str> = missing.iter().map(|expected| expected.rule).collect();
    let extra: Vec<String> =
        unmatched.iter().map(|actual| actual.message.chars().take(60).collect()).collect();
    Err(format!(
        "errors differ: missing {rules:?}, unexpected {extra:?}\nmissing: {missing:#?}\nemitted: {actual:#?}"
    ))
}

/// A full expansion against the model of what the README promises.
pub(super) fn check_expansion(case: &Case, model: &Model, file: &syn::File) -> Result<(), String> {
    let mut top_structs = Vec::new();
    let mut hidden_items: Vec<&syn::Item> = Vec::new();
    let mut const_blocks = 0;
    for item in &file.items {
        match item {
            Item::Struct(item) => top_structs.push(item),
            Item::Const(item) if item.ident == "_" => {
                const_blocks += 1;
                let syn::Expr::Block(block) = &*item.expr else {
                    return Err("`const _` is not a block".into());
                };
                for stmt in &block.block.stmts {
                    if let syn::Stmt::Item(item) = stmt {
                        hidden_items.push(item);
                    }
                }
            }
            Item::Macro(_) => {}
            other => return Err(format!("unexpected top-level item: {}", other.to_token_stream())),
        }
    }
    if const_blocks != 1 {
        return Err(format!("{const_blocks} `const _` blocks"));
    }
    let find = |name: &str| top_structs.iter().find(|item| item.ident.unraw() == name).copied();
    let (Some(projection), Some(projection_ref), Some(view)) =
        (find(&model.projection), find(&model.projection_ref), find(&model.view))
    else {
        return Err(format!("the generated types {model:?} are not all there"));
    };
    if top_structs.len() != 3 {
        return Err("more than the three generated types next to the struct".into());
    }

    // The projections: one field per struct field, typed by its kind.
    for (item, mutable) in [(projection, true), (projection_ref, false)] {
        let fields: Vec<&syn::Field> = item.fields.iter().collect();
        if model.fields.is_empty() {
            if fields.len() != 1 || fields[0].ident.as_ref().is_none_or(|i| i != "__pin") {
                return Err(format!("`{}` of an empty struct is not the marker alone", item.ident));
            }
            continue;
        }
        if fields.len() != model.fields.len() {
            return Err(format!(
                "`{}` has {} fields, the struct {}",
                item.ident,
                fields.len(),
                model.fields.len()
            ));
        }
        let tuple = matches!(item.fields, Fields::Unnamed(_));
        if tuple != (model.style == Style::Tuple) {
            return Err(format!("`{}` is not shaped like the struct", item.ident));
        }
        for (field, (name, kind)) in fields.iter().zip(&model.fields) {
            let field_name = field.ident.as_ref().map(|i| i.unraw().to_string());
            if field_name.as_deref() != name.as_deref().map(unraw) {
                return Err(format!("`{}` has field {field_name:?} where {name:?} was", item.ident));
            }
            let ok = match (kind, mutable, &field.ty) {
                (Kind::Rcu, true, ty) => last_segment(ty).as_deref() == Some("RcuMut"),
                (Kind::Pin, _, ty) | (Kind::Rcu, false, ty) => last_segment(ty).as_deref() == Some("Pin"),
                (Kind::Plain | Kind::RcuHead | Kind::RcuLinks, _, Type::Reference(r)) => {
                    r.mutability.is_some() == mutable
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "`{}` projects the {kind:?} field {name:?} as `{}`",
                    item.ident,
                    field.ty.to_token_stream()
                ));
            }
        }
    }
    let view_fields: Vec<String> =
        view.fields.iter().filter_map(|f| f.ident.as_ref().map(ToString::to_string)).collect();
    if view_fields != ["__raw"] {
        return Err(format!("the view holds {view_fields:?}, not the raw view alone"));
    }

    // Inside `const _`: the trait impls, by trait.
    let mut by_trait: Vec<(String, Option<usize>, &syn::ItemImpl)> = Vec::new();
    let mut inherent: Vec<&syn::ItemImpl> = Vec::new();
    for item in &hidden_items {
        match item {
            Item::Impl(imp) => match &imp.trait_ {
                Some((_, path, _)) => {
                    let name = path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                    by_trait.push((name, field_index(path), imp));
                }
                None => inherent.push(imp),
            },
            // A named item in there would be in scope of the user's field types and bounds, and a
            // user type of the same name would resolve to it.
            other => return Err(format!("a named item inside `const _`: {}", other.to_token_stream())),
        }
    }
    let indices_of = |trait_name: &str| -> Vec<usize> {
        let mut indices: Vec<usize> = by_trait
            .iter()
            .filter(|(name, _, _)| name == trait_name)
            .filter_map(|(_, index, _)| *index)
            .collect();
        indices.sort_unstable();
        indices
    };
    let count_of = |trait_name: &str| by_trait.iter().filter(|(name, _, _)| name == trait_name).count();
    let of_kind = |pred: &dyn Fn(Kind) -> bool| -> Vec<usize> {
        model.fields.iter().enumerate().filter(|(_, (_, kind))| pred(*kind)).map(|(i, _)| i).collect()
    };
    let all: Vec<usize> = (0..model.fields.len()).collect();
    for (trait_name, expected) in [
        ("HasField", all),
        ("HasPinnedField", of_kind(&|kind: Kind| kind.is_pinned())),
        ("RcuField", of_kind(&|kind: Kind| kind == Kind::Rcu)),
    ] {
        let indices = indices_of(trait_name);
        if indices != expected || count_of(trait_name) != expected.len() {
            return Err(format!("`{trait_name}` for fields {indices:?}, expected {expected:?}"));
        }
    }
    for (kind, trait_name) in [(Kind::RcuHead, "HasRcuHead"), (Kind::RcuLinks, "HasRcuLinks")] {
        let field = model.fields.iter().position(|(_, k)| *k == kind);
        let impls: Vec<&syn::ItemImpl> =
            by_trait.iter().filter(|(name, _, _)| name == trait_name).map(|(_, _, imp)| *imp).collect();
        match (field, impls.as_slice()) {
            (None, []) => {}
            (Some(field), [imp]) => {
                let mut indices = Vec::new();
                field_indices_in(imp.to_token_stream(), &mut indices);
                if indices.is_empty() || indices.iter().any(|&n| n != field) {
                    return Err(format!(
                        "`{trait_name}` goes through fields {indices:?}, the field is {field}"
                    ));
                }
            }
            (field, impls) => {
                return Err(format!("{} `{trait_name}` impls for field {field:?}", impls.len()));
            }
        }
    }
    for trait_name in ["RcuProtected", "Unpin"] {
        if count_of(trait_name) != 1 {
            return Err(format!("{} `{trait_name}` impls", count_of(trait_name)));
        }
    }
    let drop_impls = count_of("Drop");
    let guards = count_of("UseRcuProtectedPinnedDropInsteadOfDrop");
    // A user `Drop` is forbidden (the guard impl) only without `PinnedDrop` and with a pinned field.
    let pinned = model.fields.iter().any(|(_, kind)| kind.is_pinned());
    let guard_expected = !model.pinned_drop && pinned;
    if model.pinned_drop != (drop_impls == 1) || guards != usize::from(guard_expected) {
        return Err(format!(
            "PinnedDrop {}, pinned fields {pinned}: {drop_impls} `Drop` impls, {guards} guard impls",
            model.pinned_drop
        ));
    }
    // Every trait impl is for the struct, through the chosen crate; `Clone` and `Copy` are the view's.
    for (name, _, imp) in &by_trait {
        let for_type = if name == "Clone" || name == "Copy" { &model.view } else { &model.ident };
        if last_segment(&imp.self_ty).as_deref() != Some(for_type.as_str()) {
            return Err(format!("the `{name}` impl is for `{}`", imp.self_ty.to_token_stream()));
        }
    }
    let (_, _, rcu_protected) =
        by_trait.iter().find(|(name, _, _)| name == "RcuProtected").expect("counted above");
    check_krate(case, rcu_protected)?;

    // The view's methods: one per `#[rcu]` field, named after it.
    let mut methods: Vec<String> = Vec::new();
    let mut project_methods: Vec<String> = Vec::new();
    for imp in &inherent {
        let names = imp.items.iter().filter_map(|item| match item {
            ImplItem::Fn(f) => Some(f.sig.ident.unraw().to_string()),
            _ => None,
        });
        if last_segment(&imp.self_ty).as_deref() == Some(model.view.as_str()) {
            methods.extend(names);
        } else if last_segment(&imp.self_ty).as_deref() == Some(model.ident.as_str()) {
            project_methods.extend(names);
        }
    }
    let expected_methods: Vec<String> = model
        .fields
        .iter()
        .enumerate()
        .filter(|(_, (_, kind))| *kind == Kind::Rcu)
        .map(|(i, (name, _))| match name {
            Some(name) => unraw(name).to_owned(),
            None => format!("field_{i}"),
        })
        .collect();
    if methods != expected_methods {
        return Err(format!("view methods {methods:?}, expected {expected_methods:?}"));
    }
    if project_methods != ["project", "project_ref"] {
        return Err(format!("inherent methods of the struct: {project_methods:?}"));
    }
    Ok(())
}

/// The trait path of an `RcuProtected` impl starts with the crate the options chose.
pub(super) fn check_krate(case: &Case, imp: &syn::ItemImpl) -> Result<(), String> {
    let (_, path, _) = imp.trait_.as_ref().expect("a trait impl");
    let path = path.to_token_stream().to_string().replace(' ', "");
    if path == format!("{}::RcuProtected", case.krate) {
        Ok(())
    } else {
        Err(format!("`RcuProtected` is reached as `{path}`, not through `{}`", case.krate))
    }
}

/// The stub a fatal error comes with: the `RcuProtected` impl alone, all `Unexpanded`.
pub(super) fn check_stub(case: &Case, file: &syn::File) -> Result<(), String> {
    let impls: Vec<&syn::ItemImpl> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Impl(imp) => Some(imp),
            _ => None,
        })
        .collect();
    let others = file.items.iter().filter(|item| !matches!(item, Item::Impl(_) | Item::Macro(_))).count();
    let [imp] = impls.as_slice() else { return Err(format!("{} impls next to a fatal error", impls.len())) };
    if others != 0 {
        return Err("items other than the stub next to a fatal error".into());
    }
    check_krate(case, imp)?;
    for item in &imp.items {
        if let ImplItem::Type(ty) = item
            && ty.ident != "ReaderFields"
            && last_segment(&ty.ty).as_deref() != Some("Unexpanded")
        {
            return Err(format!("the stub's `{}` is not `Unexpanded`", ty.ident));
        }
    }
    Ok(())
}

pub(super) fn check_case(case: &Case) -> Result<(), String> {
    let output = run_derive(&case.source).map_err(|panic| format!("the derive panicked: {panic}"))?;
    let file: syn::File = syn::parse2(output.clone())
        .map_err(|error| format!("the output does not parse ({error}):\n{output}"))?;
    let errors = compile_errors(&file);
    check_errors(case, &errors)?;
    if case.errors.is_empty() && mentions_compile_error(output.clone()) {
        return Err(format!("a valid input gave a `compile_error!`:\n{output}"));
    }
    check_no_lifetime_shadowing(&file)?;
    match &case.model {
        Some(model) => check_expansion(case, model, &file),
        None => check_stub(case, &file),
    }
    .map_err(|error| format!("{error}\noutput:\n{output}"))
}
