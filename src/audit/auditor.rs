//! Writing audit records — the batch's record in its region (see [`super::record`]), the Event,
//! and the line in the local history — for the console and the headless commands alike, so every
//! trigger, cancel and retry is recorded whoever makes it and from wherever.

use std::path::PathBuf;

use super::event::{EventTarget, post};
use super::{AuditAction, AuditRecord, actor, changeset_digest, history, record};
use crate::contract::Engine;
use crate::lifecycle::engine::direct::BranchResult;
use crate::lifecycle::engine::plan::PlannedBatch;
use crate::lifecycle::regions::Regions;
use crate::lifecycle::run::Batch;

/// Records audited actions in the regions' clusters and the local history.
#[derive(Clone)]
pub struct Auditor {
    regions: Regions,
    history: Option<PathBuf>,
    records_namespace: String,
}

/// Where batch records live unless configured otherwise (`run.records_namespace`).
pub const DEFAULT_RECORDS_NAMESPACE: &str = crate::demo::RECORDS_NAMESPACE;

impl Auditor {
    /// An auditor writing Events into `regions` and lines into the user's history file.
    pub fn new(regions: Regions) -> Self {
        Auditor { regions, history: history::history_path(), records_namespace: DEFAULT_RECORDS_NAMESPACE.into() }
    }

    /// The same auditor writing batch records into `namespace`.
    pub fn with_records_namespace(mut self, namespace: &str) -> Self {
        self.records_namespace = namespace.to_string();
        self
    }

    /// Where batch records live.
    pub fn records_namespace(&self) -> &str {
        &self.records_namespace
    }

    /// Writes an ended batch's outcome into its record, as the one who saw it end. Returns what
    /// could not be written (nothing when the batch has no record: it was not started by a tlc
    /// that writes them).
    pub async fn record_outcome(&self, batch: &Batch) -> Vec<String> {
        let Some(region) = self.regions.get(&batch.region) else { return Vec::new() };
        match record::write_outcome(&region.client, &self.records_namespace, batch, &actor(&region.context)).await {
            Ok(_) => Vec::new(),
            Err(e) => vec![format!("outcome of batch {} not recorded: {e}", batch.id)],
        }
    }

    /// The history file, when the system has a data directory.
    pub fn history(&self) -> Option<&PathBuf> {
        self.history.as_ref()
    }

    /// Records `action` (a trigger, or a retry) on each planned batch, before anything runs.
    /// Returns what could not be written, for the caller to tell the operator.
    pub async fn record_started(&self, action: AuditAction, batches: &[PlannedBatch], changeset: &str) -> Vec<String> {
        let mut problems = Vec::new();
        for b in batches {
            let (record, target) = self.record(action, b, changeset, "ok");
            problems.extend(self.write(&record, target.as_ref(), engine_of(b)).await);
        }
        problems
    }

    /// Records a cancel of `batch` (as the cluster shows it) and how it went. Returns what could not
    /// be written.
    pub async fn record_cancel(&self, batch: &Batch, outcome: &str) -> Vec<String> {
        self.record_batch_action(AuditAction::Cancel, batch, outcome).await
    }

    /// Records `action` on `batch` as the cluster shows it (a cancel, a Workflow's retry) and how
    /// it went. Returns what could not be written.
    pub async fn record_batch_action(&self, action: AuditAction, batch: &Batch, outcome: &str) -> Vec<String> {
        let (record, target) = self.record_batch(action, batch, outcome);
        self.write(&record, target.as_ref(), batch.engine).await
    }

    /// The record of `action` on a planned batch (a trigger, or a retry of some of its branches),
    /// and where its Event goes: about the batch's first branch pod, in that pod's namespace.
    fn record(
        &self,
        action: AuditAction,
        batch: &PlannedBatch,
        changeset: &str,
        outcome: &str,
    ) -> (AuditRecord, Option<EventTarget>) {
        let context = self.regions.get(&batch.region).map_or(batch.region.as_str(), |r| r.context.as_str());
        let record = AuditRecord {
            at: jiff::Timestamp::now(),
            who: actor(context),
            action,
            batch_id: batch.batch_id.clone(),
            region: batch.region.clone(),
            tenant_id: batch.tenant.id.clone(),
            tenant_name: batch.tenant.name.clone(),
            operation: batch.branches.first().map(|b| b.operation.clone()).unwrap_or_default(),
            changeset_digest: changeset_digest(changeset),
            jobs: batch.branches.iter().map(|b| b.job.job.to_string()).collect(),
            outcome: outcome.to_string(),
        };
        let target = batch
            .branches
            .first()
            .map(|b| EventTarget { namespace: b.job.job.namespace.clone(), pod_name: b.pod_name() });
        (record, target)
    }

