//! The lifecycle annotation: a comma-separated list of operation names on a Job. Parsing never
//! fails: it returns the operations it could read and the problems it found, and a Job with any
//! problem in its annotation is listed with that problem and never run (a typo must not make a
//! team's job silently run for the wrong operations).

use super::operation::{InvalidOperation, Operation};

/// What is wrong with an annotation value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnnotationProblem {
    /// The value is empty or only whitespace.
    #[error("the annotation is empty: it must list at least one operation")]
    Empty,
    /// An entry between commas is empty (`a,,b`, a trailing comma).
    #[error("entry {position} of the annotation is empty (a stray comma?)")]
    EmptyEntry {
        /// 1-based position of the entry.
        position: usize,
    },
    /// An entry is not an operation name.
    #[error("entry {position} of the annotation: {reason}")]
    BadEntry {
        /// 1-based position of the entry.
        position: usize,
        /// Why.
        reason: InvalidOperation,
    },
    /// The same operation is listed twice.
    #[error("operation \"{0}\" is listed twice")]
    Duplicate(String),
}

/// The result of reading an annotation value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedAnnotation {
    /// The operations read, in the order given, without duplicates.
    pub operations: Vec<Operation>,
    /// Everything wrong with the value.
    pub problems: Vec<AnnotationProblem>,
}

/// Reads an annotation value such as `"lifecycle.upsert, lifecycle.migrate-in"`; whitespace around
/// names is ignored.
pub fn parse(value: &str) -> ParsedAnnotation {
    let mut parsed = ParsedAnnotation::default();
    if value.trim().is_empty() {
        parsed.problems.push(AnnotationProblem::Empty);
        return parsed;
    }
    for (i, entry) in value.split(',').enumerate() {
        let name = entry.trim();
        let position = i + 1;
        if name.is_empty() {
            parsed.problems.push(AnnotationProblem::EmptyEntry { position });
            continue;
        }
        match Operation::new(name) {
            Ok(op) if parsed.operations.contains(&op) => {
                parsed.problems.push(AnnotationProblem::Duplicate(op.to_string()))
            }
            Ok(op) => parsed.operations.push(op),
            Err(reason) => parsed.problems.push(AnnotationProblem::BadEntry { position, reason }),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(p: &ParsedAnnotation) -> Vec<&str> {
        p.operations.iter().map(Operation::as_str).collect()
    }

    #[test]
    fn lists_with_whitespace() {
        let p = parse(" lifecycle.upsert ,lifecycle.migrate-in\t");
        assert_eq!(ops(&p), vec!["lifecycle.upsert", "lifecycle.migrate-in"]);
        assert!(p.problems.is_empty());
        assert_eq!(ops(&parse("team.operation")), vec!["team.operation"]);
    }

    #[test]
    fn problems_are_reported_not_raised() {
        assert_eq!(parse("  ").problems, vec![AnnotationProblem::Empty]);
        assert_eq!(parse("a,,b").problems, vec![AnnotationProblem::EmptyEntry { position: 2 }]);
        assert_eq!(parse("a,").problems, vec![AnnotationProblem::EmptyEntry { position: 2 }]);
        assert_eq!(parse("a,a").problems, vec![AnnotationProblem::Duplicate("a".into())]);
        let semi = parse("lifecycle.upsert; lifecycle.migrate-out");
        assert!(semi.operations.is_empty());
        assert_eq!(semi.problems.len(), 1);
        assert_eq!(
            semi.problems[0].to_string(),
            "entry 1 of the annotation: \"lifecycle.upsert; lifecycle.migrate-out\" is not an operation name (lowercase letters, digits, '.' and '-', starting and ending with a letter or digit)"
        );
    }
}
