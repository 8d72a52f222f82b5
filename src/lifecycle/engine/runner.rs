//! Running what an operator confirmed — a trigger, a retry, a cancel — the same way whoever asks
//! (the console, `tlc run`, `tlc retry`, `tlc cancel`, `tlc migrate`): audited before anything
//! runs, run by the engine, and the branches that could not start audited after, so the record
//! never says a trigger went through when nothing ran. What could not be written to the audit is
//! handed back for the caller to tell the operator; the action itself goes ahead.

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::argo::{ArgoEngine, ArgoSettings};
use super::direct::{BranchResult, DirectEngine};
use super::plan::{Plan, PlannedBatch};
use crate::audit::AuditAction;
use crate::audit::auditor::Auditor;
use crate::contract::Engine;
use crate::lifecycle::argo::{self as workflow, Shutdown};
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::regions::Regions;
use crate::lifecycle::run::{Batch, RunEvent};

/// What running a plan (or a retry) came to.
#[derive(Debug)]
pub struct Ran {
    /// Each branch's result, or why nothing ran at all.
    pub results: Result<Vec<BranchResult>>,
    /// What could not be written to the audit trail.
    pub audit_problems: Vec<String>,
}

impl Ran {
    /// The branches that could not start, as `namespace/job: error` (empty when nothing ran at all:
    /// see [`Ran::results`]).
    pub fn launch_failures(&self) -> Vec<String> {
        self.results.as_deref().map(|r| crate::audit::auditor::launch_failures(r.iter())).unwrap_or_default()
    }
}

/// How a batch is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelMode {
    /// The default: the direct engine stops the unfinished branch pods (kept); Argo's Stop (exit
    /// handlers still run).
    Stop,
    /// Argo's Terminate (nothing more runs, exit handlers neither); the direct engine stops.
    Terminate,
}

/// The engines and the audit trail, together.
#[derive(Clone)]
pub struct Runner {
    engine: DirectEngine,
    argo: ArgoEngine,
    auditor: Auditor,
}

impl Runner {
    /// The runner a configuration describes, over `regions`.
    pub fn from_config(regions: Regions, config: &crate::config::Config) -> Self {
        let mut runner = Runner::new(regions, config.run.concurrency, ArgoSettings::from_config(config));
        runner.auditor = runner.auditor.with_records_namespace(&config.run.records_namespace);
        runner
    }

    /// A runner over `regions`, launching up to `concurrency` branches per batch at once with the
    /// direct engine, submitting from `argo`'s template with the Argo engine.
    pub fn new(regions: Regions, concurrency: usize, argo: ArgoSettings) -> Self {
        Runner {
            auditor: Auditor::new(regions.clone()),
            argo: ArgoEngine { regions: regions.clone(), settings: argo },
            engine: DirectEngine { regions, concurrency },
        }
    }

    /// The direct engine (for planning retries and reading files back).
    pub fn engine(&self) -> &DirectEngine {
        &self.engine
    }

    /// The Argo engine.
    pub fn argo(&self) -> &ArgoEngine {
        &self.argo
    }

    /// The audit trail (for reading the history).
    pub fn auditor(&self) -> &Auditor {
        &self.auditor
    }

    /// Runs a confirmed plan; every branch's `changeset` is the request's.
    pub async fn submit(
        &self,
        plan: &Plan,
        changeset: &str,
        events: &UnboundedSender<RunEvent>,
        stop: &CancellationToken,
    ) -> Ran {
        tracing::info!(operation = %plan.operation, batches = plan.batches.len(), branches = plan.branch_count(), "submit");
        let mut audit_problems = self.auditor.record_started(AuditAction::Trigger, &plan.batches, changeset).await;
        let results = match plan.engine {
            Engine::Direct => self.engine.execute(plan, events, stop).await,
            Engine::Argo => self.argo.execute(plan, changeset, events, stop).await,
        };
        log_results(&results);
        audit_problems.extend(self.record_unstarted(AuditAction::Trigger, &plan.batches, changeset, &results).await);
        Ran { results, audit_problems }
    }

    /// Runs a confirmed retry (see [`DirectEngine::retry_plan`]).
    pub async fn retry(
        &self,
        retry: PlannedBatch,
        events: &UnboundedSender<RunEvent>,
        stop: &CancellationToken,
    ) -> Ran {
        let changeset = retry.branches.first().map(|b| b.changeset_yaml.clone()).unwrap_or_default();
        let retried = [retry.clone()];
        tracing::info!(batch = %retry.batch_id, branches = retry.branches.len(), "retry");
        let mut audit_problems = self.auditor.record_started(AuditAction::Retry, &retried, &changeset).await;
        let results = Ok(self.engine.retry(retry, events, stop).await);
        log_results(&results);
        audit_problems.extend(self.record_unstarted(AuditAction::Retry, &retried, &changeset, &results).await);
        Ran { results, audit_problems }
    }

    /// Retries a batch that ran on the Argo engine, as Argo does (every failed branch of a failed
    /// Workflow runs again; `plan` from [`ArgoEngine::retry_plan`]). Audited like any retry.
    pub async fn retry_workflow(&self, batch: &Batch, plan: &workflow::RetryPlan) -> (Result<()>, Vec<String>) {
        let result = self.argo.retry(batch, plan).await;
        let outcome = match &result {
            Ok(()) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        (result, self.auditor.record_batch_action(AuditAction::Retry, batch, &outcome).await)
    }

    /// Cancels a batch: with the direct engine its unfinished branch pods are stopped and kept; with the
    /// Argo engine its Workflow is stopped (or terminated), and the bridges stop their branch
    /// pods. What was stopped, and what could not be written to the audit trail.
    pub async fn cancel(&self, batch: &Batch, mode: CancelMode) -> (Result<Vec<String>>, Vec<String>) {
        let result = match (&batch.workflow, mode) {
            (Some(_), CancelMode::Stop) => self.argo.shutdown(batch, Shutdown::Stop).await.map(|w| vec![w]),
            (Some(_), CancelMode::Terminate) => self.argo.shutdown(batch, Shutdown::Terminate).await.map(|w| vec![w]),
            (None, _) => {
                let context =
                    self.engine.regions.get(&batch.region).map_or(batch.region.as_str(), |r| r.context.as_str());
                self.engine.cancel(&batch.region, &batch.id, &crate::audit::actor(context)).await
            }
        };
        match &result {
            Ok(stopped) => tracing::info!(batch = %batch.id, stopped = stopped.len(), "cancel"),
            Err(e) => tracing::warn!(batch = %batch.id, error = %e, "cancel failed"),
        }
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        let problems = self.auditor.record_cancel(batch, &outcome).await;
        (result, problems)
    }

    /// Writes what could not start into the audit trail (see [`Auditor::record_unstarted`]).
    async fn record_unstarted(
        &self,
        action: AuditAction,
        batches: &[PlannedBatch],
        changeset: &str,
        results: &Result<Vec<BranchResult>, Error>,
    ) -> Vec<String> {
        let why = results.as_ref().err().map(ToString::to_string);
        let results = match &why {
            Some(why) => Err(why.as_str()),
            None => Ok(results.as_deref().unwrap_or_default()),
        };
        self.auditor.record_unstarted(action, batches, changeset, results).await
    }
}

/// Puts every branch that could not start, or nothing at all, into the diagnostics log.
fn log_results(results: &Result<Vec<BranchResult>>) {
    match results {
        Err(e) => tracing::warn!(error = %e, "nothing was run"),
        Ok(results) => {
            for failure in crate::audit::auditor::launch_failures(results.iter()) {
                tracing::warn!(%failure, "branch could not start");
            }
        }
    }
}
