//! The generator: writes a random input, recording as it writes what the derive must answer.

use super::*;

/// The `#[rcu_protected(..)]` options seen so far, as the derive must have understood them.
#[derive(Default)]
pub(super) struct Options {
    pub(super) project: Option<(String, Loc)>,
    pub(super) project_ref: Option<(String, Loc)>,
    pub(super) view: Option<(String, Loc)>,
    pub(super) pinned_drop: bool,
    pub(super) krate: Option<String>,
    pub(super) packed: Option<Loc>,
}

impl Options {
    pub(super) fn slot(&mut self, key: &str) -> &mut Option<(String, Loc)> {
        match key {
            "project" => &mut self.project,
            "project_ref" => &mut self.project_ref,
            _ => &mut self.view,
        }
    }
}

/// `name` without a leading `r#`.
pub(super) fn unraw(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

pub(super) struct Gen<'r> {
    pub(super) rng: &'r mut Rng,
    pub(super) src: Src,
    pub(super) errors: Vec<Expected>,
}

impl Gen<'_> {
    pub(super) fn error(&mut self, rule: &'static str, message: impl Into<String>, loc: Loc) {
        self.errors.push(Expected { rule, message: message.into(), start: loc.start, end: Some(loc.end) });
    }

    pub(super) fn error_at_start(&mut self, rule: &'static str, message: impl Into<String>, start: Pos) {
        self.errors.push(Expected { rule, message: message.into(), start, end: None });
    }

    /// One attribute on the struct.
    pub(super) fn container_attr(&mut self, options: &mut Options, written: &str) {
        match self.rng.weighted(&[45, 3, 2, 3, 12, 4, 10, 8]) {
            0 => self.rcu_protected_list(options, written),
            1 => {
                let loc = self.src.tok("#[rcu_protected]");
                self.error("rcu_protected without options", "`#[rcu_protected]` needs options", loc);
            }
            2 => {
                self.src.tok("#[rcu_protected");
                let eq = self.src.tok("=");
                self.src.tok("\"view\"]");
                self.error("rcu_protected = value", "expected parentheses: #[rcu_protected(...)]", eq);
            }
            3 => {
                self.src.tok("#[rcu_protected()]");
            }
            4 => self.repr(options),
            5 => {
                let attr = self.rng.pick(&["rcu", "pin", "rcu_head", "rcu_links"]);
                let args = self.rng.pick(&["", "", "(x)", " = true"]);
                let loc = self.src.tok(&format!("#[{attr}{args}]"));
                self.error(
                    "field attribute on the struct",
                    format!("`#[{attr}]` goes on a field, not on the struct"),
                    loc,
                );
            }
            6 => {
                let doc = self.rng.pick(&[
                    "/// A struct.\n",
                    "#[doc = \"A struct.\"]",
                    "/** Block doc. */",
                    "/// Ünïcödé doc.\n",
                ]);
                self.src.raw(doc);
                self.src.raw(" ");
            }
            _ => {
                let other = self.rng.pick(&[
                    "#[allow(dead_code)]",
                    "#[derive(Debug)]",
                    "#[cfg_attr(test, derive(Clone))]",
                    "#[must_use]",
                ]);
                self.src.tok(other);
            }
        }
    }

    pub(super) fn repr(&mut self, options: &mut Options) {
        let items: &[&str] = self.rng.pick(&[
            &["C"][..],
            &["packed"],
            &["C", "packed(2)"],
            &["packed", "C"],
            &["align(8)"],
            &["transparent"],
        ]);
        self.src.raw("#[repr(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.src.tok(",");
            }
            if let Some(rest) = item.strip_prefix("packed") {
                let loc = self.src.tok("packed");
                if !rest.is_empty() {
                    self.src.tok(rest);
                }
                options.packed.get_or_insert(loc);
            } else {
                self.src.tok(item);
            }
        }
        self.src.tok(")]");
    }

    /// `#[rcu_protected(..)]` with one to four options, some of them wrong.
    pub(super) fn rcu_protected_list(&mut self, options: &mut Options, written: &str) {
        self.src.raw("#[rcu_protected(");
        let count = 1 + self.rng.below(4);
        let trailing_comma = self.rng.chance(20);
        // The derive stops reading one attribute at its first mistake.
        let mut stopped = false;
        for i in 0..count {
            if i > 0 {
                self.src.tok(",");
            }
            let mistake = self.option(options, written, stopped);
            stopped |= mistake;
        }
        if trailing_comma {
            self.src.tok(",");
        }
        self.src.tok(")]");
    }

    /// One option; returns whether it is a mistake that stops the attribute. When `stopped`,
    /// the option is only written: the derive never reads it.
    pub(super) fn option(&mut self, options: &mut Options, written: &str, stopped: bool) -> bool {
        match self.rng.weighted(&[50, 12, 12, 8]) {
            0 => {
                let key = self.rng.pick(&["project", "project_ref", "view"]);
                let key_loc = self.src.tok(key);
                match self.rng.weighted(&[80, 5, 5, 5, 5]) {
                    0 => {
                        self.src.tok("=");
                        let value = self.type_name(written);
                        let value_loc = self.src.tok(&value);
                        if stopped {
                            return false;
                        }
                        if options.slot(key).is_some() {
                            let message = format!("duplicate `rcu_protected` option `{key}`");
                            self.error("duplicate option", message, key_loc.to(value_loc));
                            return true;
                        }
                        *options.slot(key) = Some((value, value_loc));
                        false
                    }
                    1 => {
                        // `view` without `= Name`: the derive expects `=` at the next token.
                        let next = self.src.next();
                        if !stopped {
                            self.error_at_start("option without value", "expected `=`", next.start);
                        }
                        !stopped
                    }
                    2 | 3 => {
                        self.src.tok("=");
                        let value = self.rng.pick(&["5", "\"MyView\"", "Self", "_"]);
                        let loc = self.src.tok(value);
                        if !stopped {
                            let message = format!("expected a type name, as in `{key} = MyType`");
                            self.error("option value not a name", message, loc);
                        }
                        !stopped
                    }
                    _ => {
                        // `view = a::B`: `a` is read as the name, then `::` is unexpected.
                        self.src.tok("=");
                        let a = self.src.tok("a");
                        let colons = self.src.tok("::");
                        self.src.tok("B");
                        if stopped {
                            return false;
                        }
                        if options.slot(key).is_some() {
                            let message = format!("duplicate `rcu_protected` option `{key}`");
                            self.error("duplicate option", message, key_loc.to(a));
                        } else {
                            *options.slot(key) = Some(("a".to_owned(), a));
                            self.error_at_start("option value is a path", "expected `,`", colons.start);
                        }
                        true
                    }
                }
            }
            1 => {
                let loc = self.src.tok("PinnedDrop");
                let extra = self.rng.pick(&["", "", "", "", "= yes", "(x)"]);
                if !extra.is_empty() {
                    self.src.tok(extra);
                }
                if stopped {
                    return false;
                }
                if !extra.is_empty() {
                    self.error("PinnedDrop with a value", "`PinnedDrop` takes no value", loc);
                    true
                } else if options.pinned_drop {
                    self.error("duplicate option", "duplicate `rcu_protected` option `PinnedDrop`", loc);
                    true
                } else {
                    options.pinned_drop = true;
                    false
                }
            }
            2 => {
                let key_loc = self.src.tok("crate");
                if self.rng.chance(5) {
                    let next = self.src.next();
                    if !stopped {
                        self.error_at_start("option without value", "expected `=`", next.start);
                    }
                    return !stopped;
                }
                self.src.tok("=");
                // (as written, the path it means or `None` for a mistake)
                let (value, path) = self.rng.pick(&[
                    ("::rt", Some("::rt")),
                    ("crate::rt", Some("crate::rt")),
                    ("rt::inner", Some("rt::inner")),
                    ("\"rt\"", Some("rt")),
                    ("\"::rt::x\"", Some("::rt::x")),
                    ("\"1x\"", None),
                    ("5", None),
                ]);
                let loc = self.src.tok(value);
                if stopped {
                    return false;
                }
                match path {
                    None => {
                        self.error("crate is not a path", "expected identifier", loc);
                        true
                    }
                    Some(_) if options.krate.is_some() => {
                        self.error(
                            "duplicate option",
                            "duplicate `rcu_protected` option `crate`",
                            key_loc.to(loc),
                        );
                        true
                    }
                    Some(path) => {
                        options.krate = Some(path.to_owned());
                        false
                    }
                }
            }
            _ => {
                let key = self.rng.pick(&[
                    "veiw",
                    "Project",
                    "pinned_drop",
                    "a::view",
                    "type",
                    "crate_name",
                    "PinnedDrop2",
                ]);
                let loc = self.src.tok(key);
                let value = self.rng.pick(&["", "= V", "(x)"]);
                if !value.is_empty() {
                    self.src.tok(value);
                }
                if stopped {
                    return false;
                }
                self.error("unknown option", format!("unknown `rcu_protected` option `{key}`"), loc);
                true
            }
        }
    }

    /// A name for a generated type: mostly fresh, sometimes one that is already taken.
    pub(super) fn type_name(&mut self, written: &str) -> String {
        let ident = unraw(written);
        match self.rng.weighted(&[40, 20, 8, 4, 4, 4, 4, 4, 4, 4]) {
            0 => (self.rng.pick(&["P", "R", "V", "MyView", "Proj"])).to_owned(),
            1 => (self.rng.pick(&["ProjA", "ProjB", "ViewA", "r#ViewB", "Café"])).to_owned(),
            2 => written.to_owned(),
            3 => format!("{ident}Projection"),
            4 => format!("{ident}ProjectionRef"),
            5 => format!("{ident}View"),
            6 => format!("r#{ident}View"),
            7 => format!("{ident}MustNotImplDrop"),
            8 => "__RcuPinnedFields".to_owned(),
            _ => "__RcuReaderFields".to_owned(),
        }
    }
}

