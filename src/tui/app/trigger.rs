//! Triggering from the console, the flow: tenants and an [`Intent`] → (team operations) pick the
//! Jobs, (`:migrate`) pick the target region → a preview of the plan, with an optional changeset
//! editor → a confirmation (typed for migrate-out, migrate and any multi-tenant request) → submit.
//! Read-only mode and RBAC refusals stop a trigger before any dialog opens, with the reason on the
//! status line. The dialogs themselves are in [`super::dialogs`].

use super::dialogs::{Confirm, JobChoice, JobPicker, MigrateIn, Pending, Preview, RegionPicker, TypedConfirm};
use super::{App, Effect, Submission, View};
use crate::contract::Engine;
use crate::contract::JobRef;
use crate::contract::context::BatchFiles;
use crate::contract::labels::MigrationLink;
use crate::contract::operation::KnownOperation;
use crate::lifecycle::engine::migrate::{self, Migration, migrate_in_request};
use crate::lifecycle::engine::plan::{Request, plan};
use crate::tenants::Tenant;
use crate::tui::input::LineInput;
use crate::tui::keys::Intent;

/// Starts triggering on the marked (or selected) tenants.
pub fn start(app: &mut App, intent: Intent) -> Vec<Effect> {
    if app.view != View::Tenants {
        app.notice(format!(":{} works on tenants: go to :tenants and select some", intent.command()), true);
        return Vec::new();
    }
    let tenants = app.action_tenants();
    if tenants.is_empty() {
        app.notice("no tenant selected", true);
        return Vec::new();
    }
    if let Some(t) = tenants.iter().find(|t| !t.is_usable()) {
        app.notice(format!("tenant {} cannot be used: {}", t.name, t.problems.join("; ")), true);
        return Vec::new();
    }
    for t in &tenants {
        if let Some(reason) = app.refusal(&t.region, false) {
            app.notice(format!("cannot {}: {reason}", intent.command()), true);
            return Vec::new();
        }
    }
    match intent {
        Intent::Operation(KnownOperation::TeamOperation) => {
            let team = KnownOperation::TeamOperation.name();
            let mut jobs: Vec<JobChoice> = Vec::new();
            for t in &tenants {
                for j in app.jobs.get(&t.region).into_iter().flatten() {
                    if j.handles(team) && !jobs.iter().any(|c| c.region == t.region && c.job == j.job) {
                        jobs.push(JobChoice { region: t.region.clone(), job: j.job.clone(), picked: false });
                    }
                }
            }
            if jobs.is_empty() {
                app.notice(format!("no Job handles {team} in the tenants' regions"), true);
                return Vec::new();
            }
            app.open_dialog(JobPicker { tenants, rows: jobs, cursor: 0 });
        }
        Intent::Migrate => {
            let sources: Vec<&str> = tenants.iter().map(|t| t.region.as_str()).collect();
            let regions: Vec<String> =
                app.regions.iter().map(|r| r.name.clone()).filter(|r| !sources.contains(&r.as_str())).collect();
            match regions.len() {
                0 => app.notice("migrate needs another region to move to: only one region is configured", true),
                1 => open_preview(app, intent, tenants, None, regions.into_iter().next()),
                _ => app.open_dialog(RegionPicker { tenants, rows: regions, cursor: 0 }),
            }
        }
        Intent::Operation(_) => open_preview(app, intent, tenants, None, None),
    }
    Vec::new()
}

/// Plans the request and opens its preview: `only` the picked Jobs (team operations), `target`
/// the region a migration moves the tenants to.
pub fn open_preview(
    app: &mut App,
    intent: Intent,
    tenants: Vec<Tenant>,
    only: Option<Vec<JobRef>>,
    target: Option<String>,
) {
    let request = Request {
        tenants,
        operation: intent.operation(),
        changeset_yaml: "{}\n".into(),
        only_jobs: only,
        engine: app.engine,
        mount_dir: app.mount_dir.clone(),
        migration: target.as_ref().map(|t| MigrationLink { id: String::new(), target: t.clone() }),
    };
    let preview = build_preview(app, request, target);
    app.open_dialog(preview);
}

fn build_preview(app: &App, request: Request, target: Option<String>) -> Preview {
    let migrate_in = target.map(|target| {
        let plan = plan(&migrate_in_request(&request, &target, ""), &app.jobs);
        MigrateIn { target, plan }
    });
    Preview { plan: plan(&request, &app.jobs), request, migrate_in, cursor: 0, scroll: 0 }
}

/// The preview of the same request with another changeset (planned again: the branches get it).
pub fn replan(app: &App, preview: &Preview, changeset_yaml: String) -> Preview {
    let request = Request { changeset_yaml, ..preview.request.clone() };
    build_preview(app, request, preview.migrate_in.as_ref().map(|m| m.target.clone()))
}

