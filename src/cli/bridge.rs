//! `tlc bridge`: the bridge step of the Argo WorkflowTemplate, usable by hand too. It creates the
//! branch (ConfigMap + pod from the Job's template, in the Job's namespace), streams the pod's logs
//! to stdout, and exits with the container's exit code — or 125 with a message when the bridge
//! itself fails (like `docker run`), so Argo shows the real outcome of the team's job.

use std::path::PathBuf;

use clap::Args;
use k8s_openapi::api::batch::v1::Job;
use kube::api::Api;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::session::{GlobalArgs, Session};
use crate::contract::{Engine, JobRef, LifecycleJob, Operation};
use crate::lifecycle::bridge::{self, BranchSpec};
use crate::lifecycle::error::{Error, Result, kube_error};
use crate::logs::follow::{RawLine, Source, follow};
use crate::logs::resume::Cursor;

/// The exit code of a bridge that failed itself (not the team's container).
pub const BRIDGE_FAILED: u8 = 125;

/// Options of `tlc bridge`.
#[derive(Debug, Args)]
pub struct BridgeArgs {
    /// The lifecycle Job, `NAMESPACE/NAME`.
    #[arg(long)]
    pub job: String,
    /// The tenant: its id or name.
    #[arg(long)]
    pub tenant: String,
    /// The operation.
    #[arg(long)]
    pub operation: String,
    /// The batch id (one per triggered operation; the workflow's).
    #[arg(long)]
    pub batch: String,
    /// The changeset file (YAML); default an empty changeset.
    #[arg(long, value_name = "FILE")]
    pub changeset: Option<PathBuf>,
    /// Attempt number (retries count up).
    #[arg(long, default_value_t = 1)]
    pub attempt: u32,
    /// Region (default: the first configured, or the in-cluster one).
    #[arg(long)]
    pub region: Option<String>,
    /// Engine label to put on the branch.
    #[arg(long, value_enum, default_value_t = Engine::Argo)]
    pub engine: Engine,
}

/// Reads and checks a changeset file (default: an empty changeset).
pub fn read_changeset(path: Option<&PathBuf>) -> Result<String> {
    let Some(path) = path else { return Ok("{}\n".into()) };
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input(format!("changeset {}: {e}", path.display())))?;
    serde_saphyr::from_str::<serde_json::Value>(&text)
        .map_err(|e| Error::Input(format!("changeset {}: not valid YAML: {e}", path.display())))?;
    Ok(text)
}

/// Runs `tlc bridge`; the exit code is the container's.
pub async fn run(global: &GlobalArgs, args: BridgeArgs) -> Result<u8> {
    let job_ref = JobRef::parse(&args.job)
        .ok_or_else(|| Error::Input(format!("--job must be NAMESPACE/NAME, got \"{}\"", args.job)))?;
    let operation = Operation::new(&args.operation).map_err(|e| Error::Input(format!("--operation: {e}")))?;
    let changeset = read_changeset(args.changeset.as_ref())?;
    let session = Session::open(global).await?;
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
    let tenant = &tenants[0];
    if !tenant.is_usable() {
        return Err(Error::Input(format!("tenant {} cannot be used: {}", tenant.name, tenant.problems.join("; "))));
    }
    let containers: Vec<String> =
        lifecycle.template.spec.iter().flat_map(|s| s.containers.iter().map(|c| c.name.clone())).collect();
    let spec = BranchSpec {
        region: region.name.clone(),
        job: lifecycle,
        tenant_id: tenant.id.clone(),
        tenant_name: tenant.name.clone(),
        environment_yaml: tenant.environment_yaml.clone(),
        operation: operation.to_string(),
        batch_id: args.batch.clone(),
        changeset_yaml: changeset,
        attempt: args.attempt,
        engine: args.engine,
        mount_dir: scope.mount_dir.clone(),
        migration: None,
    };
    let launched = bridge::launch(&region.client, &spec).await?;
    let pod = launched.pod.metadata.name.clone().unwrap_or_default();
    eprintln!(
        "tlc bridge: {} pod {}/{pod} for {} ({}) {operation}, batch {}",
        if launched.created { "created" } else { "attached to" },
        job_ref.namespace,
        tenant.name,
        tenant.id,
        args.batch
    );
    let stop = CancellationToken::new();
    let streams = containers.iter().map(|container| {
        let source = Source {
            region: region.name.clone(),
            namespace: job_ref.namespace.clone(),
            pod: pod.clone(),
            container: container.clone(),
        };
        let client = region.client.clone();
        let stop = stop.clone();
        let prefix = (containers.len() > 1).then(|| format!("[{container}] "));
        async move {
            let (tx, mut rx) = mpsc::channel::<Vec<RawLine>>(64);
            let printer = async move {
                use std::io::Write as _;
                while let Some(lines) = rx.recv().await {
                    let mut out = std::io::stdout().lock();
                    for line in lines {
                        let _ = writeln!(
                            out,
                            "{}{}",
                            prefix.as_deref().unwrap_or(""),
                            crate::logs::sanitize::strip(&line.text)
                        );
                    }
                    let _ = out.flush();
                }
            };
            let mut cursor = Cursor::default();
            let (result, ()) = tokio::join!(
                async {
                    let r = follow(&client, &source, true, &mut cursor, &tx, &stop).await;
                    drop(tx);
                    r
                },
                printer
            );
            result
        }
    });
    for result in futures::future::join_all(streams).await {
        if let Err(e) = result {
            eprintln!("tlc bridge: logs incomplete: {e}");
        }
    }
    let outcome = bridge::wait_for_outcome(&region.client, &region.name, &job_ref.namespace, &pod).await?;
    match outcome.exit_code {
        Some(code) => {
            eprintln!(
                "tlc bridge: {job_ref} {} with exit code {code}{}",
                outcome.phase.to_lowercase(),
                outcome.reason.map(|r| format!(" ({r})")).unwrap_or_default()
            );
            Ok(u8::try_from(code.rem_euclid(256)).unwrap_or(1))
        }
        None => Err(Error::Input(format!(
            "branch pod {}/{pod} ended without an exit code: {}",
            job_ref.namespace,
            outcome.reason.unwrap_or_else(|| outcome.phase.clone())
        ))),
    }
}
