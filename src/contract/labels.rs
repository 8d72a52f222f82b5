//! The labels and annotations every object the console creates carries, whichever engine created
//! it. Branch pods are found again by these labels alone: that is how any console re-attaches to a
//! batch it did not start, or one that outlived the terminal that started it.

use std::collections::BTreeMap;

use super::engine::Engine;

/// The batch (one tenant × one operation) a branch belongs to.
pub const BATCH_ID: &str = "tlc.dev/batch-id";
/// The tenant environment id.
pub const TENANT_ID: &str = "tlc.dev/tenant-id";
/// The operation.
pub const OPERATION: &str = "tlc.dev/operation";
/// The source Job's name (its namespace is the pod's).
pub const JOB: &str = "tlc.dev/job";
/// The attempt number of the branch (1 for the first run; retries count up).
pub const ATTEMPT: &str = "tlc.dev/attempt";
/// Which engine created it: `direct` or `argo`.
pub const ENGINE: &str = "tlc.dev/engine";
/// Standard marker of the managing tool.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// The managing tool's name.
pub const MANAGER: &str = "tlc";

/// Annotation: the source Job as `namespace/name`.
pub const JOB_REF: &str = "tlc.dev/job-ref";
/// Annotation: the tenant's name (for display; the id is the label).
pub const TENANT_NAME: &str = "tlc.dev/tenant-name";
/// Annotation: the region the batch runs in.
pub const REGION: &str = "tlc.dev/region";
/// Annotation: the migration a batch is half of (the id of its migrate-out batch).
pub const MIGRATION: &str = "tlc.dev/migration";
/// Annotation: the region a migration moves the tenant to.
pub const MIGRATION_TARGET: &str = "tlc.dev/migration-target";

/// Annotation: who cancelled the branch (`alice via eu-west`); its pod is stopped, not deleted.
pub const CANCELLED_BY: &str = "tlc.dev/cancelled-by";
/// Annotation: when the branch was cancelled (RFC 3339).
pub const CANCELLED_AT: &str = "tlc.dev/cancelled-at";

/// Labels of Job templates that would let the Job controller adopt (and, for a suspended Job,
/// delete) our branch pods; the bridge never copies them.
pub const JOB_CONTROLLER_LABELS: [&str; 4] =
    ["controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"];

/// The migration a batch belongs to: both halves carry it, so any console (not only the one that
/// started the migration) shows the migrate-out and migrate-in batches as one migration.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MigrationLink {
    /// The migration's id: its migrate-out batch's id.
    pub id: String,
    /// The region the tenant moves to (the source is the migrate-out batch's region).
    pub target: String,
}

/// Who and what a branch is, as labels and annotations say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchIdentity {
    /// Batch id.
    pub batch_id: String,
    /// Tenant environment id.
    pub tenant_id: String,
    /// Tenant name (annotation only).
    pub tenant_name: String,
    /// Operation.
    pub operation: String,
    /// Source Job namespace.
    pub job_namespace: String,
    /// Source Job name.
    pub job_name: String,
    /// Attempt, from 1.
    pub attempt: u32,
    /// The engine that made it; `None` when the label is missing or names an engine this tlc
    /// does not know (a newer one's): such a pod is still a branch, shown and followed.
    pub engine: Option<Engine>,
    /// Region.
    pub region: String,
    /// The migration it is half of, if any.
    pub migration: Option<MigrationLink>,
}

