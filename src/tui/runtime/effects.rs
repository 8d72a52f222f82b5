//! Carrying out the effects `update` asks for — submit, cancel, retry, migrate, save a bundle,
//! read the history — each in its own task, reporting back as events. Every trigger, cancel and
//! retry is audited (a Kubernetes Event and a line in the local history) before it runs; if the
//! audit record cannot be written the operator is told.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio::sync::mpsc::{self, UnboundedSender};
use tokio_util::sync::CancellationToken;

use super::Console;
use crate::audit::auditor::{Auditor, launch_failures};
use crate::audit::{AuditAction, history};
use crate::contract::LifecycleJob;
use crate::lifecycle::engine::direct::{BranchResult, DirectEngine, batch_files};
use crate::lifecycle::engine::plan::{Request, plan};
use crate::lifecycle::regions::Regions;
use crate::lifecycle::run::{Batch, RunEvent};
use crate::tui::app::trigger::{Migration, migrate_in_request};
use crate::tui::app::{App, Effect, Submission};
use crate::tui::bundle;
use crate::tui::data::DataEvent;

/// Runs effects against the regions.
#[derive(Clone)]
pub struct Executor {
    engine: DirectEngine,
    regions: Regions,
    tx: UnboundedSender<DataEvent>,
    mount_dir: String,
    bundle_dir: PathBuf,
    auditor: Auditor,
}

fn notice(tx: &UnboundedSender<DataEvent>, text: impl Into<String>, error: bool) {
    let _ = tx.send(DataEvent::Notice { text: text.into(), error });
}

impl Executor {
    /// An executor for a console.
    pub fn new(console: &Console, tx: UnboundedSender<DataEvent>) -> Self {
        Executor {
            engine: DirectEngine { regions: console.regions.clone(), concurrency: console.config.run.concurrency },
            regions: console.regions.clone(),
            tx,
            mount_dir: console.config.lifecycle.mount_dir.clone(),
            bundle_dir: console.config.ui.bundle_dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            auditor: Auditor::new(console.regions.clone()),
        }
    }

