//! Property tests of the derive: random struct definitions, valid and invalid, each with the
//! verdict it must get, fed to [`crate::expand::derive`]; and a token-level mutation fuzzer.
//!
//! The generator writes the source text itself, so it knows where every token is. While it
//! writes, an oracle (written from the rules in `attr.rs`, `valid.rs` and the README, not by
//! calling them) records what the derive must answer: every `compile_error!` with its message
//! and the line and column of the token it must point at, or, for a valid input, the impls and
//! types the README promises. `proc-macro2`'s `span-locations` feature (a dev-dependency) makes
//! spans carry line and column outside a real macro.
//!
//! Every case comes from one 64-bit seed. A failure prints the seed and the source; rerun it
//! alone with `RCU_DERIVE_FUZZ_SEED=<seed> RCU_DERIVE_FUZZ_CASES=1 cargo test -p rcu-derive
//! property_tests`. `RCU_DERIVE_FUZZ_CASES` raises the number of cases for a long run (the
//! default keeps the module to a few seconds in a debug build), `RCU_DERIVE_FUZZ_SEED` moves
//! the run to other seeds.

use std::collections::BTreeSet;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use proc_macro2::{Delimiter, LineColumn, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::{Fields, GenericArgument, ImplItem, Item, LitStr, PathArguments, Type};

/// Cases per property when `RCU_DERIVE_FUZZ_CASES` is not set.
const DEFAULT_CASES: u64 = 1500;
/// The first seed when `RCU_DERIVE_FUZZ_SEED` is not set; case `i` uses seed `first + i`.
const DEFAULT_SEED: u64 = 0x7263_755f_6675_7a7a;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    let value = value.trim();
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={value} is not a number")))
}

/// The seeds of this run.
fn seeds() -> impl Iterator<Item = u64> {
    let cases = env_u64("RCU_DERIVE_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let first = env_u64("RCU_DERIVE_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    (0..cases).map(move |i| first.wrapping_add(i))
}

// ---------------------------------------------------------------------------------------------
// Randomness

/// SplitMix64: small, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with the given probability in percent.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// An index into `weights`, each chosen in proportion to its weight.
    fn weighted(&mut self, weights: &[usize]) -> usize {
        let mut roll = self.below(weights.iter().sum());
        for (i, &weight) in weights.iter().enumerate() {
            if roll < weight {
                return i;
            }
            roll -= weight;
        }
        unreachable!("the roll is below the sum of the weights")
    }
}

// ---------------------------------------------------------------------------------------------
// Source text that knows where its tokens are

/// A position as `proc_macro2` reports it: line from 1, column from 0, in characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pos {
    line: usize,
    column: usize,
}

impl fmt::Debug for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

impl From<LineColumn> for Pos {
    fn from(lc: LineColumn) -> Self {
        Pos { line: lc.line, column: lc.column }
    }
}

/// Where a token (or a run of tokens) starts and ends.
#[derive(Clone, Copy, Debug)]
struct Loc {
    start: Pos,
    end: Pos,
}

impl Loc {
    fn to(self, other: Loc) -> Loc {
        Loc { start: self.start, end: other.end }
    }
}

struct Src {
    text: String,
    pos: Pos,
}

impl Src {
    /// The text starts with a newline: `Span::call_site()` reports line 1, column 0 in tests,
    /// so no token of the input may sit there, or an unspanned error would pass for a spanned one.
    fn new() -> Self {
        let mut src = Src { text: String::new(), pos: Pos { line: 1, column: 0 } };
        src.raw("\n");
        src
    }

    fn raw(&mut self, text: &str) {
        for c in text.chars() {
            if c == '\n' {
                self.pos = Pos { line: self.pos.line + 1, column: 0 };
            } else {
                self.pos.column += 1;
            }
        }
        self.text.push_str(text);
    }

    /// Writes `text` and a space; returns where `text` is.
    fn tok(&mut self, text: &str) -> Loc {
        let start = self.pos;
        self.raw(text);
        let end = self.pos;
        self.raw(" ");
        Loc { start, end }
    }

