//! Audit: every trigger, cancel and retry is recorded twice — as a Kubernetes Event in the cluster
//! (who, what, which tenant, the changeset's digest), so that anyone with `kubectl get events` sees
//! it, and as a line in a local JSONL history in the user's data dir, which the console's
//! `:history` shows. A failure to record is reported to the operator, never silently dropped.

pub mod auditor;
pub mod event;
pub mod history;
pub mod record;

use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// What was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditAction {
    /// An operation was triggered (a new batch).
    Trigger,
    /// A batch's unfinished branches were cancelled.
    Cancel,
    /// A batch's failed branches were retried.
    Retry,
}

impl AuditAction {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Trigger => "trigger",
            AuditAction::Cancel => "cancel",
            AuditAction::Retry => "retry",
        }
    }

    /// The Event reason.
    pub fn reason(self) -> &'static str {
        match self {
            AuditAction::Trigger => "LifecycleTriggered",
            AuditAction::Cancel => "LifecycleCancelled",
            AuditAction::Retry => "LifecycleRetried",
        }
    }
}

/// One audited action.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    /// When.
    pub at: Timestamp,
    /// Who: the local user and the kube context (`alice via eu-west`).
    pub who: String,
    /// What.
    pub action: AuditAction,
    /// The batch.
    pub batch_id: String,
    /// Its region.
    pub region: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant name.
    pub tenant_name: String,
    /// The operation.
    pub operation: String,
    /// `sha256:…` of the changeset the batch runs with.
    pub changeset_digest: String,
    /// The branches concerned (`namespace/job`).
    pub jobs: Vec<String>,
    /// How it went: `ok`, or the error.
    pub outcome: String,
}

impl AuditRecord {
    /// The one-line summary used as the Event message and in `:history`.
    pub fn summary(&self) -> String {
        format!(
            "{} {} {} for tenant {} ({}) in {} by {}: {} branch(es), changeset {}",
            self.action.as_str(),
            self.operation,
            self.batch_id,
            self.tenant_name,
            self.tenant_id,
            self.region,
            self.who,
            self.jobs.len(),
            self.changeset_digest
        )
    }
}

/// `sha256:HEX` of a changeset's text.
pub fn changeset_digest(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Who is acting: `$USER` (or `$USERNAME`) and the kube context, e.g. `alice via eu-west`.
pub fn actor(context: &str) -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("{user} via {context}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_of_the_text() {
        assert_eq!(changeset_digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_ne!(changeset_digest("a: 1\n"), changeset_digest("a: 2\n"));
    }
}
