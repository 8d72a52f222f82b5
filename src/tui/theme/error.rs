//! Theme errors: each names the file (or the theme asked for) and what is wrong, so a user can fix
//! their theme without reading the source.

use std::io;
use std::path::PathBuf;

/// A theme that cannot be loaded. Unknown keys are not errors (they are warnings in
/// [`Loaded::warnings`](super::Loaded::warnings)); everything here stops the theme from loading.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// A user theme file exists but cannot be read (permissions, not UTF-8, a directory…).
    #[error("{}: cannot read the theme file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}: line {line}, column {column}: invalid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Line of the error, 1-based.
        line: usize,
        /// Column of the error (in characters), 1-based.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A key has a value of the wrong kind: a bad colour, a non-boolean `bold`, an empty palette…
    #[error("{}: {key}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The dotted key, e.g. `branch.failed.fg` or `palette.branches[2]`.
        key: String,
        /// What is wrong with its value.
        message: String,
    },
    /// `extends` names a theme that is not built in.
    #[error("{}: extends = {name:?}: there is no built-in theme of that name (built-ins: {builtins})", path.display())]
    UnknownBase {
        /// The file.
        path: PathBuf,
        /// The name it gave.
        name: String,
        /// The built-in themes, comma-separated.
        builtins: String,
    },
    /// No built-in or user theme has the name asked for.
    #[error("no theme named {name:?} (available: {available})")]
    UnknownTheme {
        /// The name asked for.
        name: String,
        /// The themes there are, comma-separated.
        available: String,
    },
}

/// The result of theme operations.
pub type Result<T, E = ThemeError> = std::result::Result<T, E>;

/// Line and column (1-based; the column counts characters) of a byte offset in `text`.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..text.floor_char_boundary(offset.min(text.len()))).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
