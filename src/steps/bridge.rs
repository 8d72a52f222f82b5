//! `tlc bridge`: one branch of the fan-out. It creates the branch (ConfigMap + pod from the Job's
//! template, in the Job's namespace, with the tenant context), streams the pod's log to its own
//! stdout (the step's log in Argo), and exits with the container's exit code — or 125 with a
//! message when the bridge itself fails, like `docker run`, so Argo shows the real outcome of the
//! team's job. On SIGTERM (a stopped or terminated Workflow) it stops the branch pod, so a stopped
//! Workflow really stops the lifecycle container, and exits 143 — unless the SIGTERM came because
//! its own pod is being deleted (an eviction, a drained node, `kubectl delete pod`: an
//! infrastructure error Argo retries with `retryPolicy: OnError`): then the branch goes on, and the
//! retried bridge attaches to it. A bridge whose branch log the cluster refuses to stream (403)
//! still waits for the branch and reports its end, then fails (125): the step's log would not be
//! the branch's log.
//!
//! The attempt: given with `--attempt`, or found from the branch's pods — the running attempt is
//! attached to (an Argo retry of the bridge after an infrastructure error must never run the
//! team's job twice), a failed or cancelled one is followed by the next (a retried Workflow runs
//! the failed branches again), a succeeded one is reported as it is.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{StepEnv, TERMINATED};
use crate::cli::bridge::BridgeArgs;
use crate::cli::session::Session;
use crate::contract::labels::{BATCH_ID, JOB, MigrationLink};
use crate::contract::{BranchIdentity, JobRef, LifecycleJob, Operation};
use crate::lifecycle::bridge::{self, BranchSpec, outcome};
use crate::lifecycle::discovery::list_all;
use crate::lifecycle::error::{Error, Result, kube_error};
use crate::lifecycle::stop;
use crate::logs::follow::{RawLine, Source, follow};
use crate::logs::resume::Cursor;

/// Checks a changeset: YAML (`{}` when empty).
pub fn check_changeset(text: &str, origin: &str) -> Result<String> {
    if text.trim().is_empty() {
        return Ok("{}\n".into());
    }
    serde_saphyr::from_str::<serde_json::Value>(text)
        .map_err(|e| Error::Input(format!("changeset {origin}: not valid YAML: {e}")))?;
    Ok(text.to_string())
}

/// Who a branch stopped by the bridge was cancelled by (the pod's `tlc.dev/cancelled-by`).
const STOPPED_BY: &str = "its Argo Workflow (stopped or terminated)";

/// Which attempt of a branch this bridge runs, from the branch's pods so far.
async fn settle_attempt(client: &kube::Client, region: &str, job: &JobRef, batch: &str) -> Result<u32> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &job.namespace);
    let selector = format!("{BATCH_ID}={batch},{JOB}={}", job.name);
    let found = list_all(&pods, &ListParams::default().labels(&selector)).await.map_err(kube_error(
        region,
        "list",
        "pods",
        Some(&job.namespace),
    ))?;
    let latest = found
        .iter()
        .filter_map(|p| {
            let meta = &p.metadata;
            let id = BranchIdentity::from_metadata(
                &job.namespace,
                &meta.labels.clone().unwrap_or_default(),
                &meta.annotations.clone().unwrap_or_default(),
            )?;
            (id.job_name == job.name).then_some((id.attempt, p))
        })
        .max_by_key(|(attempt, _)| *attempt);
    Ok(match latest {
        None => 1,
        Some((n, pod)) => {
            let o = outcome(pod);
            let over = pod.metadata.deletion_timestamp.is_some() || (o.is_final() && !o.succeeded());
            if over { n + 1 } else { n }
        }
    })
}

/// Where the step's own pod is, when SIGTERM arrives.
enum OwnPod {
    /// It is being deleted (`ns/name`): the SIGTERM is the kubelet's, not a stop of the Workflow.
    Deleting(String),
    /// It is not being deleted: the Workflow was stopped (or the pod's deadline passed).
    Live,
    /// Not in a pod of this cluster (`HOSTNAME` names none): run by hand.
    NotAPod,
}

