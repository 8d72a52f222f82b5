//! `tlc run`: plan, confirm, fan out and follow — the headless form of triggering an operation.
//! It prints the plan (which Jobs run in which namespaces, which are skipped and why, the context
//! every branch gets), asks for confirmation, runs the batches with the chosen engine, follows every
//! branch stern-style, and ends with a summary. Exit code 0 when every branch succeeded, 3 when any
//! failed or was cancelled, 130 when detached with Ctrl-C (the batches go on in the cluster).

use std::path::PathBuf;

use clap::Args;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::bridge::read_changeset;
use super::confirm::{Ask, confirm};
use super::live::{Live, LiveOptions, follow_batches};
use super::output::{Format, Table, colour, print_json, safe};
use super::printer::summary;
use super::session::{GlobalArgs, Session};
use crate::contract::{Engine, JobRef, Operation, TenantContext};
use crate::lifecycle::engine::{Plan, Ran, Request, Runner, plan};
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::run::{Phase, RunState};

/// Exit code: some branch failed or was cancelled.
pub const BRANCHES_FAILED: u8 = 3;
/// Exit code: detached with Ctrl-C.
pub const DETACHED: u8 = 130;

/// Options of `tlc run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Tenant name or id (repeatable: one batch per tenant).
    #[arg(long = "tenant", required = true, num_args = 1.., value_name = "TENANT")]
    pub tenants: Vec<String>,
    /// The operation (lifecycle.upsert, lifecycle.migrate-out, lifecycle.migrate-in, team.operation, …).
    #[arg(long)]
    pub operation: String,
    /// The changeset file (YAML) every branch gets; default an empty changeset.
    #[arg(long, value_name = "FILE")]
    pub changeset: Option<PathBuf>,
    /// Only these Jobs, `NAMESPACE/NAME` (repeatable; how team operations pick theirs).
    #[arg(long = "job", value_name = "NS/NAME")]
    pub jobs: Vec<String>,
    /// Print the plan and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
    /// Only tenants of these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Prefix log lines with the kubelet's timestamps.
    #[arg(long)]
    pub timestamps: bool,
    /// The engine: `direct` (this process runs the fan-out) or `argo` (a Workflow of the
    /// tenant-lifecycle template runs it in the cluster); default: the configuration's `run.engine`.
    #[arg(long, value_enum)]
    pub engine: Option<Engine>,
    /// Output format (json: the plan with --dry-run, else the final batches; no log lines).
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// The plan as `--output json` shows it.
#[derive(Debug, serde::Serialize)]
pub struct PlanView {
    /// Operation.
    pub operation: String,
    /// The engine that runs it.
    pub engine: String,
    /// One entry per batch.
    pub batches: Vec<BatchPlanView>,
    /// Why it cannot run, if it cannot.
    pub problems: Vec<String>,
}

/// One planned batch.
#[derive(Debug, serde::Serialize)]
pub struct BatchPlanView {
    /// Batch id.
    pub batch_id: String,
    /// Region.
    pub region: String,
    /// Tenant name.
    pub tenant: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Jobs that run.
    pub run: Vec<JobRef>,
    /// Jobs that do not, and why.
    pub skipped: Vec<crate::lifecycle::engine::Skipped>,
    /// The five variables every branch gets.
    pub env: std::collections::BTreeMap<String, String>,
}

fn context_of(plan: &Plan, i: usize, mount_dir: &str) -> TenantContext {
    let b = &plan.batches[i];
    TenantContext {
        tenant_id: b.tenant.id.clone(),
        batch_id: b.batch_id.clone(),
        operation: plan.operation.to_string(),
        mount_dir: mount_dir.into(),
    }
}

/// The plan's JSON view.
pub fn plan_view(plan: &Plan, mount_dir: &str) -> PlanView {
    PlanView {
        operation: plan.operation.to_string(),
        engine: plan.engine.as_str().to_string(),
        batches: plan
            .batches
            .iter()
            .enumerate()
            .map(|(i, b)| BatchPlanView {
                batch_id: b.batch_id.clone(),
                region: b.region.clone(),
                tenant: b.tenant.name.clone(),
                tenant_id: b.tenant.id.clone(),
                run: b.branches.iter().map(|s| s.job.job.clone()).collect(),
                skipped: b.skipped.clone(),
                env: context_of(plan, i, mount_dir).env().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            })
            .collect(),
        problems: plan.problems.clone(),
    }
}

