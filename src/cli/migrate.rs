//! `tlc migrate`: move tenants to another region — migrate-out in their region, then, only if every
//! migrate-out branch succeeded, migrate-in in the target region: the same chain the console's
//! `:migrate` runs (`lifecycle::engine::migrate`). It previews both halves, asks for the tenant's
//! name (or the number of tenants) unless `--yes`, follows both halves, and exits 0 only when every
//! branch of both succeeded (3 otherwise, 130 when detached).

use std::path::PathBuf;

use clap::Args;

use super::bridge::read_changeset;
use super::confirm::{Ask, confirm};
use super::output::{Format, print_json};
use super::run::{BRANCHES_FAILED, detached, live_options, plan_view, print_summaries, render_plan, submit_and_follow};
use super::session::{GlobalArgs, Session};
use crate::contract::operation::KnownOperation;
use crate::contract::{Engine, Operation};
use crate::lifecycle::engine::migrate::{self, Next, migrate_in_request, migrate_out_request};
use crate::lifecycle::engine::{Plan, Request, Runner, plan};
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::run::{Batch, Phase};

/// Options of `tlc migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Tenant name or id (repeatable: one migration per tenant).
    #[arg(long = "tenant", required = true, num_args = 1.., value_name = "TENANT")]
    pub tenants: Vec<String>,
    /// The region to move the tenants to.
    #[arg(long, value_name = "REGION")]
    pub to: String,
    /// The changeset file (YAML) both halves get; default an empty changeset.
    #[arg(long, value_name = "FILE")]
    pub changeset: Option<PathBuf>,
    /// Print the plan of both halves and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
    /// Prefix log lines with the kubelet's timestamps.
    #[arg(long)]
    pub timestamps: bool,
    /// The engine: `direct` (this process runs the fan-out) or `argo` (a Workflow of the
    /// tenant-lifecycle template runs it in the cluster); default: the configuration's `run.engine`.
    #[arg(long, value_enum)]
    pub engine: Option<Engine>,
    /// Output format (json: the plans with --dry-run, else the final batches; no log lines).
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// The two halves as `--output json --dry-run` shows them.
#[derive(Debug, serde::Serialize)]
struct MigrationPlanView {
    target: String,
    migrate_out: super::run::PlanView,
    migrate_in: super::run::PlanView,
}

/// The migrate-in half as previewed: its batch ids are made when it starts, so none is shown.
fn render_in_preview(in_preview: &Plan, mount_dir: &str) -> String {
    let mut text = render_plan(in_preview, mount_dir);
    for b in &in_preview.batches {
        text = text.replace(&b.batch_id, "(a new id when it starts)");
    }
    text
}