/// Reads the step's own pod (named by `HOSTNAME`, as Kubernetes sets it, in the namespace of the
/// in-cluster client) to tell a Workflow's stop from the pod's own deletion.
async fn own_pod(env: &dyn StepEnv, client: &kube::Client, region: &str) -> Result<OwnPod> {
    let Some(name) = env.var("HOSTNAME").filter(|n| !n.is_empty()) else { return Ok(OwnPod::NotAPod) };
    let namespace = client.default_namespace().to_string();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    match pods.get_opt(&name).await.map_err(kube_error(region, "get", "pods", Some(&namespace)))? {
        None => Ok(OwnPod::NotAPod),
        Some(p) if p.metadata.deletion_timestamp.is_some() => Ok(OwnPod::Deleting(format!("{namespace}/{name}"))),
        Some(_) => Ok(OwnPod::Live),
    }
}

/// Streams every container of the branch pod to `env`'s stdout until they end or `stop`. Returns
/// the cluster's refusal (403) to stream one, if any: the step's log is then not the branch's.
async fn stream_logs(
    env: &dyn StepEnv,
    client: &kube::Client,
    source: Source,
    containers: &[String],
    stop: &CancellationToken,
) -> Option<Error> {
    let streams = containers.iter().map(|container| {
        let source = Source { container: container.clone(), ..source.clone() };
        let prefix = (containers.len() > 1).then(|| format!("[{container}] "));
        async move {
            let (tx, mut rx) = mpsc::channel::<Vec<RawLine>>(64);
            let printer = async {
                while let Some(lines) = rx.recv().await {
                    let mut text = String::new();
                    for line in lines {
                        text.push_str(prefix.as_deref().unwrap_or(""));
                        text.push_str(&crate::logs::sanitize::strip(&line.text));
                        text.push('\n');
                    }
                    env.stdout(&text);
                }
            };
            let mut cursor = Cursor::default();
            let (result, ()) = tokio::join!(
                async {
                    let r = follow(client, &source, true, &mut cursor, &tx, stop).await;
                    drop(tx);
                    r
                },
                printer
            );
            match result {
                Err(e) => {
                    env.stderr(&format!("tlc bridge: logs of {} incomplete: {e}\n", source.container));
                    matches!(e, Error::Forbidden { .. }).then_some(e)
                }
                Ok(_) => None,
            }
        }
    });
    futures::future::join_all(streams).await.into_iter().flatten().next()
}

