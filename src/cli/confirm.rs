//! Confirmation of mutations: on a terminal the operator answers (typing the tenant name for
//! destructive or multi-tenant requests); without a terminal, `--yes` is required; `--read-only`
//! refuses every mutation.

use std::io::{BufRead, IsTerminal, Write};

use crate::lifecycle::error::Error;

/// What a mutation needs before it may go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    /// A yes/no question.
    YesNo(String),
    /// The operator must type `expected` (a tenant name, or a count).
    Type {
        /// The question.
        prompt: String,
        /// What must be typed.
        expected: String,
    },
}

/// Decides whether a mutation may run: refused in read-only mode, allowed with `--yes`, asked on
/// a terminal, refused without one. `action` names the mutation in messages.
pub fn confirm(action: &str, ask: &Ask, yes: bool, read_only: bool) -> Result<(), Error> {
    if read_only {
        return Err(Error::Refused(format!("read-only mode: refusing to {action}")));
    }
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Refused(format!(
            "refusing to {action} without confirmation: there is no terminal to ask on; pass --yes"
        )));
    }
    let (prompt, expected) = match ask {
        Ask::YesNo(p) => (format!("{p} [y/N] "), None),
        Ask::Type { prompt, expected } => (format!("{prompt} "), Some(expected.clone())),
    };
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{prompt}");
    let _ = stderr.flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).map_err(|e| Error::Refused(format!("cannot read the answer: {e}")))?;
    let answer = answer.trim();
    let ok = match expected {
        None => matches!(answer, "y" | "Y" | "yes" | "YES" | "Yes"),
        Some(e) => answer == e,
    };
    if ok { Ok(()) } else { Err(Error::Refused(format!("not confirmed: did not {action}"))) }
}