/// One generic parameter as written.
pub(super) struct Param {
    pub(super) name: String,
    pub(super) loc: Loc,
    pub(super) lifetime: bool,
}

/// Writes a random input and works out what the derive must answer.
pub(super) fn generate(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let mut g = Gen { rng: &mut rng, src: Src::new(), errors: Vec::new() };
    let item = match g.rng.below(100) {
        0..=3 => "enum",
        4..=6 => "union",
        _ => "struct",
    };
    let style = match g.rng.weighted(&[70, 22, 8]) {
        0 => Style::Named,
        1 => Style::Tuple,
        _ => Style::Unit,
    };
    let name = (g.rng.pick(&[
        "Config",
        "Config",
        "S",
        "Node",
        "r#Config",
        "r#type",
        "r#match",
        "Café",
        "__RcuPinnedFields",
        "__RcuReaderFields",
    ]))
    .to_owned();
    let ident = unraw(&name).to_owned();

    let mut options = Options::default();
    for _ in 0..g.rng.weighted(&[30, 40, 20, 10]) {
        g.container_attr(&mut options, &name);
    }
    // An enum or a union is rejected before its attributes are read.
    let container_errors = std::mem::take(&mut g.errors);

    g.src.tok(g.rng.pick(&["", "pub", "pub(crate)", "pub(in crate::m)"]));
    let keyword = g.src.tok(item);
    let name_loc = g.src.tok(&name);
    let params = generics(&mut g);
    let where_clause = where_clause(&mut g, &params);

    let mut fields = Vec::new();
    match (item, style) {
        ("enum", _) => {
            g.src.raw(&where_clause);
            g.src.tok("{ A, B(u8), C { next: Option<Box<Self>> } }");
        }
        ("union", _) => {
            g.src.raw(&where_clause);
            g.src.tok("{ a: u8, b: core::mem::ManuallyDrop<Self> }");
        }
        (_, Style::Named) => {
            g.src.raw(&where_clause);
            g.src.tok("{");
            fields = field_list(&mut g, true, &params);
            g.src.tok("}");
        }
        (_, Style::Tuple) => {
            g.src.tok("(");
            fields = field_list(&mut g, false, &params);
            g.src.tok(")");
            g.src.raw(&where_clause);
            g.src.tok(";");
        }
        (_, Style::Unit) => {
            g.src.raw(&where_clause);
            g.src.tok(";");
        }
    }
    let krate = options.krate.clone().unwrap_or_else(|| "::rcu_runtime".to_owned());

    if item != "struct" {
        let rule = if item == "enum" { "enum" } else { "union" };
        let errors = vec![Expected {
            rule,
            message: "`#[derive(RcuProtected)]` only supports structs".to_owned(),
            start: keyword.start,
            end: Some(keyword.end),
        }];
        return Case { seed, source: g.src.text, errors, model: None, krate };
    }
    g.errors.splice(0..0, container_errors);

    let kinds = resolve_kinds(&mut g, &fields);
    let fatal = fatal_error(&options, &name, name_loc, &params);
    let model = match fatal {
        Some(fatal) => {
            g.errors.push(fatal);
            None
        }
        None => Some(Model {
            ident: ident.clone(),
            style,
            fields: fields.iter().zip(&kinds).map(|(field, &kind)| (field.name.clone(), kind)).collect(),
            projection: generated_name(&options.project, &ident, "Projection"),
            projection_ref: generated_name(&options.project_ref, &ident, "ProjectionRef"),
            view: generated_name(&options.view, &ident, "View"),
            pinned_drop: options.pinned_drop,
        }),
    };
    Case { seed, source: g.src.text, errors: g.errors, model, krate }
}