/// The plan for people.
pub fn render_plan(plan: &Plan, mount_dir: &str) -> String {
    let mut out = format!(
        "Plan: {} for {} tenant{}, {} branch{}, on the {} engine\n",
        plan.operation,
        plan.batches.len(),
        if plan.batches.len() == 1 { "" } else { "s" },
        plan.branch_count(),
        if plan.branch_count() == 1 { "" } else { "es" },
        plan.engine.as_str()
    );
    for (i, b) in plan.batches.iter().enumerate() {
        out.push_str(&format!(
            "\n{} ({}) in {}  batch {}\n",
            safe(&b.tenant.name),
            safe(&b.tenant.id),
            safe(&b.region),
            b.batch_id
        ));
        let mut t = Table::new(&["", "JOB", "IMAGE / REASON"]);
        for s in &b.branches {
            t.row(vec!["run".into(), safe(&s.job.job.to_string()), safe(&s.job.images.join(","))]);
        }
        for s in &b.skipped {
            t.row(vec!["skip".into(), safe(&s.job.to_string()), safe(&s.reason)]);
        }
        for line in t.render().lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("  every branch gets:\n");
        for (k, v) in context_of(plan, i, mount_dir).env() {
            out.push_str(&format!("    {k}={}\n", safe(&v)));
        }
    }
    for p in &plan.problems {
        out.push_str(&format!("\ncannot run: {}\n", safe(p)));
    }
    out
}

/// What confirming a plan takes: a typed tenant name for migrate-out, a typed count for several
/// tenants, else yes/no.
pub fn ask_for(plan: &Plan) -> Ask {
    let n = plan.batches.len();
    let what = format!(
        "{} for {}",
        plan.operation,
        plan.batches.iter().map(|b| b.tenant.name.clone()).collect::<Vec<_>>().join(", ")
    );
    if n > 1 {
        Ask::Type {
            prompt: format!(
                "This runs {what} ({} branches). Type the number of tenants ({n}) to confirm:",
                plan.branch_count()
            ),
            expected: n.to_string(),
        }
    } else if plan.operation.is_destructive() {
        let name = plan.batches.first().map(|b| b.tenant.name.clone()).unwrap_or_default();
        Ask::Type { prompt: format!("This runs {what}. Type the tenant's name ({name}) to confirm:"), expected: name }
    } else {
        Ask::YesNo(format!("Run {what} ({} branches)?", plan.branch_count()))
    }
}

/// Prints audit problems as warnings (the action itself went ahead).
pub(super) fn warn_all(problems: Vec<String>) {
    for p in problems {
        eprintln!("tlc: warning: {p}");
    }
}

/// Runs `tlc run`.
pub async fn run(global: &GlobalArgs, args: RunArgs) -> Result<u8> {
    let operation = Operation::new(&args.operation).map_err(|e| Error::Input(format!("--operation: {e}")))?;
    let changeset = read_changeset(args.changeset.as_ref())?;
    let only_jobs = if args.jobs.is_empty() {
        None
    } else {
        Some(
            args.jobs
                .iter()
                .map(|j| {
                    JobRef::parse(j).ok_or_else(|| Error::Input(format!("--job must be NAMESPACE/NAME, got \"{j}\"")))
                })
                .collect::<Result<Vec<_>>>()?,
        )
    };
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let tenants = session.resolve_tenants(&args.tenants, &regions).await?;
    let tenant_regions: Vec<String> = {
        let mut r: Vec<String> = tenants.iter().map(|t| t.region.clone()).collect();
        r.sort();
        r.dedup();
        r
    };
    let (jobs, errors) = session.jobs(&tenant_regions).await;
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    let mount_dir = session.config.lifecycle.mount_dir.clone();
    let request = Request {
        tenants,
        operation,
        changeset_yaml: changeset,
        only_jobs,
        engine: args.engine.unwrap_or(session.config.run.engine),
        mount_dir: mount_dir.clone(),
        migration: None,
    };
    let plan = plan(&request, &jobs);
    let json = args.output == Format::Json;
    if json && args.dry_run {
        print_json(&plan_view(&plan, &mount_dir));
    } else if !json {
        print!("{}", render_plan(&plan, &mount_dir));
    }
    if !plan.is_runnable() {
        return Err(Error::Input(format!("nothing was run: {}", plan.problems.join("; "))));
    }
    if args.dry_run {
        return Ok(0);
    }
    confirm(&format!("run {}", plan.operation), &ask_for(&plan), args.yes, session.config.run.read_only)?;
    let runner = Runner::from_config(session.regions.clone(), &session.config);
    let options = live_options(&session, json, plan.batches.len() > 1, args.timestamps);
    if !json {
        println!();
    }
    let followed = submit_and_follow(&session, &runner, &plan, &request.changeset_yaml, options).await;
    if followed.live.detached {
        return Ok(detached(&plan));
    }
    let batches: Vec<_> = plan.batches.iter().filter_map(|b| followed.live.state.batches.get(&b.batch_id)).collect();
    if json {
        print_json(&batches);
    } else {
        print_summaries(&batches);
    }
    let failed = batches.iter().any(|b| b.phase() != Phase::Succeeded);
    Ok(if failed { BRANCHES_FAILED } else { 0 })
}

