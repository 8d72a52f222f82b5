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
use super::runs::batches;
use super::session::{GlobalArgs, Session};
use crate::contract::labels::batch_selector;
use crate::lifecycle::engine::Runner;
use crate::lifecycle::engine::direct::describe;
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::run::{Batch, Phase};

/// Options of `tlc cancel` and `tlc retry`.
#[derive(Debug, Args)]
pub struct ManageArgs {
    /// The batch id.
    pub batch: String,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
    /// Only look in these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
}

async fn find(session: &Session, args: &ManageArgs) -> Result<Batch> {
    let regions = session.region_names(&args.region)?;
    let (state, errors) = batches(session, &regions, Some(&batch_selector(&args.batch))).await;
    if let (None, Some(e)) = (state.batches.get(&args.batch), errors.into_iter().next()) {
        return Err(e);
    }
    state.batches.get(&args.batch).cloned().ok_or_else(|| {
        Error::NotFound(format!("no batch {} in {} (no pod carries its label)", args.batch, regions.join(", ")))
    })
}

/// Runs `tlc cancel`.
pub async fn cancel(global: &GlobalArgs, args: ManageArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let batch = find(&session, &args).await?;
    let running: Vec<_> = batch.branches.values().filter(|b| !b.phase().is_final()).map(|b| b.job.clone()).collect();
    if running.is_empty() {
        println!("batch {} has no unfinished branch to cancel", batch.id);
        return Ok(0);
    }
    let ask = Ask::YesNo(format!(
        "Cancel {} unfinished branches of batch {} ({} {})?",
        running.len(),
        batch.id,
        batch.tenant_name,
        batch.operation
    ));
    confirm(&format!("cancel batch {}", batch.id), &ask, args.yes, session.config.run.read_only)?;
    let runner = Runner::new(session.regions.clone(), session.config.run.concurrency);
    let (result, problems) = runner.cancel(&batch).await;
    warn_all(problems);
    let deleted = result?;
    println!("cancelled {} branch pods of batch {}: {}", deleted.len(), batch.id, deleted.join(", "));
    Ok(0)
}

/// Runs `tlc retry`: reruns the failed and cancelled branches and follows them.
pub async fn retry(global: &GlobalArgs, args: ManageArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let batch = find(&session, &args).await?;
    let runner = Runner::new(session.regions.clone(), session.config.run.concurrency);
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
    let options = LiveOptions {
        follow: true,
        lines: true,
        status: true,
        colour: colour(),
        with_tenant: false,
        timestamps: false,
        branches: vec![],
        stream_limit: 64,
        json: false,
    };
    let live =
        follow_batches(&session.regions, &[(batch.region.clone(), batch.id.clone())], initial, Some(rx), options).await;
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
