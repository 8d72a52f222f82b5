//! `tlc cancel BATCH` and `tlc retry BATCH`: stop a batch's unfinished branches; rerun its failed or
//! cancelled branches as a new attempt in the same batch. Both are mutations: confirmed, refused in
//! read-only mode.

use clap::Args;
use tokio::sync::mpsc;

use super::confirm::{Ask, confirm};
use super::live::{LiveOptions, follow_batches};
use super::output::colour;
use super::printer::summary;
use super::run::warn_all;
use super::runs::find_batch;
use super::session::{GlobalArgs, Session};
use crate::lifecycle::engine::Runner;
use crate::lifecycle::engine::direct::describe;
use crate::lifecycle::engine::runner::CancelMode;
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::run::{Batch, Phase};

/// Options of `tlc cancel` and `tlc retry`.
#[derive(Debug, Args)]
pub struct ManageArgs {
    /// The batch id, or its Workflow's name.
    pub batch: String,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
    /// Only look in these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// `tlc cancel` of an Argo batch: Argo's Terminate (nothing more runs, exit handlers neither)
    /// instead of its Stop.
    #[arg(long)]
    pub terminate: bool,
}

async fn find(session: &Session, args: &ManageArgs) -> Result<Batch> {
    let regions = session.region_names(&args.region)?;
    Ok(find_batch(session, &regions, &args.batch).await?.1)
}

/// Runs `tlc cancel`.
pub async fn cancel(global: &GlobalArgs, args: ManageArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let batch = find(&session, &args).await?;
    let mode = if args.terminate { CancelMode::Terminate } else { CancelMode::Stop };
    let ask = match &batch.workflow {
        // Argo decides what is finished (and refuses a finished Workflow in its own words).
        Some(w) => Ask::YesNo(format!(
            "{} Workflow {}/{} of batch {} ({} {})?",
            if args.terminate { "Terminate" } else { "Stop" },
            w.namespace,
            w.name,
            batch.id,
            batch.tenant_name,
            batch.operation
        )),
        None => {
            let running = batch.branches.values().filter(|b| !b.phase().is_final()).count();
            if running == 0 {
                println!("batch {} has no unfinished branch to cancel", batch.id);
                return Ok(0);
            }
            Ask::YesNo(format!(
                "Cancel {running} unfinished branches of batch {} ({} {})?",
                batch.id, batch.tenant_name, batch.operation
            ))
        }
    };
    confirm(&format!("cancel batch {}", batch.id), &ask, args.yes, session.config.run.read_only)?;
    let runner = Runner::from_config(session.regions.clone(), &session.config);
    let (result, problems) = runner.cancel(&batch, mode).await;
    warn_all(problems);
    let stopped = result?;
    match &batch.workflow {
        Some(_) => println!(
            "{} Workflow {} of batch {}: its running branches get SIGTERM and stop their branch pods",
            if args.terminate { "terminated" } else { "stopped" },
            stopped.join(", "),
            batch.id
        ),
        None => println!(
            "cancelled {} branch pods of batch {}, stopped and kept with their logs: {}",
            stopped.len(),
            batch.id,
            stopped.join(", ")
        ),
    }
    Ok(0)
}

