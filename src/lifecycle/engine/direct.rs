//! The direct engine: the console itself runs the fan-out from the operator's machine — one branch
//! per runnable Job, with bounded concurrency per batch — while the pods run in the cluster. If the
//! console exits, launched branches keep running and any console can re-attach by their labels.
//! Cancel deletes a batch's unfinished pods; retry reruns failed branches as a new attempt in the
//! same batch, with the tenant environment and changeset the batch ran with.

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::plan::{Plan, PlannedBatch};
use crate::contract::context::{CHANGESET_FILE, ENVIRONMENT_FILE};
use crate::contract::labels::batch_selector;
use crate::contract::{BatchFiles, Engine, JobRef, LifecycleJob, branch_pod_name};
use crate::lifecycle::bridge::{self, BranchSpec, Outcome};
use crate::lifecycle::discovery::list_all;
use crate::lifecycle::error::{Error, Result, kube_error};
use crate::lifecycle::regions::Regions;
use crate::lifecycle::run::{Batch, RunEvent};
use crate::lifecycle::stop::{self, Stopped};

/// How one branch ended, as the engine saw it.
#[derive(Debug)]
pub struct BranchResult {
    /// The branch.
    pub spec: BranchSpec,
    /// Its outcome, or why it could not be launched or followed (`None`: never launched, stopped).
    pub outcome: Option<Result<Outcome>>,
}

/// The engine.
#[derive(Clone, Debug)]
pub struct DirectEngine {
    /// Where batches run.
    pub regions: Regions,
    /// Branches in flight per batch.
    pub concurrency: usize,
}

impl DirectEngine {
    /// Runs every batch of the plan, reporting planned and failed launches on `events`. Stops
    /// launching new branches when `stop` is cancelled (launched ones run on in the cluster).
    pub async fn execute(
        &self,
        plan: &Plan,
        events: &mpsc::UnboundedSender<RunEvent>,
        stop: &CancellationToken,
    ) -> Result<Vec<BranchResult>> {
        if !plan.is_runnable() {
            return Err(Error::Input(plan.problems.join("; ")));
        }
        for batch in &plan.batches {
            for spec in &batch.branches {
                let _ = events.send(RunEvent::Planned(spec.identity()));
            }
        }
        let runs = plan.batches.iter().map(|b| self.run_branches(b.region.clone(), b.branches.clone(), events, stop));
        Ok(futures::future::join_all(runs).await.into_iter().flatten().collect())
    }

