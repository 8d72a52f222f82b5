//! The flat settings the file and the flags write into, with where each value came from, and the
//! schema that says which keys exist and what type each has.

use std::collections::HashMap;
use std::ops::Range;

/// The type a key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// An array of strings.
    StrList,
    /// An integer.
    Int,
    /// A boolean.
    Bool,
}

impl Kind {
    /// How an error message names it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Str => "a string",
            Kind::StrList => "an array of strings",
            Kind::Int => "an integer",
            Kind::Bool => "a boolean (true or false)",
        }
    }
}

/// Every key: table, name, type.
pub const SCHEMA: &[(&str, &[(&str, Kind)])] = &[
    ("cluster", &[("kubeconfig", Kind::Str), ("contexts", Kind::StrList)]),
    ("lifecycle", &[("annotation", Kind::Str), ("namespaces", Kind::StrList), ("mount_dir", Kind::Str)]),
    (
        "tenants",
        &[
            ("source", Kind::Str),
            ("namespace", Kind::Str),
            ("selector", Kind::Str),
            ("id_label", Kind::Str),
            ("key", Kind::Str),
            ("directory", Kind::Str),
        ],
    ),
    (
        "run",
        &[
            ("engine", Kind::Str),
            ("concurrency", Kind::Int),
            ("read_only", Kind::Bool),
            ("argo_namespace", Kind::Str),
            ("workflow_template", Kind::Str),
            ("records_namespace", Kind::Str),
        ],
    ),
    (
        "retention",
        &[
            ("older_than", Kind::Str),
            ("keep_last", Kind::Int),
            ("records_older_than", Kind::Str),
            ("regions", Kind::StrList),
        ],
    ),
    ("ui", &[("theme", Kind::Str), ("scrollback", Kind::Int), ("log_streams", Kind::Int), ("bundle_dir", Kind::Str)]),
];

/// A value as read, before validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Raw {
    /// A string.
    Str(String),
    /// Strings.
    StrList(Vec<String>),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// Where a setting's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The user's file, at this byte range of the value.
    File(Range<usize>),
    /// A flag.
    Flag(String),
}

/// Every setting by dotted key, with its source.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    values: HashMap<String, (Raw, Source)>,
}

impl Settings {
    /// Sets a value.
    pub fn set(&mut self, key: &str, value: Raw, source: Source) {
        self.values.insert(key.to_string(), (value, source));
    }

    /// Where a key's value came from.
    pub fn source(&self, key: &str) -> Source {
        self.values.get(key).map_or(Source::Default, |(_, s)| s.clone())
    }

    /// A string setting ("" when unset).
    pub fn str(&self, key: &str) -> String {
        match self.values.get(key) {
            Some((Raw::Str(s), _)) => s.clone(),
            _ => String::new(),
        }
    }

    /// A list setting (empty when unset).
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.values.get(key) {
            Some((Raw::StrList(l), _)) => l.clone(),
            _ => Vec::new(),
        }
    }

    /// An integer setting (0 when unset).
    pub fn int(&self, key: &str) -> i64 {
        match self.values.get(key) {
            Some((Raw::Int(i), _)) => *i,
            _ => 0,
        }
    }

    /// A boolean setting (false when unset).
    pub fn bool(&self, key: &str) -> bool {
        matches!(self.values.get(key), Some((Raw::Bool(true), _)))
    }
}

/// The closest known name within an edit distance of 2, for "did you mean".
pub fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known.map(|k| (edit_distance(name, k), k)).filter(|(d, _)| *d <= 2).min_by_key(|(d, _)| *d).map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let keys = ["annotation", "namespaces", "mount_dir"];
        assert_eq!(suggest("anotation", keys.iter().copied()), Some("annotation"));
        assert_eq!(suggest("mountdir", keys.iter().copied()), Some("mount_dir"));
        assert_eq!(suggest("something", keys.iter().copied()), None);
    }
}