/// Runs `tlc retry`: reruns the failed and cancelled branches and follows them.
pub async fn retry(global: &GlobalArgs, args: ManageArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let batch = find(&session, &args).await?;
    let runner = Runner::from_config(session.regions.clone(), &session.config);
    if batch.workflow.is_some() {
        return retry_workflow(&session, &runner, batch, &args).await;
    }
    let (jobs, errors) = session.jobs(std::slice::from_ref(&batch.region)).await;
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    let region_jobs = jobs.get(&batch.region).cloned().unwrap_or_default();
    let retry = runner.engine().retry_plan(&batch, &region_jobs, &session.config.lifecycle.mount_dir, None).await?;
    for s in &retry.skipped {
        eprintln!("tlc: not retrying {}: {}", s.job, s.reason);
    }
    if retry.branches.is_empty() {
        return Err(Error::Input(format!("batch {}: nothing can be retried", batch.id)));
    }
    let jobs_text = describe(&retry.branches.iter().map(|b| b.job.job.clone()).collect::<Vec<_>>());
    let ask = Ask::YesNo(format!(
        "Retry {} branches of batch {} ({} {}): {jobs_text}?",
        retry.branches.len(),
        batch.id,
        batch.tenant_name,
        batch.operation
    ));
    confirm(&format!("retry batch {}", batch.id), &ask, args.yes, session.config.run.read_only)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let stop = tokio_util::sync::CancellationToken::new();
    let run = {
        let (runner, stop) = (runner.clone(), stop.clone());
        tokio::spawn(async move { runner.retry(retry, &tx, &stop).await })
    };
    let mut initial = crate::lifecycle::run::RunState::default();
    initial.batches.insert(batch.id.clone(), batch.clone());
    let live = follow_batches(
        &session.regions,
        &[(batch.region.clone(), batch.id.clone())],
        initial,
        Some(rx),
        follow_options(&session),
    )
    .await;
    if live.detached {
        stop.cancel();
    }
    match run.await {
        Ok(ran) => warn_all(ran.audit_problems),
        Err(e) => eprintln!("tlc: the retry stopped: {e}"),
    }
    if live.detached {
        return Ok(super::run::DETACHED);
    }
    let after = live.state.batches.get(&batch.id).cloned().unwrap_or(batch);
    println!();
    print!("{}", summary(&after, jiff::Timestamp::now()));
    Ok(if after.phase() == Phase::Succeeded { 0 } else { super::run::BRANCHES_FAILED })
}

/// How `tlc retry` follows a batch.
fn follow_options(session: &Session) -> LiveOptions {
    LiveOptions {
        follow: true,
        lines: true,
        status: true,
        colour: colour(),
        with_tenant: false,
        timestamps: false,
        branches: vec![],
        stream_limit: 64,
        json: false,
        argo_namespace: Some(session.config.run.argo_namespace.clone()),
    }
}

/// `tlc retry` of a batch the Argo engine ran: Argo's retry, done from the client (every failed
/// branch of a Failed or Error Workflow runs again, as the next attempt of each), refused where
/// Argo refuses; then follows the Workflow to its end.
async fn retry_workflow(session: &Session, runner: &Runner, batch: Batch, args: &ManageArgs) -> Result<u8> {
    let plan = runner.argo().retry_plan(&batch).await?;
    let jobs: Vec<String> =
        plan.rerun.iter().map(|r| r.job.as_ref().map_or(r.item.to_string(), ToString::to_string)).collect();
    let workflow = batch.workflow.as_ref().map(|w| format!("{}/{}", w.namespace, w.name)).unwrap_or_default();
    let ask = Ask::YesNo(format!(
        "Retry Workflow {workflow} of batch {} ({} {}): {}{}?",
        batch.id,
        batch.tenant_name,
        batch.operation,
        if plan.discovery_reruns { "discovery, then " } else { "" },
        if jobs.is_empty() { "the branches discovery lists".to_string() } else { describe_list(&jobs) }
    ));
    confirm(&format!("retry batch {}", batch.id), &ask, args.yes, session.config.run.read_only)?;
    let (result, problems) = runner.retry_workflow(&batch, &plan).await;
    warn_all(problems);
    result?;
    // The model starts from the Workflow as it was written back: running again.
    let mut initial = crate::lifecycle::run::RunState::default();
    initial.batches.insert(batch.id.clone(), batch.clone());
    if let Ok(object) = serde_json::from_value::<kube::api::DynamicObject>(plan.workflow.clone()) {
        let seen = crate::lifecycle::run::WorkflowSeen::read(&batch.region, &object);
        crate::lifecycle::run::update(&mut initial, crate::lifecycle::run::RunEvent::Workflow(Box::new(seen)));
    }
    let live = follow_batches(
        &session.regions,
        &[(batch.region.clone(), batch.id.clone())],
        initial,
        None,
        follow_options(session),
    )
    .await;
    if live.detached {
        return Ok(super::run::DETACHED);
    }
    let after = live.state.batches.get(&batch.id).cloned().unwrap_or(batch);
    println!();
    print!("{}", summary(&after, jiff::Timestamp::now()));
    Ok(if after.phase() == Phase::Succeeded { 0 } else { super::run::BRANCHES_FAILED })
}

/// `a, b and c`.
fn describe_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
