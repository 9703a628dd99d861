//! What the derive must answer: the expected errors and the model of a full expansion.

use super::*;

/// One `compile_error!` the derive must emit.
#[derive(Clone)]
pub(super) struct Expected {
    /// The rule broken, for the failure report.
    pub(super) rule: &'static str,
    /// How the message starts.
    pub(super) message: String,
    pub(super) start: Pos,
    /// Where the span ends, when the oracle knows it exactly.
    pub(super) end: Option<Pos>,
}

impl fmt::Debug for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {:?}..{:?} {:?}", self.rule, self.start, self.end, self.message)
    }
}

/// One `compile_error!` the derive emitted.
#[derive(Debug)]
pub(super) struct Actual {
    pub(super) message: String,
    pub(super) start: Pos,
    pub(super) end: Pos,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Plain,
    Pin,
    Rcu,
    RcuHead,
    RcuLinks,
}

impl Kind {
    pub(super) fn is_pinned(self) -> bool {
        matches!(self, Kind::Pin | Kind::Rcu)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Style {
    Named,
    Tuple,
    Unit,
}

/// What a full expansion must contain.
#[derive(Debug)]
pub(super) struct Model {
    pub(super) ident: String,
    pub(super) style: Style,
    /// Each field's name as written (`None` in a tuple struct) and its resolved kind.
    pub(super) fields: Vec<(Option<String>, Kind)>,
    pub(super) projection: String,
    pub(super) projection_ref: String,
    pub(super) view: String,
    pub(super) pinned_drop: bool,
}

pub(super) struct Case {
    pub(super) seed: u64,
    pub(super) source: String,
    pub(super) errors: Vec<Expected>,
    /// `Some` when the derive must expand fully, `None` when it must emit only the stub.
    pub(super) model: Option<Model>,
    /// The runtime crate's path every emitted impl must use, without spaces.
    pub(super) krate: String,
}

impl Case {
    pub(super) fn describe(&self) -> String {
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
