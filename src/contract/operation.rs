//! Lifecycle operation names: the four the platform defines, and any other name a team puts in an
//! annotation (`lifecycle.suspend`, `lifecycle.backup`, …), which must work without code changes.

use std::fmt;

/// An operation name such as `lifecycle.upsert`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Operation(String);

/// Create or update a tenant environment.
pub const UPSERT: &str = "lifecycle.upsert";
/// Move a tenant out of a region (export to object storage).
pub const MIGRATE_OUT: &str = "lifecycle.migrate-out";
/// Move a tenant into a region (import from object storage).
pub const MIGRATE_IN: &str = "lifecycle.migrate-in";
/// A team's ad-hoc admin process (12-factor XII).
pub const TEAM_OPERATION: &str = "team.operation";

/// The four operations the platform defines (any other name is a team's own, and works too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownOperation {
    /// `lifecycle.upsert`: create or update a tenant environment.
    Upsert,
    /// `lifecycle.migrate-out`: move a tenant out of a region.
    MigrateOut,
    /// `lifecycle.migrate-in`: move a tenant into a region.
    MigrateIn,
    /// `team.operation`: a team's ad-hoc admin process, on the Jobs the operator picks.
    TeamOperation,
}

impl KnownOperation {
    /// All four, in the order the console shows them.
    pub const ALL: [KnownOperation; 4] =
        [KnownOperation::Upsert, KnownOperation::MigrateOut, KnownOperation::MigrateIn, KnownOperation::TeamOperation];

    /// Its name (`lifecycle.upsert`, …).
    pub const fn name(self) -> &'static str {
        match self {
            KnownOperation::Upsert => UPSERT,
            KnownOperation::MigrateOut => MIGRATE_OUT,
            KnownOperation::MigrateIn => MIGRATE_IN,
            KnownOperation::TeamOperation => TEAM_OPERATION,
        }
    }
}

impl fmt::Display for KnownOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<KnownOperation> for Operation {
    fn from(known: KnownOperation) -> Operation {
        // The four names are valid by construction; a test checks them.
        Operation(known.name().to_string())
    }
}

/// Why a string is not an operation name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOperation {
    /// Nothing there.
    #[error("empty operation name")]
    Empty,
    /// Longer than a label value may be (operations become the `tlc.dev/operation` label).
    #[error("operation name \"{0}\" is longer than 63 characters")]
    TooLong(String),
    /// Characters outside `[a-z0-9.-]`, or not starting and ending with a letter or digit.
    #[error(
        "\"{0}\" is not an operation name (lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)"
    )]
    Malformed(String),
}

impl Operation {
    /// Checks and wraps an operation name (surrounding whitespace is not allowed here; annotation
    /// parsing trims it first).
    pub fn new(name: &str) -> Result<Self, InvalidOperation> {
        if name.is_empty() {
            return Err(InvalidOperation::Empty);
        }
        if name.len() > 63 {
            return Err(InvalidOperation::TooLong(name.to_string()));
        }
        let b = name.as_bytes();
        let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        let ok = edge(b[0])
            && edge(b[b.len() - 1])
            && b.iter().all(|&c| edge(c) || c == b'.' || c == b'-')
            && !name.contains("..");
        if ok { Ok(Operation(name.to_string())) } else { Err(InvalidOperation::Malformed(name.to_string())) }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Which of the platform's four operations this is, if it is one.
    pub fn known(&self) -> Option<KnownOperation> {
        KnownOperation::ALL.into_iter().find(|k| k.name() == self.0)
    }

    /// Whether this operation moves a tenant out of its region (the console asks for the tenant's
    /// name to be typed before running it).
    pub fn is_destructive(&self) -> bool {
        self.known() == Some(KnownOperation::MigrateOut)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Operation {
    type Error = InvalidOperation;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Operation::new(&s)
    }
}

impl From<Operation> for String {
    fn from(o: Operation) -> String {
        o.0
    }
}

impl std::str::FromStr for Operation {
    type Err = InvalidOperation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_operations_are_valid_names_and_convert_both_ways() {
        for known in KnownOperation::ALL {
            let op = Operation::from(known);
            assert_eq!(Ok(op.clone()), Operation::new(known.name()), "{known}");
            assert_eq!(op.known(), Some(known));
        }
        assert_eq!(Operation::new("lifecycle.backup").map(|o| o.known()), Ok(None));
    }

    #[test]
    fn names() {
        let known = KnownOperation::ALL.map(KnownOperation::name);
        for ok in known.into_iter().chain(["lifecycle.suspend", "backup", "a", "x1.y-2"]) {
            assert_eq!(Operation::new(ok).map(|o| o.to_string()), Ok(ok.to_string()), "{ok}");
        }
        assert_eq!(Operation::new(""), Err(InvalidOperation::Empty));
        for bad in ["Lifecycle.upsert", "lifecycle upsert", "lifecycle.upsert;", ".upsert", "upsert.", "a..b", "ü"] {
            assert!(matches!(Operation::new(bad), Err(InvalidOperation::Malformed(_))), "{bad}");
        }
        assert!(matches!(Operation::new(&"a".repeat(64)), Err(InvalidOperation::TooLong(_))));
        assert!(Operation::new(MIGRATE_OUT).expect("ok").is_destructive());
        assert!(!Operation::new(MIGRATE_IN).expect("ok").is_destructive());
    }
}
