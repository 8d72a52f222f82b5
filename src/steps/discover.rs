//! `tlc discover`: the discovery step. It lists the lifecycle Jobs of the region that handle the
//! operation, and prints the seed's JSON — `[{"name":…,"namespace":…}]`, stable order, runnable Jobs
//! only — for a `withParam`. In the WorkflowTemplate it also checks the tenant before any branch
//! starts, settles the batch id (the one given, or a new UUIDv7), narrows the Jobs to a team
//! operation's pick, and writes `jobs.json` and `batch` for Argo's output parameters.

use crate::audit::{AuditAction, AuditRecord, record};
use crate::cli::discover::{DiscoverArgs, DiscoverFormat};
use crate::cli::jobs::JobView;
use crate::cli::output::{Table, json_text, safe};
use crate::cli::session::Session;
use crate::contract::{Engine, JobRef, LifecycleJob, Operation, new_batch_id};
use crate::lifecycle::discovery;
use crate::lifecycle::error::{Error, Result};

use super::StepEnv;

/// The file names `--outputs DIR` writes (the template's `valueFrom.path`s).
pub const JOBS_FILE: &str = "jobs.json";
/// See [`JOBS_FILE`].
pub const BATCH_FILE: &str = "batch";

/// Reads `--jobs`: comma-separated `NAMESPACE/NAME`, empty for every Job.
fn parse_only(jobs: Option<&str>) -> Result<Option<Vec<JobRef>>> {
    let Some(list) = jobs.map(str::trim).filter(|l| !l.is_empty()) else { return Ok(None) };
    list.split(',')
        .map(str::trim)
        .map(|j| JobRef::parse(j).ok_or_else(|| Error::Input(format!("--jobs: \"{j}\" is not NAMESPACE/NAME"))))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Runs discovery in `session`'s region (or `--region`), writing to `env`.
pub async fn run(env: &dyn StepEnv, session: &Session, args: &DiscoverArgs) -> Result<u8> {
    let operation = Operation::new(&args.operation).map_err(|e| Error::Input(format!("--operation: {e}")))?;
    let only = parse_only(args.jobs.as_deref())?;
    let given = args.batch.as_deref().map(str::trim).filter(|b| !b.is_empty());
    let batch = match given {
        Some(b) if uuid::Uuid::parse_str(b).is_ok() => b.to_string(),
        Some(b) => return Err(Error::Input(format!("--batch \"{b}\" is not a batch id (a UUID)"))),
        None => new_batch_id(),
    };
    let region = match &args.region {
        Some(r) => session.regions.require(r)?,
        None => session.regions.iter().next().ok_or_else(|| Error::Setup("no region configured".into()))?,
    };
    let mut tenant = None;
    if let Some(query) = args.tenant.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let tenants = session
            .resolve_tenants(std::slice::from_ref(&query.to_string()), std::slice::from_ref(&region.name))
            .await?;
        if let Some(t) = tenants.iter().find(|t| !t.is_usable()) {
            return Err(Error::Input(format!("tenant {} cannot be used: {}", t.name, t.problems.join("; "))));
        }
        tenant = tenants.into_iter().next();
    }
    let scope = session.scope();
    let jobs = discovery::discover(&region.client, &region.name, &scope).await?;
    if let Some(only) = &only {
        for wanted in only {
            match jobs.iter().find(|j| &j.job == wanted) {
                Some(j) if !j.is_runnable() => {
                    let problems: Vec<String> = j.problems.iter().map(ToString::to_string).collect();
                    return Err(Error::Input(format!("job {wanted} cannot run: {}", problems.join("; "))));
                }
                Some(j) if !j.handles(operation.as_str()) => {
                    return Err(Error::Input(format!("job {wanted} does not handle {operation}")));
                }
                Some(_) => {}
                None => {
                    return Err(Error::Input(format!(
                        "job {wanted} is not a lifecycle Job in {} (no {} annotation)",
                        region.name, scope.annotation
                    )));
                }
            }
        }
    }
    let runnable: Vec<&LifecycleJob> = discovery::runnable_for(&jobs, operation.as_str())
        .filter(|j| only.as_ref().is_none_or(|o| o.contains(&j.job)))
        .collect();
    let seed = discovery::seed_json(runnable.iter().copied());
    match args.output {
        DiscoverFormat::Seed => env.stdout(&format!("{seed}\n")),
        DiscoverFormat::Json => {
            let relevant: Vec<JobView> = jobs
                .iter()
                .filter(|j| j.handles(operation.as_str()) || j.operations.is_empty())
                .map(|j| JobView::new(&region.name, j))
                .collect();
            env.stdout(&format!("{}\n", json_text(&relevant)));
        }
        DiscoverFormat::Wide => {
            let mut t = Table::new(&["NAMESPACE", "NAME", "RUNS", "PROBLEMS"]);
            for j in jobs.iter().filter(|j| j.handles(operation.as_str()) || j.operations.is_empty()) {
                let runs = if runnable.iter().any(|r| r.job == j.job) { "yes" } else { "no" };
                let problems: Vec<String> = j.problems.iter().map(ToString::to_string).collect();
                t.row(vec![safe(&j.job.namespace), safe(&j.job.name), runs.into(), safe(&problems.join("; "))]);
            }
            env.stdout(&t.render());
        }
    }
    if runnable.is_empty() {
        env.stderr(&format!(
            "tlc discover: no runnable lifecycle Job handles {operation} in {} (searched {} for the annotation {}; {} lifecycle Job(s) found); `tlc doctor` shows which annotation keys the suspended Jobs carry\n",
            region.name,
            if scope.namespaces.is_empty() { "every namespace".to_string() } else { scope.namespaces.join(", ") },
            scope.annotation,
            jobs.len()
        ));
    }
    // A run submitted without a batch id was not started through tlc (a Sensor, `argo submit`):
    // nobody else writes its record, so the step does, before any branch starts — or fails, so an
    // unattended run never goes unrecorded.
    if given.is_none()
        && args.outputs.is_some()
        && let Some(t) = &tenant
    {
        let workflow = args.workflow.clone().unwrap_or_else(|| "(unnamed)".into());
        let entry = AuditRecord {
            at: jiff::Timestamp::now(),
            who: format!("Argo Workflow {workflow}"),
            action: AuditAction::Trigger,
            batch_id: batch.clone(),
            region: region.name.clone(),
            tenant_id: t.id.clone(),
            tenant_name: t.name.clone(),
            operation: operation.to_string(),
            changeset_digest: crate::audit::changeset_digest(args.changeset_yaml.as_deref().unwrap_or_default()),
            jobs: runnable.iter().map(|j| j.job.to_string()).collect(),
            outcome: "ok".into(),
        };
        let namespace = &session.config.run.records_namespace;
        record::create_trigger(&region.client, namespace, &entry, Some(Engine::Argo)).await.map_err(|e| {
            e.with_note(format!(
                "the record of batch {batch} could not be written to {namespace}: install tlc's Argo kit's records Role (deploy/argo/)"
            ))
        })?;
        env.stderr(&format!("tlc discover: batch {batch} recorded in {namespace} (started by Workflow {workflow})\n"));
    }
    if let Some(dir) = args.outputs.as_deref() {
        let dir = dir.trim_end_matches('/');
        let write = |name: &str, text: &str| {
            let path = format!("{dir}/{name}");
            env.write_file(&path, text).map_err(Error::io(format!("write {path}")))
        };
        write(JOBS_FILE, &seed)?;
        write(BATCH_FILE, &batch)?;
        env.stderr(&format!(
            "tlc discover: batch {batch}: {operation} on {} Job(s){}\n",
            runnable.len(),
            if runnable.is_empty() {
                String::new()
            } else {
                format!(": {}", runnable.iter().map(|j| j.job.to_string()).collect::<Vec<_>>().join(", "))
            }
        ));
    }
    Ok(0)
}
