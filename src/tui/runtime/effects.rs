//! Carrying out the effects `update` asks for — submit, cancel, retry, migrate, save a bundle,
//! read the history — each in its own task, reporting back as events. Every trigger, cancel and
//! retry is audited (a Kubernetes Event and a line in the local history) before it runs; if the
//! audit record cannot be written the operator is told.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tokio::sync::mpsc::{self, UnboundedSender};

use super::Console;
use super::background::Background;
use crate::audit::record;
use crate::contract::BatchFiles;
use crate::contract::LifecycleJob;
use crate::lifecycle::bundle::{self, BundleInput, BundleLogs};
use crate::lifecycle::engine::direct::batch_files;
use crate::lifecycle::engine::migrate::{self, Step};
use crate::lifecycle::engine::runner::CancelMode;
use crate::lifecycle::engine::{Ran, Runner};
use crate::lifecycle::regions::Regions;
use crate::lifecycle::run::{Batch, RunEvent};
use crate::tui::app::{App, Effect, Submission};
use crate::tui::data::DataEvent;

/// Runs effects against the regions.
#[derive(Clone)]
pub struct Executor {
    runner: Runner,
    regions: Regions,
    tx: UnboundedSender<DataEvent>,
    mount_dir: String,
    bundle_dir: PathBuf,
    /// The configuration in force (the doctor examines the regions under it).
    config: std::sync::Arc<crate::config::Config>,
    /// The console's tasks; its stop token is cancelled when the console quits (engines stop
    /// launching branches).
    background: Background,
}

fn notice(tx: &UnboundedSender<DataEvent>, text: impl Into<String>, error: bool) {
    let _ = tx.send(DataEvent::Notice { text: text.into(), error });
}

impl Executor {
    /// An executor for a console.
    pub fn new(console: &Console, tx: UnboundedSender<DataEvent>, background: Background) -> Self {
        Executor {
            runner: Runner::from_config(console.regions.clone(), &console.config),
            regions: console.regions.clone(),
            tx,
            mount_dir: console.config.lifecycle.mount_dir.clone(),
            bundle_dir: console.config.ui.bundle_dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            config: std::sync::Arc::new(console.config.clone()),
            background,
        }
    }

    /// Starts carrying out an effect (the console-only ones are handled by the loop).
    pub fn execute(&self, effect: Effect, app: &App) {
        let this = self.clone();
        match effect {
            Effect::Submit(submission) => {
                let jobs = app.jobs.clone();
                self.background.spawn(async move { this.submit(*submission, jobs).await });
            }
            Effect::Cancel { batch, mode } => {
                self.background.spawn(async move { this.cancel(*batch, mode).await });
            }
            Effect::Retry { batch, files } => {
                let jobs = app.jobs.get(&batch.region).cloned().unwrap_or_default();
                self.background.spawn(async move { this.retry(*batch, files, jobs).await });
            }
            Effect::SaveBundle { batch_id } => {
                let Some(batch) = app.runs.batches.get(&batch_id).cloned() else { return };
                // Taken now (the lines are shared, not copied); built and written off this thread.
                let input = BundleInput {
                    batch,
                    logs: app
                        .logs
                        .get(&batch_id)
                        .map(|l| BundleLogs { lines: l.scrollback.snapshot(), jobs: l.jobs.clone() }),
                    files: app.files.get(&batch_id).cloned(),
                    mount_dir: self.mount_dir.clone(),
                    now: jiff::Timestamp::now(),
                };
                self.background.spawn(async move { this.save_bundle(input).await });
            }
            Effect::LoadHistory => {
                let names = self.regions.names();
                self.background.spawn(async move {
                    let auditor = this.runner.auditor();
                    let local = auditor.history().cloned();
                    let (entries, problems) =
                        record::team_history(&this.regions, &names, auditor.records_namespace(), local.as_deref())
                            .await;
                    let records = entries.into_iter().map(|e| e.record).collect();
                    let _ = this.tx.send(DataEvent::History { records, problems });
                });
            }
            Effect::RecordOutcome(batch) => {
                self.background.spawn(async move {
                    for problem in this.runner.auditor().record_outcome(&batch).await {
                        notice(&this.tx, problem, true);
                    }
                });
            }
            Effect::RunDoctor => {
                let names: Vec<String> = match &app.only_region {
                    Some(r) => vec![r.clone()],
                    None => self.regions.names(),
                };
                self.background.spawn(async move {
                    let report = crate::doctor::examine(&this.config, &this.regions, &names).await;
                    let _ = this.tx.send(DataEvent::Doctor(crate::doctor::render::lines(&report)));
                });
            }
            Effect::PreviewGc => {
                let names: Vec<String> = match &app.only_region {
                    Some(r) => vec![r.clone()],
                    None => self.regions.names(),
                };
                self.background.spawn(async move {
                    let now = jiff::Timestamp::now();
                    let previews = crate::lifecycle::retention::preview_regions(
                        &this.config,
                        &this.regions,
                        &names,
                        |r| Ok(r.clone()),
                        now,
                    )
                    .await;
                    let _ = this.tx.send(DataEvent::GcPreview(previews.map_err(|e| e.to_string())));
                });
            }
            Effect::RunGc(plans) => {
                self.background.spawn(async move {
                    let (text, error) =
                        match crate::lifecycle::retention::remove_all(&this.config, &this.regions, &plans).await {
                            Ok((removed, took)) => (format!("gc: {}", removed.summary(took)), false),
                            Err(e) => (format!("gc: {e} (what was removed before it stays removed)"), true),
                        };
                    let _ = this.tx.send(DataEvent::Notice { text, error });
                });
            }
            Effect::Quit | Effect::Suspend | Effect::Redraw | Effect::LoadTheme(_) => {}
        }
    }