    /// Starts carrying out an effect (the console-only ones are handled by the loop).
    pub fn execute(&self, effect: Effect, app: &App) {
        let this = self.clone();
        match effect {
            Effect::Submit(submission) => {
                let jobs = app.jobs.clone();
                tokio::spawn(async move { this.submit(*submission, jobs).await });
            }
            Effect::Cancel { batch } => {
                tokio::spawn(async move { this.cancel(*batch).await });
            }
            Effect::Retry { batch, files } => {
                let jobs = app.jobs.get(&batch.region).cloned().unwrap_or_default();
                tokio::spawn(async move { this.retry(*batch, files, jobs).await });
            }
            Effect::SaveBundle { batch_id } => {
                let Some(batch) = app.runs.batches.get(&batch_id).cloned() else { return };
                let files = app.files.get(&batch_id).cloned();
                let logs = app.logs.get(&batch_id);
                let now = jiff::Timestamp::now();
                if files.is_some() {
                    let value = bundle::build(&batch, logs, files.as_ref(), &self.mount_dir, now);
                    let name = bundle::file_name(&batch, now);
                    let dir = self.bundle_dir.clone();
                    let tx = self.tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let _ = tx.send(DataEvent::BundleSaved(bundle::write(&dir, &name, &value)));
                    });
                } else {
                    // Read the files back from the cluster first; the bundle is built from the
                    // logs held now (what the operator sees), plus the files once known.
                    let value_without = bundle::build(&batch, logs, None, &self.mount_dir, now);
                    tokio::spawn(async move { this.bundle_with_files(batch, value_without, now).await });
                }
            }
            Effect::LoadHistory => {
                let tx = self.tx.clone();
                let path = self.auditor.history().cloned();
                tokio::task::spawn_blocking(move || {
                    let (records, problems) = match path {
                        Some(p) => history::read(&p),
                        None => (Vec::new(), vec!["no data directory on this system".into()]),
                    };
                    let _ = tx.send(DataEvent::History { records, problems });
                });
            }
            Effect::Quit | Effect::Suspend | Effect::Redraw | Effect::LoadTheme(_) => {}
        }
    }

    async fn bundle_with_files(self, batch: Batch, mut value: serde_json::Value, now: jiff::Timestamp) {
        if let Some(region) = self.regions.get(&batch.region) {
            match batch_files(&region.client, &batch.region, &batch).await {
                Ok(files) => {
                    value["files"]["environment.yaml"] = files.0.clone().into();
                    value["files"]["changeset.yaml"] = files.1.clone().into();
                    let _ = self.tx.send(DataEvent::BatchFiles { batch_id: batch.id.clone(), files });
                }
                Err(e) => value["files"]["unavailable"] = e.to_string().into(),
            }
        }
        let name = bundle::file_name(&batch, now);
        let _ = self.tx.send(DataEvent::BundleSaved(bundle::write(&self.bundle_dir, &name, &value)));
    }

    /// Tells the operator what of the audit could not be written.
    fn tell(&self, problems: Vec<String>) {
        for problem in problems {
            notice(&self.tx, problem, true);
        }
    }

    /// Forwards engine events into the console's stream.
    fn forward(&self) -> UnboundedSender<RunEvent> {
        let (tx, mut rx) = mpsc::unbounded_channel::<RunEvent>();
        let out = self.tx.clone();
        tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                if out.send(DataEvent::Run(e)).is_err() {
                    return;
                }
            }
        });
        tx
    }

    async fn submit(self, submission: Submission, jobs: BTreeMap<String, Vec<LifecycleJob>>) {
        let Submission { plan, request, migrations } = submission;
        let changeset = &request.changeset_yaml;
        self.tell(self.auditor.record_started(AuditAction::Trigger, &plan.batches, changeset).await);
        let events = self.forward();
        let results = match self.engine.execute(&plan, &events, &CancellationToken::new()).await {
            Ok(r) => r,
            Err(e) => {
                let why = e.to_string();
                self.tell(
                    self.auditor.record_unstarted(AuditAction::Trigger, &plan.batches, changeset, Err(&why)).await,
                );
                notice(&self.tx, format!("nothing was run: {e}"), true);
                return;
            }
        };
        self.tell(self.auditor.record_unstarted(AuditAction::Trigger, &plan.batches, changeset, Ok(&results)).await);
        report_launch_errors(&self.tx, &results);
        // Each tenant's migration goes on by its own migrate-out batch alone.
        for m in migrations {
            let all_succeeded = results
                .iter()
                .filter(|r| r.spec.batch_id == m.out_batch)
                .all(|r| matches!(&r.outcome, Some(Ok(o)) if o.succeeded()));
            let _ = self.tx.send(DataEvent::MigrationOutDone { id: m.out_batch.clone(), all_succeeded });
            if all_succeeded {
                let one = Request { tenants: vec![m.tenant.clone()], ..request.clone() };
                self.migrate_in(&m, migrate_in_request(&one, &m.target, &m.out_batch), &jobs, &events).await;
            }
        }
    }

    /// The second half of a migration: migrate-in for its tenant in the target region.
    async fn migrate_in(
        &self,
        m: &Migration,
        request: Request,
        jobs: &BTreeMap<String, Vec<LifecycleJob>>,
        events: &UnboundedSender<RunEvent>,
    ) {
        let in_plan = plan(&request, jobs);
        if !in_plan.is_runnable() || in_plan.branch_count() == 0 {
            let why = if in_plan.problems.is_empty() {
                "no runnable Job handles migrate-in there".to_string()
            } else {
                in_plan.problems.join("; ")
            };
            notice(
                &self.tx,
                format!("migration of {}: migrate-in in {} not started: {why}", m.tenant.name, m.target),
                true,
            );
            return;
        }
        if let Some(b) = in_plan.batches.first() {
            let _ =
                self.tx.send(DataEvent::MigrationInStarted { id: m.out_batch.clone(), batch_id: b.batch_id.clone() });
        }
        let changeset = &request.changeset_yaml;
        self.tell(self.auditor.record_started(AuditAction::Trigger, &in_plan.batches, changeset).await);
        let (action, batches) = (AuditAction::Trigger, &in_plan.batches);
        match self.engine.execute(&in_plan, events, &CancellationToken::new()).await {
            Ok(results) => {
                self.tell(self.auditor.record_unstarted(action, batches, changeset, Ok(&results)).await);
                report_launch_errors(&self.tx, &results);
            }
            Err(e) => {
                let why = e.to_string();
                self.tell(self.auditor.record_unstarted(action, batches, changeset, Err(&why)).await);
                notice(&self.tx, format!("migrate-in not run: {e}"), true);
            }
        }
    }

    async fn cancel(self, batch: Batch) {
        let result = self.engine.cancel(&batch.region, &batch.id).await;
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => e.to_string(),
        };
        self.tell(self.auditor.record_cancel(&batch, &outcome).await);
        match result {
            Ok(deleted) => {
                notice(&self.tx, format!("cancelled {} branch(es) of {}", deleted.len(), batch.tenant_name), false)
            }
            Err(e) => notice(&self.tx, format!("cancel failed: {e}"), true),
        }
    }

    async fn retry(self, batch: Batch, files: Option<(String, String)>, jobs: Vec<LifecycleJob>) {
        let retry = match self.engine.retry_plan(&batch, &jobs, &self.mount_dir, files).await {
            Ok(r) => r,
            Err(e) => {
                notice(&self.tx, format!("retry not started: {e}"), true);
                return;
            }
        };
        let changeset = retry.branches.first().map(|b| b.changeset_yaml.clone()).unwrap_or_default();
        if let Some(b) = retry.branches.first() {
            let _ = self.tx.send(DataEvent::BatchFiles {
                batch_id: batch.id.clone(),
                files: (b.environment_yaml.clone(), b.changeset_yaml.clone()),
            });
        }
        let retried = [retry.clone()];
        self.tell(self.auditor.record_started(AuditAction::Retry, &retried, &changeset).await);
        let skipped: Vec<String> = retry.skipped.iter().map(|s| format!("{} ({})", s.job, s.reason)).collect();
        if !skipped.is_empty() {
            notice(&self.tx, format!("not retried: {}", skipped.join(", ")), true);
        }
        let events = self.forward();
        let results = self.engine.retry(retry, &events, &CancellationToken::new()).await;
        self.tell(self.auditor.record_unstarted(AuditAction::Retry, &retried, &changeset, Ok(&results)).await);
        report_launch_errors(&self.tx, &results);
    }
}

fn report_launch_errors(tx: &UnboundedSender<DataEvent>, results: &[BranchResult]) {
    let failed = launch_failures(results.iter());
    if let Some(first) = failed.first() {
        notice(tx, format!("{} branch(es) could not run — {first}", failed.len()), true);
    }
}
