//! Output for the headless commands: aligned tables for people, JSON for scripts.

use std::io::{IsTerminal, Write};

/// `--output` choices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table.
    #[default]
    Table,
    /// JSON.
    Json,
    /// A wider table (more columns, problems spelled out).
    Wide,
}

/// A table built row by row and printed with aligned columns.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Table { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }

    /// Adds a row (cells are sanitised text already).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders it: columns separated by two spaces, the last one not padded.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                if i + 1 == columns {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(widths[i] - cell.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Prints a serialisable value as pretty JSON on stdout (an encoding failure goes to stderr, so
/// stdout never carries something that is not the JSON asked for).
pub fn print_json<T: serde::Serialize>(value: &T) {
    let _ = writeln!(std::io::stdout(), "{}", json_text(value));
}

/// A value as pretty JSON (what `-o json` prints); a value that cannot be encoded says so instead.
pub fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot encode the output as JSON: {e}\"}}"))
}

/// Whether stdout should get colours: a terminal, and `NO_COLOR` unset.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Text with control characters neutralised, for values that come from the cluster (names,
/// annotations, messages): untrusted like log text.
pub fn safe(text: &str) -> String {
    crate::logs::sanitize::strip(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["NAME", "ID"]);
        t.row(vec!["acme-prod".into(), "1".into()]);
        t.row(vec!["x".into(), "22".into()]);
        assert_eq!(t.render(), "NAME       ID\nacme-prod  1\nx          22\n");
        assert_eq!(safe("a\u{1b}]0;x\u{7}b"), crate::logs::sanitize::strip("a\u{1b}]0;x\u{7}b".as_bytes()));
    }
}