pub(super) fn generated_name(chosen: &Option<(String, Loc)>, ident: &str, suffix: &str) -> String {
    match chosen {
        Some((name, _)) => unraw(name).to_owned(),
        None => format!("{ident}{suffix}"),
    }
}

/// `<'a: 'b, T: Clone = u8, const N: usize>` or nothing.
pub(super) fn generics(g: &mut Gen<'_>) -> Vec<Param> {
    let mut params: Vec<Param> = Vec::new();
    if g.rng.chance(45) {
        return params;
    }
    g.src.tok("<");
    let mut lifetimes: Vec<&str> = vec!["'a", "'b", "'pin", "'view", "'__pin", "'__view"];
    let mut types: Vec<&str> = vec!["T", "U", "X"];
    for _ in 0..g.rng.below(3) {
        let i = g.rng.below(lifetimes.len());
        let lifetime = lifetimes.swap_remove(i);
        let loc = g.src.tok(lifetime);
        if let Some(earlier) = params.last().filter(|_| g.rng.chance(30)) {
            let bound = format!(": {}{}", earlier.name, if g.rng.chance(30) { " +" } else { "" });
            g.src.tok(&bound);
        }
        g.src.tok(",");
        params.push(Param { name: lifetime.to_owned(), loc, lifetime: true });
    }
    let lifetime_names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
    for _ in 0..g.rng.below(3) {
        if g.rng.chance(25) {
            let name = g.rng.pick(&["N", "M"]);
            if params.iter().any(|p| p.name == name) {
                continue;
            }
            g.src.tok("const");
            let loc = g.src.tok(name);
            g.src.tok(": usize");
            if g.rng.chance(30) {
                g.src.tok(g.rng.pick(&["= 2", "= { 1 + 1 }"]));
            }
            g.src.tok(",");
            params.push(Param { name: name.to_owned(), loc, lifetime: false });
            continue;
        }
        let name = if g.rng.chance(6) {
            // A parameter named like a generated or hidden type.
            (g.rng.pick(&["ConfigView", "SProjection", "NodeProjectionRef", "__RcuPinnedFields"])).to_owned()
        } else {
            let i = g.rng.below(types.len());
            types.swap_remove(i).to_owned()
        };
        if params.iter().any(|p| p.name == name) {
            continue;
        }
        let loc = g.src.tok(&name);
        if g.rng.chance(50) {
            let mut bounds =
                vec!["Clone", "Send + Sync", "Iterator<Item = u8>", "for<'x> Fn(&'x u8)", "Clone +"];
            let with_lifetime;
            if let Some(lifetime) = lifetime_names.first() {
                with_lifetime = format!("{lifetime} + Send");
                bounds.push(&with_lifetime);
            }
            let bound = format!(": {}", g.rng.pick(&bounds[..]));
            g.src.tok(&bound);
        }
        if g.rng.chance(20) {
            g.src.tok(g.rng.pick(&["= u8", "= Vec<u8>"]));
        }
        g.src.tok(",");
        params.push(Param { name, loc, lifetime: false });
    }
    g.src.tok(">");
    params
}

