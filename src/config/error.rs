//! Configuration errors: each names where the bad value is — the file, line, column and key, or
//! the flag — and what is wrong with it.

use std::fmt;
use std::path::PathBuf;

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A configuration file, at a line and column (1-based).
    File {
        /// The file.
        path: PathBuf,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
    },
    /// A command-line flag, e.g. `--concurrency`.
    Flag(String),
    /// No particular place (e.g. a file that cannot be read).
    Path(PathBuf),
}

/// A configuration error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where.
    pub origin: Origin,
    /// The key, as a dotted path (`run.concurrency`), when there is one.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::File { path, line, column } => {
                write!(f, "config {}: line {line}, column {column}: ", path.display())?
            }
            Origin::Flag(flag) => write!(f, "{flag}: ")?,
            Origin::Path(path) => write!(f, "config {}: ", path.display())?,
        }
        if let (Some(key), Origin::File { .. } | Origin::Path(_)) = (&self.key, &self.origin) {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Line and column (1-based) of a byte offset in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