/// Runs one branch in `session`'s region (or `--region`); the exit code is its container's.
pub async fn run(env: &dyn StepEnv, session: &Session, args: &BridgeArgs) -> Result<u8> {
    let job_ref = JobRef::parse(&args.job)
        .ok_or_else(|| Error::Input(format!("--job must be NAMESPACE/NAME, got \"{}\"", args.job)))?;
    let operation = Operation::new(&args.operation).map_err(|e| Error::Input(format!("--operation: {e}")))?;
    let changeset = match (&args.changeset_yaml, &args.changeset) {
        (Some(text), _) => check_changeset(text, "--changeset-yaml")?,
        (None, Some(path)) => {
            let origin = path.display().to_string();
            let text = env.read_file(&origin).map_err(|e| Error::Input(format!("changeset {origin}: {e}")))?;
            check_changeset(&text, &origin)?
        }
        (None, None) => "{}\n".to_string(),
    };
    let batch = args.batch.trim().to_string();
    if uuid::Uuid::parse_str(&batch).is_err() {
        return Err(Error::Input(format!("--batch \"{batch}\" is not a batch id (a UUID)")));
    }
    let migration = match (args.migration.as_deref().filter(|m| !m.is_empty()), args.migration_target.as_deref()) {
        (None, _) => None,
        (Some(id), Some(target)) if !target.is_empty() => {
            Some(MigrationLink { id: id.to_string(), target: target.to_string() })
        }
        (Some(_), _) => return Err(Error::Input("--migration needs --migration-target (the region moved to)".into())),
    };
    let region = match &args.region {
        Some(r) => session.regions.require(r)?.clone(),
        None => session.regions.iter().next().cloned().ok_or_else(|| Error::Setup("no region configured".into()))?,
    };
    let jobs: Api<Job> = Api::namespaced(region.client.clone(), &job_ref.namespace);
    let job =
        jobs.get(&job_ref.name).await.map_err(kube_error(&region.name, "get", "jobs", Some(&job_ref.namespace)))?;
    let scope = session.scope();
    let lifecycle = LifecycleJob::from_job(&job, &scope.annotation, &scope.mount_dir).ok_or_else(|| {
        Error::Input(format!("job {job_ref} has no {} annotation: it is not a lifecycle job", scope.annotation))
    })?;
    if !lifecycle.is_runnable() {
        let problems: Vec<String> = lifecycle.problems.iter().map(ToString::to_string).collect();
        return Err(Error::Input(format!("job {job_ref} cannot run: {}", problems.join("; "))));
    }
    if !lifecycle.handles(operation.as_str()) {
        return Err(Error::Input(format!(
            "job {job_ref} does not handle {operation} (it handles {})",
            lifecycle.annotation
        )));
    }
    let tenants =
        session.resolve_tenants(std::slice::from_ref(&args.tenant), std::slice::from_ref(&region.name)).await?;
    let tenant = tenants.first().ok_or_else(|| Error::NotFound(format!("no tenant \"{}\"", args.tenant)))?;
    if !tenant.is_usable() {
        return Err(Error::Input(format!("tenant {} cannot be used: {}", tenant.name, tenant.problems.join("; "))));
    }
    let attempt = match args.attempt {
        Some(n) => n,
        None => settle_attempt(&region.client, &region.name, &job_ref, &batch).await?,
    };
    let containers: Vec<String> =
        lifecycle.template.spec.iter().flat_map(|s| s.containers.iter().map(|c| c.name.clone())).collect();
    let spec = BranchSpec {
        region: region.name.clone(),
        job: lifecycle,
        tenant_id: tenant.id.clone(),
        tenant_name: tenant.name.clone(),
        environment_yaml: tenant.environment_yaml.clone(),
        operation: operation.to_string(),
        batch_id: batch.clone(),
        changeset_yaml: changeset,
        attempt,
        engine: args.engine,
        mount_dir: scope.mount_dir.clone(),
        migration,
    };
    let terminated = env.terminated();
    if terminated.is_cancelled() {
        env.stderr("tlc bridge: stopped before the branch was created\n");
        return Ok(TERMINATED);
    }
    let launched = bridge::launch(&region.client, &spec).await?;
    let pod = launched.pod.metadata.name.clone().unwrap_or_default();
    env.stderr(&format!(
        "tlc bridge: {} pod {}/{pod} (attempt {attempt}) for {} ({}) {operation}, batch {batch}\n",
        if launched.created { "created" } else { "attached to" },
        job_ref.namespace,
        tenant.name,
        tenant.id,
    ));
    let source = Source {
        region: region.name.clone(),
        namespace: job_ref.namespace.clone(),
        pod: pod.clone(),
        container: String::new(),
    };
    let ended = async {
        let refused = stream_logs(env, &region.client, source, &containers, &terminated).await;
        (refused, bridge::wait_for_outcome(&region.client, &region.name, &job_ref.namespace, &pod).await)
    };
    let (refused, outcome) = tokio::select! {
        (refused, outcome) = ended => (refused, outcome?),
        () = terminated.cancelled() => {
            match own_pod(env, &region.client, &region.name).await {
                Ok(OwnPod::Deleting(me)) => {
                    env.stderr(&format!(
                        "tlc bridge: stopped (SIGTERM) because pod {me} is being deleted, not the Workflow: branch pod {}/{pod} goes on, and a retry attaches to it\n",
                        job_ref.namespace
                    ));
                    return Ok(TERMINATED);
                }
                Ok(OwnPod::Live | OwnPod::NotAPod) => {}
                Err(e) => env.stderr(&format!("tlc bridge: cannot tell a stop from this pod's deletion ({e}): stopping the branch\n")),
            }
            return match stop::stop_pod_named(&region.client, &region.name, &job_ref.namespace, &pod, STOPPED_BY).await {
                Ok(_) => {
                    env.stderr(&format!("tlc bridge: stopped (SIGTERM): branch pod {}/{pod} is being stopped (kept, with its logs)\n", job_ref.namespace));
                    Ok(TERMINATED)
                }
                Err(e) => Err(e.with_note(format!("stopped (SIGTERM), but branch pod {}/{pod} goes on", job_ref.namespace))),
            };
        }
    };
    match outcome.exit_code {
        Some(code) => {
            let ended = format!(
                "{job_ref} {} with exit code {code}{}",
                outcome.phase.to_lowercase(),
                outcome.reason.map(|r| format!(" ({r})")).unwrap_or_default()
            );
            env.stderr(&format!("tlc bridge: {ended}\n"));
            match refused {
                Some(e) => Err(e.with_note(format!("this step's log is not the branch's log ({ended})"))),
                None => Ok(u8::try_from(code.rem_euclid(256)).unwrap_or(1)),
            }
        }
        None => Err(Error::Input(format!(
            "branch pod {}/{pod} ended without an exit code: {}",
            job_ref.namespace,
            outcome.reason.unwrap_or_else(|| outcome.phase.clone())
        ))),
    }
}