/// ` where T: Send, 'a: 'b ` or nothing.
pub(super) fn where_clause(g: &mut Gen<'_>, params: &[Param]) -> String {
    let mut predicates: Vec<String> = Vec::new();
    for param in params {
        if g.rng.chance(30) {
            if param.lifetime {
                predicates.push(format!("{}: 'static", param.name));
            } else if param.name != "N" && param.name != "M" {
                predicates.push(format!("{}: Send", param.name));
                if g.rng.chance(30) {
                    predicates.push(format!("for<'x> &'x {}: Sized", param.name));
                }
            }
        }
    }
    if g.rng.chance(10) {
        predicates.push("u8: Copy".to_owned());
    }
    if predicates.is_empty() {
        return String::new();
    }
    let comma = if g.rng.chance(30) { "," } else { "" };
    format!("where {}{comma} ", predicates.join(", "))
}

/// One field's helper attributes as the oracle reads them.
#[derive(Default)]
pub(super) struct FieldHelpers {
    pub(super) rcu: Option<Loc>,
    pub(super) pin: Option<Loc>,
    pub(super) rcu_head: Option<Loc>,
    pub(super) rcu_links: Option<Loc>,
}

pub(super) struct GenField {
    pub(super) name: Option<String>,
    pub(super) helpers: FieldHelpers,
}