    /// Saves a bundle: reads the batch's files back from the cluster first when this console does
    /// not know them, then builds and writes it on a worker thread.
    async fn save_bundle(self, mut input: BundleInput) {
        if input.files.is_none()
            && let Some(region) = self.regions.get(&input.batch.region)
        {
            match batch_files(&region.client, &input.batch.region, &input.batch).await {
                Ok(files) => {
                    let _ =
                        self.tx.send(DataEvent::BatchFiles { batch_id: input.batch.id.clone(), files: files.clone() });
                    input.files = Some(files);
                }
                Err(e) => self.tell(vec![format!("the bundle will not have the batch's files: {e}")]),
            }
        }
        let dir = self.bundle_dir.clone();
        let saved = tokio::task::spawn_blocking(move || bundle::save(&input, &dir).map_err(|e| e.to_string()))
            .await
            .unwrap_or_else(|e| Err(format!("the bundle could not be built: {e}")));
        let _ = self.tx.send(DataEvent::BundleSaved(saved));
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
        self.background.spawn_until_stopped(async move {
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
        let events = self.forward();
        if migrations.is_empty() {
            let ran = self.runner.submit(&plan, &request.changeset_yaml, &events, self.background.stop_token()).await;
            self.report(ran);
            return;
        }
        let tx = self.tx.clone();
        migrate::run(
            &self.runner,
            &plan,
            &request,
            &migrations,
            &jobs,
            &events,
            self.background.stop_token(),
            |step| match step {
                Step::Ran(ran) => self.report(ran),
                Step::OutDone { id, all_succeeded } => {
                    let _ = tx.send(DataEvent::MigrationOutDone { id, all_succeeded });
                }
                Step::InStarted { id, batch_id } => {
                    let _ = tx.send(DataEvent::MigrationInStarted { id, batch_id });
                }
                Step::Stopped { id, why } => {
                    let _ = tx.send(DataEvent::MigrationStopped { id, why });
                }
            },
        )
        .await;
    }

    /// Tells the operator what a run could not do: audit records not written, nothing run, or
    /// branches that could not start.
    fn report(&self, ran: Ran) {
        let failed = ran.launch_failures();
        self.tell(ran.audit_problems);
        match &ran.results {
            Err(e) => notice(&self.tx, format!("nothing was run: {e}"), true),
            Ok(_) => {
                if let Some(first) = failed.first() {
                    notice(&self.tx, format!("{} branch(es) could not run — {first}", failed.len()), true);
                }
            }
        }
    }

    async fn cancel(self, batch: Batch, mode: CancelMode) {
        let (result, problems) = self.runner.cancel(&batch, mode).await;
        self.tell(problems);
        match (result, &batch.workflow) {
            (Ok(stopped), Some(_)) => {
                let how = if mode == CancelMode::Terminate { "terminated" } else { "stopped" };
                notice(&self.tx, format!("{how} Workflow {}: its running branches stop", stopped.join(", ")), false)
            }
            (Ok(deleted), None) => {
                notice(&self.tx, format!("cancelled {} branch(es) of {}", deleted.len(), batch.tenant_name), false)
            }
            (Err(e), _) => notice(&self.tx, format!("cancel failed: {e}"), true),
        }
    }

    /// Retries a batch the Argo engine ran, as Argo does (its failed branches run again).
    async fn retry_workflow(self, batch: Batch) {
        let plan = match self.runner.argo().retry_plan(&batch).await {
            Ok(p) => p,
            Err(e) => {
                notice(&self.tx, format!("retry not started: {e}"), true);
                return;
            }
        };
        let (result, problems) = self.runner.retry_workflow(&batch, &plan).await;
        self.tell(problems);
        match result {
            Ok(()) => {
                let jobs: Vec<String> =
                    plan.rerun.iter().map(|r| r.job.as_ref().map_or(r.item.to_string(), ToString::to_string)).collect();
                notice(&self.tx, format!("retrying Workflow of {}: {}", batch.tenant_name, jobs.join(", ")), false)
            }
            Err(e) => notice(&self.tx, format!("retry failed: {e}"), true),
        }
    }

    async fn retry(self, batch: Batch, files: Option<BatchFiles>, jobs: Vec<LifecycleJob>) {
        if batch.workflow.is_some() {
            return self.retry_workflow(batch).await;
        }
        let retry = match self.runner.engine().retry_plan(&batch, &jobs, &self.mount_dir, files).await {
            Ok(r) => r,
            Err(e) => {
                notice(&self.tx, format!("retry not started: {e}"), true);
                return;
            }
        };
        if let Some(b) = retry.branches.first() {
            let _ = self.tx.send(DataEvent::BatchFiles { batch_id: batch.id.clone(), files: b.files() });
        }
        let skipped: Vec<String> = retry.skipped.iter().map(|s| format!("{} ({})", s.job, s.reason)).collect();
        if !skipped.is_empty() {
            notice(&self.tx, format!("not retried: {}", skipped.join(", ")), true);
        }
        let events = self.forward();
        let ran = self.runner.retry(retry, &events, self.background.stop_token()).await;
        self.report(ran);
    }
}