impl BranchIdentity {
    /// The labels to put on the branch's pod and ConfigMap.
    pub fn labels(&self) -> BTreeMap<String, String> {
        [
            (BATCH_ID, self.batch_id.clone()),
            (TENANT_ID, self.tenant_id.clone()),
            (OPERATION, self.operation.clone()),
            (JOB, self.job_name.clone()),
            (ATTEMPT, self.attempt.to_string()),
            (MANAGED_BY, MANAGER.to_string()),
        ]
        .into_iter()
        .chain(self.engine.map(|e| (ENGINE, e.to_string())))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The annotations to put on the branch's pod and ConfigMap.
    pub fn annotations(&self) -> BTreeMap<String, String> {
        [
            (JOB_REF, format!("{}/{}", self.job_namespace, self.job_name)),
            (TENANT_NAME, self.tenant_name.clone()),
            (REGION, self.region.clone()),
        ]
        .into_iter()
        .chain(self.migration.iter().flat_map(|m| [(MIGRATION, m.id.clone()), (MIGRATION_TARGET, m.target.clone())]))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Reads the identity back from an object's labels and annotations (and its namespace); `None`
    /// when the object is not a branch.
    pub fn from_metadata(
        namespace: &str,
        labels: &BTreeMap<String, String>,
        annotations: &BTreeMap<String, String>,
    ) -> Option<Self> {
        let get = |k: &str| labels.get(k).cloned();
        let job_ref = annotations.get(JOB_REF).and_then(|r| r.split_once('/'));
        Some(BranchIdentity {
            batch_id: get(BATCH_ID)?,
            tenant_id: get(TENANT_ID).unwrap_or_default(),
            tenant_name: annotations.get(TENANT_NAME).cloned().unwrap_or_default(),
            operation: get(OPERATION).unwrap_or_default(),
            job_namespace: job_ref.map(|(ns, _)| ns.to_string()).unwrap_or_else(|| namespace.to_string()),
            job_name: job_ref.map(|(_, n)| n.to_string()).or_else(|| get(JOB)).unwrap_or_default(),
            attempt: get(ATTEMPT).and_then(|a| a.parse().ok()).unwrap_or(1),
            engine: get(ENGINE).and_then(|e| e.parse().ok()),
            region: annotations.get(REGION).cloned().unwrap_or_default(),
            migration: match (annotations.get(MIGRATION), annotations.get(MIGRATION_TARGET)) {
                (Some(id), Some(target)) => Some(MigrationLink { id: id.clone(), target: target.clone() }),
                _ => None,
            },
        })
    }
}

/// The label selector matching every branch of a batch.
pub fn batch_selector(batch_id: &str) -> String {
    format!("{BATCH_ID}={batch_id}")
}

/// The selector term of everything tlc manages (`app.kubernetes.io/managed-by=tlc`).
pub const MANAGED_BY_SELECTOR: &str = "app.kubernetes.io/managed-by=tlc";

/// The label selector matching every branch of every batch.
pub fn all_branches_selector() -> String {
    format!("{BATCH_ID},{MANAGED_BY}={MANAGER}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_round_trips_through_metadata() {
        let id = BranchIdentity {
            batch_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
            tenant_id: "799a8abb-653a-41c9-bec7-a47dba840eba".into(),
            tenant_name: "acme-prod".into(),
            operation: "lifecycle.upsert".into(),
            job_namespace: "identity".into(),
            job_name: "identity-realm".into(),
            attempt: 2,
            engine: Some(Engine::Direct),
            region: "eu-west".into(),
            migration: None,
        };
        let back = BranchIdentity::from_metadata("identity", &id.labels(), &id.annotations()).expect("a branch");
        assert_eq!(back, id);
        let half = BranchIdentity {
            migration: Some(MigrationLink { id: id.batch_id.clone(), target: "us-east".into() }),
            ..id.clone()
        };
        let back = BranchIdentity::from_metadata("identity", &half.labels(), &half.annotations()).expect("a branch");
        assert_eq!(back.migration, half.migration, "the migration link survives the round trip");
        for (k, v) in id.labels() {
            kube_grammar::selector::validate_label_key(&k).expect("key");
            kube_grammar::selector::validate_label_value(&v).expect("value");
        }
        assert!(BranchIdentity::from_metadata("x", &BTreeMap::new(), &BTreeMap::new()).is_none());
    }

    #[test]
    fn a_pod_labelled_by_an_engine_this_tlc_does_not_know_is_still_a_branch() {
        let id = BranchIdentity {
            batch_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
            tenant_id: "t".into(),
            tenant_name: "acme-prod".into(),
            operation: "lifecycle.upsert".into(),
            job_namespace: "identity".into(),
            job_name: "identity-realm".into(),
            attempt: 1,
            engine: Some(Engine::Argo),
            region: "eu-west".into(),
            migration: None,
        };
        assert_eq!(id.labels().get(ENGINE).map(String::as_str), Some("argo"), "the label value is the engine's name");
        let mut labels = id.labels();
        labels.insert(ENGINE.into(), "spark".into());
        let read = BranchIdentity::from_metadata("identity", &labels, &id.annotations()).expect("still a branch");
        assert_eq!(read, BranchIdentity { engine: None, ..id.clone() }, "everything else is read");
        assert!(!read.labels().contains_key(ENGINE), "an unknown engine is not written back as one it is not");
        labels.remove(ENGINE);
        let unlabelled = BranchIdentity::from_metadata("identity", &labels, &id.annotations()).expect("a branch");
        assert_eq!(unlabelled.engine, None);
    }
}