pub(super) fn field_list(g: &mut Gen<'_>, named: bool, params: &[Param]) -> Vec<GenField> {
    let count = g.rng.weighted(&[8, 25, 25, 20, 12, 10]);
    let mut names: Vec<&str> = vec![
        "a",
        "b",
        "routes",
        "head",
        "reloads",
        "r#type",
        "r#match",
        "__pin",
        "__raw",
        "project",
        "view",
        "clone",
        "field_0",
        "__field0",
        "__generics",
    ];
    let mut fields = Vec::new();
    for i in 0..count {
        if i > 0 {
            g.src.tok(",");
        }
        let helpers = field_attrs(g);
        g.src.tok(g.rng.pick(&["", "", "pub", "pub(crate)", "pub(super)"]));
        let name = if named {
            let name = names.swap_remove(g.rng.below(names.len()));
            g.src.tok(name);
            g.src.tok(":");
            Some(name.to_owned())
        } else {
            None
        };
        let ty = field_type(g, params, &helpers);
        g.src.tok(&ty);
        fields.push(GenField { name, helpers });
    }
    if count > 0 && g.rng.chance(30) {
        g.src.tok(",");
    }
    fields
}

/// A field's attributes: helpers (sometimes wrong), `cfg`s, docs and others.
pub(super) fn field_attrs(g: &mut Gen<'_>) -> FieldHelpers {
    let mut helpers = FieldHelpers::default();
    let count = g.rng.weighted(&[30, 45, 18, 7]);
    for _ in 0..count {
        match g.rng.weighted(&[30, 14, 14, 10, 2, 8, 8, 6]) {
            which @ 0..=3 => {
                let name = ["rcu", "pin", "rcu_head", "rcu_links"][which];
                let form = g.rng.weighted(&[88, 4, 4, 4]);
                let start = g.src.pos;
                g.src.raw(&format!("#[{name}"));
                match form {
                    0 => {}
                    1 | 2 => {
                        let args = g.src.tok(if form == 1 { "(fast)" } else { "()" });
                        g.error(
                            "field attribute with arguments",
                            format!("`#[{name}]` takes no arguments"),
                            args,
                        );
                    }
                    _ => {
                        g.src.tok("=");
                        let value = g.src.tok("true");
                        g.error("field attribute with a value", format!("`#[{name}]` takes no value"), value);
                    }
                }
                let close = g.src.tok("]");
                let attr = Loc { start, end: close.end };
                let slot = match which {
                    0 => &mut helpers.rcu,
                    1 => &mut helpers.pin,
                    2 => &mut helpers.rcu_head,
                    _ => &mut helpers.rcu_links,
                };
                if slot.is_some() {
                    g.error("duplicate field attribute", format!("duplicate `#[{name}]` on one field"), attr);
                } else {
                    *slot = Some(attr);
                }
            }
            4 => {
                let attr = g.rng.pick(&["#[rcu_protected(view = V)]", "#[rcu_protected]"]);
                let loc = g.src.tok(attr);
                g.error(
                    "rcu_protected on a field",
                    "`#[rcu_protected(..)]` goes on the struct, not on a field",
                    loc,
                );
            }
            5 => {
                g.src.tok(g.rng.pick(&["#[cfg(unix)]", "#[cfg(all())]", "#[cfg(not(miri))]"]));
            }
            6 => {
                g.src.raw(g.rng.pick(&["/// A field.\n", "#[doc = \"A field.\"]", "/** A field. */"]));
                g.src.raw(" ");
            }
            _ => {
                g.src.tok(g.rng.pick(&["#[allow(unused)]", "#[serde(skip)]", "#[doc(hidden)]"]));
            }
        }
    }
    helpers
}