/// Why the preview's request cannot run on `engine`: a region it runs in without the Argo engine's
/// WorkflowTemplate (as far as this console knows; the submit checks again).
pub fn engine_refusal(app: &App, preview: &Preview, engine: Engine) -> Option<String> {
    if engine != Engine::Argo {
        return None;
    }
    let regions = preview
        .plan
        .batches
        .iter()
        .map(|b| b.region.as_str())
        .chain(preview.migrate_in.iter().flat_map(|m| m.plan.batches.iter().map(|b| b.region.as_str())));
    for region in regions {
        if app.regions.iter().any(|r| r.name == region && r.argo_template == Some(false)) {
            return Some(format!(
                "{region} has no WorkflowTemplate {}: install tlc's Argo kit there (deploy/argo, see docs/argo.md)",
                app.argo_template
            ));
        }
    }
    None
}

/// The same request on the other engine.
pub fn switch_engine(app: &mut App, preview: Box<Preview>) {
    let engine = match preview.request.engine {
        Engine::Direct => Engine::Argo,
        Engine::Argo => Engine::Direct,
    };
    if let Some(why) = engine_refusal(app, &preview, engine) {
        app.notice(format!("cannot run on the argo engine: {why}"), true);
        app.open_dialog(preview);
        return;
    }
    let request = Request { engine, ..preview.request.clone() };
    let fresh = build_preview(app, request, preview.migrate_in.as_ref().map(|m| m.target.clone()));
    app.notice(format!("engine: {}", engine.as_str()), false);
    app.open_dialog(fresh);
}

/// What has to be typed to confirm a plan, if anything: "N tenants" for several tenants, the
/// tenant's name when it moves out of its region (migrate-out, migrate).
pub fn typed_confirmation(preview: &Preview) -> Option<String> {
    let tenants = &preview.request.tenants;
    if tenants.len() > 1 {
        Some(format!("{} tenants", tenants.len()))
    } else if preview.request.operation.is_destructive() {
        tenants.first().map(|t| t.name.clone())
    } else {
        None
    }
}

fn describe(preview: &Preview) -> String {
    let names: Vec<&str> = preview.request.tenants.iter().map(|t| t.name.as_str()).collect();
    let what = match &preview.migrate_in {
        Some(m) => format!("migrate {} to {}", names.join(", "), m.target),
        None => format!("{} for {}", preview.plan.operation, names.join(", ")),
    };
    format!("{what}: {} branch(es) in {} batch(es)", preview.plan.branch_count(), preview.plan.batches.len())
}

/// From the preview to its confirmation, if the plan can run at all (else the preview stays, with
/// the reason on the status line).
pub fn ask_to_run(app: &mut App, preview: Box<Preview>) {
    if !preview.plan.is_runnable() {
        let problems = preview.plan.problems.join("; ");
        app.notice(format!("cannot run: {problems}"), true);
        app.open_dialog(preview);
        return;
    }
    if preview.plan.branch_count() == 0 {
        app.notice("nothing to run: no runnable Job handles this operation", true);
        app.open_dialog(preview);
        return;
    }
    let what = describe(&preview);
    let danger = preview.request.operation.is_destructive();
    match typed_confirmation(&preview) {
        Some(expect) => {
            let prompt = format!("{what}. Type \"{expect}\" to confirm:");
            let confirm = Confirm { prompt, danger, pending: Pending::Submit(preview) };
            app.open_dialog(TypedConfirm { confirm, expect, input: LineInput::default() });
        }
        None => {
            let prompt = format!("{what}. Run it? [y/N]");
            app.open_dialog(Confirm { prompt, danger, pending: Pending::Submit(preview) });
        }
    }
}

/// Runs a confirmed plan: the submission, and the console goes to the first batch.
pub fn submit(app: &mut App, preview: Preview) -> Vec<Effect> {
    let first = preview.plan.batches.first().map(|b| b.batch_id.clone());
    let migrations: Vec<Migration> = match &preview.migrate_in {
        Some(m) => migrate::migrations(&preview.plan, &m.target),
        None => Vec::new(),
    };
    for b in &preview.plan.batches {
        let files = BatchFiles {
            environment_yaml: b.tenant.environment_yaml.clone(),
            changeset_yaml: preview.request.changeset_yaml.clone(),
        };
        app.files.insert(b.batch_id.clone(), files);
        app.log_interest.insert(b.batch_id.clone());
    }
    app.migrations.extend(migrations.iter().cloned());
    app.marked.clear();
    let count = preview.plan.batches.len();
    app.notice(format!("submitted {} ({count} batch(es))", preview.plan.operation), false);
    if let Some(id) = first {
        app.branches_cursor = super::lists::Cursor::default();
        app.go(View::Batch(id));
    }
    vec![Effect::Submit(Box::new(Submission { plan: preview.plan, request: preview.request, migrations }))]
}