/// How `tlc run` and `tlc migrate` follow what they started.
pub(super) fn live_options(session: &Session, json: bool, several_tenants: bool, timestamps: bool) -> LiveOptions {
    LiveOptions {
        argo_namespace: Some(session.config.run.argo_namespace.clone()),
        follow: true,
        lines: !json,
        status: !json,
        colour: !json && colour(),
        with_tenant: several_tenants,
        timestamps,
        branches: vec![],
        stream_limit: 256,
        json: false,
    }
}

/// What submitting and following a plan came to.
pub(super) struct Followed {
    /// What was seen.
    pub live: Live,
    /// What the engine did (every branch's result, or why nothing ran).
    pub ran: Ran,
}

/// Submits a confirmed plan through the runner (audited) and follows its batches until every
/// branch has ended, or the operator detaches (the engine then stops launching, and what it did is
/// still audited). Audit problems and incomplete log streams are printed as warnings.
pub(super) async fn submit_and_follow(
    session: &Session,
    runner: &Runner,
    plan: &Plan,
    changeset: &str,
    options: LiveOptions,
) -> Followed {
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let run = {
        let (runner, plan, changeset, stop) = (runner.clone(), plan.clone(), changeset.to_string(), stop.clone());
        tokio::spawn(async move { runner.submit(&plan, &changeset, &events_tx, &stop).await })
    };
    let batch_ids: Vec<(String, String)> =
        plan.batches.iter().map(|b| (b.region.clone(), b.batch_id.clone())).collect();
    let live = follow_batches(&session.regions, &batch_ids, RunState::default(), Some(events_rx), options).await;
    if live.detached {
        stop.cancel();
    }
    let ran = match run.await {
        Ok(ran) => ran,
        Err(e) => Ran { results: Err(Error::Input(format!("the run stopped: {e}"))), audit_problems: Vec::new() },
    };
    warn_all(ran.audit_problems.clone());
    if let Err(e) = &ran.results {
        eprintln!("tlc: nothing was run: {e}");
    }
    for e in &live.stream_errors {
        eprintln!("tlc: log stream incomplete: {e}");
    }
    // Seen to the end: the outcome goes into each batch's record.
    if !live.detached {
        for (_, id) in &batch_ids {
            if let Some(batch) = live.state.batches.get(id).filter(|b| b.phase().is_final()) {
                warn_all(runner.auditor().record_outcome(batch).await);
            }
        }
    }
    Followed { live, ran }
}

/// Says how to follow detached batches; the exit code for a detach.
pub(super) fn detached(plan: &Plan) -> u8 {
    eprintln!("tlc: detached; the launched branches go on in the cluster. Follow them with:");
    for b in &plan.batches {
        eprintln!("  tlc logs {} --follow", b.batch_id);
    }
    DETACHED
}

/// Prints the end-of-run summary of each batch.
pub(super) fn print_summaries(batches: &[&crate::lifecycle::run::Batch]) {
    println!();
    let now = jiff::Timestamp::now();
    for b in batches {
        println!("{}", summary(b, now));
    }
}