/// A field type: mostly fitting the attribute, sometimes with `Self` or the struct's generics.
pub(super) fn field_type(g: &mut Gen<'_>, params: &[Param], helpers: &FieldHelpers) -> String {
    let mut types: Vec<String> = vec![
        "u64".into(),
        "Option<Box<Self>>".into(),
        "fn(Self) -> (Self, u8)".into(),
        "[u8; 4]".into(),
        "Vec<<Self as Tr>::X>".into(),
        "core::marker::PhantomData<Self>".into(),
        "Box<dyn Fn(&Self) + Send>".into(),
        "dyn core::any::Any + Send".into(),
    ];
    for param in params {
        if param.lifetime {
            types.push(format!("&{} u8", param.name));
        } else if param.name == "N" || param.name == "M" {
            types.push(format!("[u8; {}]", param.name));
        } else {
            types.push(format!("Vec<{}>", param.name));
        }
    }
    if helpers.rcu.is_some() && g.rng.chance(80) {
        return (g.rng.pick(&["Rcu<Box<u64>>", "Rcu<Box<Self>>", "rcu_runtime::Rcu<Arc<[u8]>>"])).to_owned();
    }
    if helpers.rcu_head.is_some() && g.rng.chance(80) {
        return (g.rng.pick(&["RcuHead", "rcu_runtime::RcuHead"])).to_owned();
    }
    if helpers.rcu_links.is_some() && g.rng.chance(80) {
        return (g.rng.pick(&["RcuLinks", "rcu_runtime::RcuLinks"])).to_owned();
    }
    types[g.rng.below(types.len())].clone()
}