    /// Runs a set of branches of one region with the concurrency bound.
    async fn run_branches(
        &self,
        region: String,
        specs: Vec<BranchSpec>,
        events: &mpsc::UnboundedSender<RunEvent>,
        stop: &CancellationToken,
    ) -> Vec<BranchResult> {
        let Some(client) = self.regions.get(&region).map(|r| r.client.clone()) else {
            let err = format!("region {region} is not configured");
            return specs
                .into_iter()
                .map(|spec| {
                    let _ = events.send(RunEvent::LaunchFailed { identity: spec.identity(), error: err.clone() });
                    BranchResult { outcome: Some(Err(Error::Input(err.clone()))), spec }
                })
                .collect();
        };
        let client = Arc::new(client);
        futures::stream::iter(specs)
            .map(|spec| {
                let client = client.clone();
                let region = region.clone();
                async move {
                    if stop.is_cancelled() {
                        return BranchResult { spec, outcome: None };
                    }
                    let launched = match bridge::launch(&client, &spec).await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ =
                                events.send(RunEvent::LaunchFailed { identity: spec.identity(), error: e.to_string() });
                            return BranchResult { spec, outcome: Some(Err(e)) };
                        }
                    };
                    let ns = spec.job.job.namespace.clone();
                    let name = launched.pod.metadata.name.clone().unwrap_or_default();
                    tracing::debug!(region, pod = format!("{ns}/{name}"), created = launched.created, "branch launched");
                    // Launched: it runs on in the cluster whatever happens here; stop only waiting.
                    let outcome = tokio::select! {
                        outcome = bridge::wait_for_outcome(&client, &region, &ns, &name) => outcome,
                        () = stop.cancelled() => Ok(Outcome {
                            phase: "Running".into(),
                            exit_code: None,
                            reason: Some("no longer followed (the engine was stopped); it goes on in the cluster".into()),
                        }),
                    };
                    BranchResult { spec, outcome: Some(outcome) }
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await
    }

    /// Stops every unfinished pod of a batch, as `who`, keeping the pods, their ConfigMaps and
    /// their logs (see [`crate::lifecycle::stop`]). Returns their names.
    pub async fn cancel(&self, region: &str, batch_id: &str, who: &str) -> Result<Vec<String>> {
        let client = &self.regions.require(region)?.client;
        let pods: Api<Pod> = Api::all(client.clone());
        let list = list_all(&pods, &ListParams::default().labels(&batch_selector(batch_id)))
            .await
            .map_err(kube_error(region, "list", "pods", None))?;
        let mut stopped = Vec::new();
        for pod in list {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            match stop::stop_pod(client, region, &pod, who).await? {
                Stopped::Stopping | Stopped::Deleted => stopped.push(format!("{ns}/{name}")),
                Stopped::AlreadyEnded | Stopped::Gone => {}
            }
        }
        Ok(stopped)
    }

    /// The branches that `retry` would rerun: failed or cancelled ones whose Job is still runnable
    /// (`jobs` is the region's current discovery), as attempt n+1 with the files the batch ran with:
    /// `known_files` when the caller still has them (the console that
    /// started the batch), else read back from the batch's ConfigMaps — which are gone with their
    /// pods when every branch was cancelled.
    pub async fn retry_plan(
        &self,
        batch: &Batch,
        jobs: &[LifecycleJob],
        mount_dir: &str,
        known_files: Option<BatchFiles>,
    ) -> Result<PlannedBatch> {
        let region = self.regions.require(&batch.region)?;
        let failed = batch.failed_jobs();
        if failed.is_empty() {
            return Err(Error::Input(format!("batch {} has no failed or cancelled branch to retry", batch.id)));
        }
        let BatchFiles { environment_yaml, changeset_yaml } = match known_files {
            Some(files) => files,
            None => batch_files(&region.client, &batch.region, batch).await?,
        };
        let mut branches = Vec::new();
        let mut skipped = Vec::new();
        for job_ref in failed {
            let attempt = batch.branches.get(&job_ref).and_then(|b| b.current()).map_or(1, |a| a.number) + 1;
            match jobs.iter().find(|j| j.job == job_ref) {
                Some(job) if job.is_runnable() => branches.push(BranchSpec {
                    region: batch.region.clone(),
                    job: job.clone(),
                    tenant_id: batch.tenant_id.clone(),
                    tenant_name: batch.tenant_name.clone(),
                    environment_yaml: environment_yaml.clone(),
                    operation: batch.operation.clone(),
                    batch_id: batch.id.clone(),
                    changeset_yaml: changeset_yaml.clone(),
                    attempt,
                    engine: Engine::Direct,
                    mount_dir: mount_dir.to_string(),
                    migration: batch.migration.clone(),
                }),
                Some(job) => skipped.push(super::plan::Skipped {
                    job: job_ref.clone(),
                    reason: job.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                }),
                None => skipped
                    .push(super::plan::Skipped { job: job_ref.clone(), reason: "the Job no longer exists".into() }),
            }
        }
        let tenant = batch.tenant(environment_yaml);
        Ok(PlannedBatch { batch_id: batch.id.clone(), region: batch.region.clone(), tenant, branches, skipped })
    }

    /// Runs a retry plan (see [`DirectEngine::retry_plan`]).
    pub async fn retry(
        &self,
        retry: PlannedBatch,
        events: &mpsc::UnboundedSender<RunEvent>,
        stop: &CancellationToken,
    ) -> Vec<BranchResult> {
        for spec in &retry.branches {
            let _ = events.send(RunEvent::Planned(spec.identity()));
        }
        self.run_branches(retry.region.clone(), retry.branches, events, stop).await
    }
}

/// The environment and changeset a batch ran with, read back from its branches' ConfigMaps
/// (the latest attempt of a failed branch first, then any other branch of the batch).
pub async fn batch_files(client: &kube::Client, region: &str, batch: &Batch) -> Result<BatchFiles> {
    let read = |cm: &ConfigMap| {
        let d = cm.data.as_ref()?;
        Some(BatchFiles {
            environment_yaml: d.get(ENVIRONMENT_FILE)?.clone(),
            changeset_yaml: d.get(CHANGESET_FILE)?.clone(),
        })
    };
    for branch in batch.branches.values() {
        let Some(attempt) = branch.current() else { continue };
        let name = branch_pod_name(&batch.id, &branch.job.namespace, &branch.job.name, attempt.number);
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), &branch.job.namespace);
        if let Ok(Some(cm)) = api.get_opt(&name).await
            && let Some(files) = read(&cm)
        {
            return Ok(files);
        }
    }
    let all: Api<ConfigMap> = Api::all(client.clone());
    let list = list_all(&all, &ListParams::default().labels(&batch_selector(&batch.id))).await.map_err(kube_error(
        region,
        "list",
        "configmaps",
        None,
    ))?;
    list.iter().find_map(read).ok_or_else(|| {
        Error::NotFound(format!(
            "cannot retry batch {}: the environment and changeset it ran with are gone (its pods were deleted); run the operation again",
            batch.id
        ))
    })
}

/// The Jobs of a batch whose latest attempt is in `jobs` (for messages).
pub fn describe(jobs: &[JobRef]) -> String {
    jobs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