/// Runs `tlc migrate`.
pub async fn run(global: &GlobalArgs, args: MigrateArgs) -> Result<u8> {
    let changeset = read_changeset(args.changeset.as_ref())?;
    let session = Session::open(global).await?;
    session.regions.require(&args.to)?;
    let tenants = session.resolve_tenants(&args.tenants, &session.regions.names()).await?;
    if let Some(t) = tenants.iter().find(|t| t.region == args.to) {
        return Err(Error::Input(format!("tenant {} is already in {}: nothing to migrate", t.name, args.to)));
    }
    let mut regions: Vec<String> = tenants.iter().map(|t| t.region.clone()).chain([args.to.clone()]).collect();
    regions.sort();
    regions.dedup();
    let (jobs, errors) = session.jobs(&regions).await;
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    let mount_dir = session.config.lifecycle.mount_dir.clone();
    let request = migrate_out_request(
        Request {
            tenants,
            operation: Operation::from(KnownOperation::MigrateOut),
            changeset_yaml: changeset,
            only_jobs: None,
            engine: args.engine.unwrap_or(session.config.run.engine),
            mount_dir: mount_dir.clone(),
            migration: None,
        },
        &args.to,
    );
    let out = plan(&request, &jobs);
    let in_preview = plan(&migrate_in_request(&request, &args.to, ""), &jobs);
    let json = args.output == Format::Json;
    if json && args.dry_run {
        print_json(&MigrationPlanView {
            target: args.to.clone(),
            migrate_out: plan_view(&out, &mount_dir),
            migrate_in: plan_view(&in_preview, &mount_dir),
        });
    } else if !json {
        println!(
            "Migration to {}: migrate-out first; then, only if every migrate-out branch succeeds, migrate-in in {}.\n",
            args.to, args.to
        );
        print!("1. {}", render_plan(&out, &mount_dir));
        print!("\n2. {}", render_in_preview(&in_preview, &mount_dir));
    }
    if !out.is_runnable() {
        return Err(Error::Input(format!("nothing was run: {}", out.problems.join("; "))));
    }
    if !in_preview.is_runnable() || in_preview.branch_count() == 0 {
        let why = if in_preview.problems.is_empty() {
            format!("no runnable Job handles lifecycle.migrate-in in {}", args.to)
        } else {
            in_preview.problems.join("; ")
        };
        return Err(Error::Input(format!("nothing was run: migrate-in could not run afterwards: {why}")));
    }
    if args.dry_run {
        return Ok(0);
    }
    let names: Vec<String> = out.batches.iter().map(|b| b.tenant.name.clone()).collect();
    let ask = match names.as_slice() {
        [one] => Ask::Type {
            prompt: format!("This moves {one} to {}. Type the tenant's name ({one}) to confirm:", args.to),
            expected: one.clone(),
        },
        many => Ask::Type {
            prompt: format!(
                "This moves {} tenants to {} ({}). Type the number of tenants ({}) to confirm:",
                many.len(),
                args.to,
                many.join(", "),
                many.len()
            ),
            expected: many.len().to_string(),
        },
    };
    confirm(&format!("migrate to {}", args.to), &ask, args.yes, session.config.run.read_only)?;

    let runner = Runner::from_config(session.regions.clone(), &session.config);
    let migrations = migrate::migrations(&out, &args.to);
    let options = live_options(&session, json, out.batches.len() > 1, args.timestamps);
    let half = async |plan: &Plan, title: String| {
        if !json {
            println!("\n{title}\n");
        }
        let followed = submit_and_follow(&session, &runner, plan, &request.changeset_yaml, options.clone()).await;
        let ended: Vec<Batch> =
            plan.batches.iter().filter_map(|b| followed.live.state.batches.get(&b.batch_id).cloned()).collect();
        (followed, ended)
    };
    let (first, mut ended) = half(&out, "migrate-out".into()).await;
    if first.live.detached {
        eprintln!("tlc: migrate-in will not be started: tlc migrate was detached before migrate-out ended");
        return Ok(detached(&out));
    }
    let mut complete = true;
    // The target's Jobs as they are now: teams may have changed them during migrate-out.
    let (now_jobs, errors) = session.jobs(std::slice::from_ref(&args.to)).await;
    let out_results = first.ran.results.as_deref().unwrap_or_default();
    let mut in_batches = Vec::new();
    for m in &migrations {
        let decision = match errors.first() {
            Some(e) => Next::Stop(format!("migrate-in not started: cannot read the Jobs of {}: {e}", args.to)),
            None => migrate::next(m, out_results, &request, &now_jobs),
        };
        match decision {
            Next::Stop(why) => {
                complete = false;
                eprintln!("tlc: migration of {}: {why}", m.tenant.name);
            }
            Next::In(p) => in_batches.extend(p.batches),
        }
    }
    if !in_batches.is_empty() {
        let in_plan = Plan {
            operation: Operation::from(KnownOperation::MigrateIn),
            engine: out.engine,
            batches: in_batches,
            problems: Vec::new(),
        };
        let (second, in_ended) = half(&in_plan, format!("migrate-in in {}", args.to)).await;
        if second.live.detached {
            return Ok(detached(&in_plan));
        }
        ended.extend(in_ended);
    }
    let refs: Vec<&Batch> = ended.iter().collect();
    if json {
        print_json(&refs);
    } else {
        print_summaries(&refs);
    }
    let all_succeeded = complete && ended.iter().all(|b| b.phase() == Phase::Succeeded);
    Ok(if all_succeeded { 0 } else { BRANCHES_FAILED })
}
