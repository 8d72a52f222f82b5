//! Syntax tree of a parsed script: what the parser builds once and the evaluator walks many times.

use super::arith::ArithExpr;

/// A sequence of and-or lists separated by `;` or newlines.
#[derive(Clone, Debug, Default)]
pub(super) struct List(pub Vec<AndOr>);

/// `a && b || c`: the first pipeline and the connected rest.
#[derive(Clone, Debug)]
pub(super) struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Connector, Pipeline)>,
}

/// The operator joining two pipelines of an and-or list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Connector {
    And,
    Or,
}

/// One command, possibly negated with `!` (real pipes are not supported).
#[derive(Clone, Debug)]
pub(super) struct Pipeline {
    pub negated: bool,
    pub command: Command,
}

/// A simple command or a compound command with its redirections.
#[derive(Clone, Debug)]
pub(super) enum Command {
    Simple(SimpleCommand),
    Compound(Box<Compound>, Vec<Redirect>),
}

/// The compound commands of the subset.
#[derive(Clone, Debug)]
pub(super) enum Compound {
    Group(List),
    If { branches: Vec<(List, List)>, otherwise: Option<List> },
    Loop { until: bool, cond: List, body: List },
    For { var: String, words: Option<Vec<Word>>, body: List, line: u32 },
    Case { subject: Word, arms: Vec<CaseArm>, line: u32 },
}

/// `pat1|pat2) body ;;`
#[derive(Clone, Debug)]
pub(super) struct CaseArm {
    pub patterns: Vec<Word>,
    pub body: List,
}

/// Assignments, words and redirections of one simple command.
#[derive(Clone, Debug)]
pub(super) struct SimpleCommand {
    pub assigns: Vec<Assign>,
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    pub line: u32,
}

/// `NAME=value`.
#[derive(Clone, Debug)]
pub(super) struct Assign {
    pub name: String,
    pub value: Word,
}

/// `fd>&target` with fd and target in 1..=2 (the only redirections of the subset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Redirect {
    pub fd: u8,
    pub target: u8,
}

/// A shell word: a sequence of literal and expansion parts.
#[derive(Clone, Debug, Default)]
pub(super) struct Word {
    pub parts: Vec<Part>,
    /// False for declaration arguments such as `export x=$y`, which are not field-split.
    pub split: bool,
}

/// One piece of a word.
#[derive(Clone, Debug)]
pub(super) enum Part {
    /// Literal text; `quoted` when it came from quotes or a backslash escape.
    Lit { text: String, quoted: bool },
    /// `$x`, `${x...}`.
    Param { param: Param, op: ParamOp, quoted: bool },
    /// `$(( ... ))`.
    Arith { arith: Box<Arith>, quoted: bool },
}

/// Which parameter an expansion names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Param {
    Var(String),
    Positional(usize),
    Zero,
    Count,
    Status,
    At,
    Star,
}

/// The operator of a `${...}` expansion.
#[derive(Clone, Debug)]
pub(super) enum ParamOp {
    None,
    Length,
    Default { colon: bool, word: Word },
    Assign { colon: bool, word: Word },
    Alternative { colon: bool, word: Word },
    Error { colon: bool, word: Word },
    TrimPrefix { longest: bool, pattern: Word },
    TrimSuffix { longest: bool, pattern: Word },
}

/// An arithmetic expansion: its source parts, and when it has no inner expansions, the
/// expression parsed once (or the error it will report when evaluated).
#[derive(Clone, Debug)]
pub(super) struct Arith {
    pub parts: Vec<Part>,
    pub text: String,
    pub parsed: Option<Result<ArithExpr, String>>,
}

impl Word {
    /// The literal text of a word made of a single unquoted literal (keywords, names).
    pub fn plain(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Lit { text, quoted: false }] => Some(text),
            _ => None,
        }
    }

    /// A word that is one quoted literal (used for argv given directly, without a shell).
    pub fn literal(text: &str) -> Word {
        Word { parts: vec![Part::Lit { text: text.to_string(), quoted: true }], split: true }
    }
}