    /// The record of `action` on a batch as the cluster shows it (a cancel): every branch, no
    /// changeset, the Event about one of its pods.
    fn record_batch(&self, action: AuditAction, batch: &Batch, outcome: &str) -> (AuditRecord, Option<EventTarget>) {
        let planned = PlannedBatch {
            batch_id: batch.id.clone(),
            region: batch.region.clone(),
            tenant: batch.tenant(String::new()),
            branches: Vec::new(),
            skipped: Vec::new(),
        };
        let (mut record, _) = self.record(action, &planned, "", outcome);
        record.operation = batch.operation.clone();
        record.changeset_digest = String::new();
        record.jobs = batch.branches.values().map(|b| b.job.to_string()).collect();
        let target = batch.branches.values().find_map(|b| {
            b.current()
                .filter(|a| !a.pod_name.is_empty())
                .map(|a| EventTarget { namespace: b.job.namespace.clone(), pod_name: a.pod_name.clone() })
        });
        (record, target)
    }

    /// Writes a record: into the batch's record, the Event (when there is a pod to attach it to)
    /// and the history line (which also stands in for what could not be written in the cluster).
    /// Returns what could not be written.
    async fn write(&self, record: &AuditRecord, target: Option<&EventTarget>, engine: Option<Engine>) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(region) = self.regions.get(&record.region)
            && let Err(e) = record::append(&region.client, &self.records_namespace, record, engine).await
        {
            problems.push(format!("batch record not written (the local history keeps it): {e}"));
        }
        if let (Some(region), Some(target)) = (self.regions.get(&record.region), target)
            && let Err(e) = post(&region.client, &record.region, record, target).await
        {
            problems.push(format!("audit Event not recorded: {e}"));
        }
        if let Some(path) = &self.history
            && let Err(e) = history::append(path, record)
        {
            problems.push(format!("audit history not written: {e}"));
        }
        problems
    }

    /// Records, after the line that says they were triggered, the batches whose branches could not
    /// start (all of them when the engine refused the plan: `Err` with why), so the history never
    /// says a trigger went through when nothing ran. Returns what could not be written.
    pub async fn record_unstarted(
        &self,
        action: AuditAction,
        batches: &[PlannedBatch],
        changeset: &str,
        results: Result<&[BranchResult], &str>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for b in batches {
            let outcome = match results {
                Err(e) => format!("not run: {e}"),
                Ok(results) => {
                    let failed = launch_failures(results.iter().filter(|r| r.spec.batch_id == b.batch_id));
                    match failed.first() {
                        None => continue,
                        Some(first) => {
                            format!("{} of {} branch(es) could not start — {first}", failed.len(), b.branches.len())
                        }
                    }
                }
            };
            let (record, target) = self.record(action, b, changeset, &outcome);
            problems.extend(self.write(&record, target.as_ref(), engine_of(b)).await);
        }
        problems
    }
}

/// The engine a planned batch runs on.
fn engine_of(batch: &PlannedBatch) -> Option<Engine> {
    batch.branches.first().map(|b| b.engine)
}

/// What went wrong with each branch that could not start (`namespace/job: error`).
pub fn launch_failures<'a>(results: impl Iterator<Item = &'a BranchResult>) -> Vec<String> {
    results
        .filter_map(|r| match &r.outcome {
            Some(Err(e)) => Some(format!("{}: {e}", r.spec.job.job)),
            None => Some(format!("{}: not launched (the engine was stopped before it started)", r.spec.job.job)),
            Some(Ok(_)) => None,
        })
        .collect()
}