    /// Where the next token will start.
    fn next(&self) -> Loc {
        let mut end = self.pos;
        end.column += 1;
        Loc { start: self.pos, end }
    }
}

// ---------------------------------------------------------------------------------------------
// What the derive must answer

/// One `compile_error!` the derive must emit.
#[derive(Clone)]
struct Expected {
    /// The rule broken, for the failure report.
    rule: &'static str,
    /// How the message starts.
    message: String,
    start: Pos,
    /// Where the span ends, when the oracle knows it exactly.
    end: Option<Pos>,
}

impl fmt::Debug for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {:?}..{:?} {:?}", self.rule, self.start, self.end, self.message)
    }
}

/// One `compile_error!` the derive emitted.
#[derive(Debug)]
struct Actual {
    message: String,
    start: Pos,
    end: Pos,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Plain,
    Pin,
    Rcu,
    RcuHead,
}

impl Kind {
    fn is_pinned(self) -> bool {
        matches!(self, Kind::Pin | Kind::Rcu)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Named,
    Tuple,
    Unit,
}

/// What a full expansion must contain.
#[derive(Debug)]
struct Model {
    ident: String,
    style: Style,
    /// Each field's name as written (`None` in a tuple struct) and its resolved kind.
    fields: Vec<(Option<String>, Kind)>,
    projection: String,
    projection_ref: String,
    view: String,
    pinned_drop: bool,
}

struct Case {
    seed: u64,
    source: String,
    errors: Vec<Expected>,
    /// `Some` when the derive must expand fully, `None` when it must emit only the stub.
    model: Option<Model>,
    /// The runtime crate's path every emitted impl must use, without spaces.
    krate: String,
}

impl Case {
    fn describe(&self) -> String {
        format!(
            "seed {:#x} (rerun: RCU_DERIVE_FUZZ_SEED={:#x} RCU_DERIVE_FUZZ_CASES=1)\nsource:{}\n\
             expected errors: {:#?}\nexpected expansion: {}",
            self.seed,
            self.seed,
            self.source,
            self.errors,
            if self.model.is_some() { "full" } else { "the stub" }
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The generator and its oracle

/// The `#[rcu_protected(..)]` options seen so far, as the derive must have understood them.
#[derive(Default)]
struct Options {
    project: Option<(String, Loc)>,
    project_ref: Option<(String, Loc)>,
    view: Option<(String, Loc)>,
    pinned_drop: bool,
    krate: Option<String>,
    packed: Option<Loc>,
}

impl Options {
    fn slot(&mut self, key: &str) -> &mut Option<(String, Loc)> {
        match key {
            "project" => &mut self.project,
            "project_ref" => &mut self.project_ref,
            _ => &mut self.view,
        }
    }
}

/// `name` without a leading `r#`.
fn unraw(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

struct Gen<'r> {
    rng: &'r mut Rng,
    src: Src,
    errors: Vec<Expected>,
}

impl Gen<'_> {
    fn error(&mut self, rule: &'static str, message: impl Into<String>, loc: Loc) {
        self.errors.push(Expected { rule, message: message.into(), start: loc.start, end: Some(loc.end) });
    }

    fn error_at_start(&mut self, rule: &'static str, message: impl Into<String>, start: Pos) {
        self.errors.push(Expected { rule, message: message.into(), start, end: None });
    }

    /// One attribute on the struct.
    fn container_attr(&mut self, options: &mut Options, written: &str) {
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
                let attr = self.rng.pick(&["rcu", "pin", "rcu_head"]);
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

    fn repr(&mut self, options: &mut Options) {
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
    fn rcu_protected_list(&mut self, options: &mut Options, written: &str) {
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
    fn option(&mut self, options: &mut Options, written: &str, stopped: bool) -> bool {
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
    fn type_name(&mut self, written: &str) -> String {
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
struct Param {
    name: String,
    loc: Loc,
    lifetime: bool,
}

/// Writes a random input and works out what the derive must answer.
fn generate(seed: u64) -> Case {
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

fn generated_name(chosen: &Option<(String, Loc)>, ident: &str, suffix: &str) -> String {
    match chosen {
        Some((name, _)) => unraw(name).to_owned(),
        None => format!("{ident}{suffix}"),
    }
}

/// `<'a: 'b, T: Clone = u8, const N: usize>` or nothing.
fn generics(g: &mut Gen<'_>) -> Vec<Param> {
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
fn where_clause(g: &mut Gen<'_>, params: &[Param]) -> String {
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
struct FieldHelpers {
    rcu: Option<Loc>,
    pin: Option<Loc>,
    rcu_head: Option<Loc>,
}

struct GenField {
    name: Option<String>,
    helpers: FieldHelpers,
}

fn field_list(g: &mut Gen<'_>, named: bool, params: &[Param]) -> Vec<GenField> {
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
fn field_attrs(g: &mut Gen<'_>) -> FieldHelpers {
    let mut helpers = FieldHelpers::default();
    let count = g.rng.weighted(&[30, 45, 18, 7]);
    for _ in 0..count {
        match g.rng.weighted(&[30, 14, 14, 2, 8, 8, 6]) {
            which @ 0..=2 => {
                let name = ["rcu", "pin", "rcu_head"][which];
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
                    _ => &mut helpers.rcu_head,
                };
                if slot.is_some() {
                    g.error("duplicate field attribute", format!("duplicate `#[{name}]` on one field"), attr);
                } else {
                    *slot = Some(attr);
                }
            }
            3 => {
                let attr = g.rng.pick(&["#[rcu_protected(view = V)]", "#[rcu_protected]"]);
                let loc = g.src.tok(attr);
                g.error(
                    "rcu_protected on a field",
                    "`#[rcu_protected(..)]` goes on the struct, not on a field",
                    loc,
                );
            }
            4 => {
                g.src.tok(g.rng.pick(&["#[cfg(unix)]", "#[cfg(all())]", "#[cfg(not(miri))]"]));
            }
            5 => {
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
fn field_type(g: &mut Gen<'_>, params: &[Param], helpers: &FieldHelpers) -> String {
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
    types[g.rng.below(types.len())].clone()
}

/// The oracle's reading of the helpers into kinds, with the errors of `valid.rs`.
fn resolve_kinds(g: &mut Gen<'_>, fields: &[GenField]) -> Vec<Kind> {
    let mut kinds = Vec::new();
    for field in fields {
        let h = &field.helpers;
        let kind = match (h.rcu, h.pin, h.rcu_head) {
            (Some(_), pin, head) => {
                if let Some(pin) = pin {
                    g.error("rcu with pin", "`#[rcu]` and `#[pin]` on one field", pin);
                }
                if let Some(head) = head {
                    g.error("rcu with rcu_head", "`#[rcu]` and `#[rcu_head]` on one field", head);
                }
                Kind::Rcu
            }
            (None, Some(pin), Some(_)) => {
                g.error("pin with rcu_head", "`#[pin]` and `#[rcu_head]` on one field", pin);
                Kind::RcuHead
            }
            (None, None, Some(_)) => Kind::RcuHead,
            (None, Some(_), None) => Kind::Pin,
            (None, None, None) => Kind::Plain,
        };
        kinds.push(kind);
    }
    let mut seen = false;
    for (field, kind) in fields.iter().zip(&mut kinds) {
        if *kind == Kind::RcuHead {
            if seen {
                let head = field.helpers.rcu_head.expect("a head field has the attribute");
                g.error("second rcu_head", "a second `#[rcu_head]` field", head);
                *kind = Kind::Plain;
            }
            seen = true;
        }
    }
    kinds
}

/// A name the oracle has seen taken.
struct Taken {
    /// Without `r#`.
    name: String,
    /// Who holds it, as the derive's messages say.
    holder: String,
    /// The name as the user wrote it, and where; `None` for names the user never wrote.
    written: Option<(String, Loc)>,
}

/// The error that stops the expansion: packed, or a name taken twice.
fn fatal_error(options: &Options, written: &str, ident_loc: Loc, params: &[Param]) -> Option<Expected> {
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

// ---------------------------------------------------------------------------------------------
// Running the derive and reading its output

/// Runs the derive, turning a panic into an `Err` with its message.
fn run_derive(source: &str) -> Result<TokenStream, String> {
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
fn compile_errors(file: &syn::File) -> Vec<Actual> {
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
fn mentions_compile_error(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "compile_error",
        TokenTree::Group(group) => mentions_compile_error(group.stream()),
        _ => false,
    })
}

/// The last segment of a path type, unraw.
fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.unraw().to_string()),
        _ => None,
    }
}

/// `N` of the `Field<N>` argument of the trait path's last segment, if it has one.
fn field_index(path: &syn::Path) -> Option<usize> {
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
fn field_indices_in(tokens: TokenStream, out: &mut Vec<usize>) {
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
fn declared_lifetimes(generics: &syn::Generics) -> BTreeSet<String> {
    generics.lifetimes().map(|param| param.lifetime.ident.to_string()).collect()
}

/// A lifetime declared by an associated item must not shadow one of its impl (E0496).
fn check_no_lifetime_shadowing(file: &syn::File) -> Result<(), String> {
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
fn check_errors(case: &Case, actual: &[Actual]) -> Result<(), String> {
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
fn check_expansion(case: &Case, model: &Model, file: &syn::File) -> Result<(), String> {
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
                (Kind::Plain | Kind::RcuHead, _, Type::Reference(r)) => r.mutability.is_some() == mutable,
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
    let head = model.fields.iter().position(|(_, kind)| *kind == Kind::RcuHead);
    let heads: Vec<&syn::ItemImpl> =
        by_trait.iter().filter(|(name, _, _)| name == "HasRcuHead").map(|(_, _, imp)| *imp).collect();
    match (head, heads.as_slice()) {
        (None, []) => {}
        (Some(head), [imp]) => {
            let mut indices = Vec::new();
            field_indices_in(imp.to_token_stream(), &mut indices);
            if indices.is_empty() || indices.iter().any(|&n| n != head) {
                return Err(format!("`HasRcuHead` goes through fields {indices:?}, the head is {head}"));
            }
        }
        (head, heads) => return Err(format!("{} `HasRcuHead` impls for head {head:?}", heads.len())),
    }
    for trait_name in ["RcuProtected", "Unpin"] {
        if count_of(trait_name) != 1 {
            return Err(format!("{} `{trait_name}` impls", count_of(trait_name)));
        }
    }
    let drop_impls = count_of("Drop");
    let guards = count_of("UseRcuProtectedPinnedDropInsteadOfDrop");
    if model.pinned_drop != (drop_impls == 1) || model.pinned_drop == (guards == 1) || guards > 1 {
        return Err(format!(
            "PinnedDrop {}: {drop_impls} `Drop` impls, {guards} guard impls",
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
fn check_krate(case: &Case, imp: &syn::ItemImpl) -> Result<(), String> {
    let (_, path, _) = imp.trait_.as_ref().expect("a trait impl");
    let path = path.to_token_stream().to_string().replace(' ', "");
    if path == format!("{}::RcuProtected", case.krate) {
        Ok(())
    } else {
        Err(format!("`RcuProtected` is reached as `{path}`, not through `{}`", case.krate))
    }
}

/// The stub a fatal error comes with: the `RcuProtected` impl alone, all `Unexpanded`.
fn check_stub(case: &Case, file: &syn::File) -> Result<(), String> {
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

fn check_case(case: &Case) -> Result<(), String> {
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

// ---------------------------------------------------------------------------------------------
// The properties

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
