//! Triggering from the console: tenants and an operation → (for team operations) pick the Jobs,
//! (for `:migrate`) pick the target region → a preview of the plan, with an optional changeset
//! editor → a confirmation (typed for migrate-out, migrate and any multi-tenant request) → submit.
//! Cancel and retry-failed are confirmed the same way. Read-only mode and RBAC refusals stop an
//! action before any dialog opens, with the reason on the status line.

use crate::contract::names::short_id;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

use super::{App, Effect, Mode, Submission, View};
use crate::contract::labels::MigrationLink;
use crate::contract::operation::{KnownOperation, TEAM_OPERATION};
use crate::contract::{BatchFiles, JobRef};
use crate::lifecycle::engine::migrate::{self, Migration, MigrationState, migrate_in_request};
use crate::lifecycle::engine::plan::{Plan, Request, plan};
use crate::lifecycle::run::Batch;
use crate::tenants::Tenant;
use crate::tui::input::{InputOutcome, LineInput};
use crate::tui::keys::Intent;

/// What a batch is in a migration: its half (`out` / `in`) and a line about the whole
/// (`migrate-out ▸ us-east: then in`, `migrate-in ◂ eu-west`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationRole {
    /// `out` or `in`.
    pub half: &'static str,
    /// The migration and where it is.
    pub text: String,
}

/// The batch's role in a migration: from the migration started in this console (with its progress),
/// else from the batch's annotations (a migration started by another console).
pub fn migration_role(app: &App, batch: &Batch) -> Option<MigrationRole> {
    // The half and the other region come first: a narrow OPERATION column still says what it is.
    let local = app.migrations.iter().find_map(|m| {
        if m.out_batch == batch.id {
            let next = match &m.state {
                MigrationState::OutRunning => "then in",
                MigrationState::StartingIn => "in starting",
                MigrationState::InRunning => "in running",
                MigrationState::Stopped(_) => "in not started",
            };
            Some(MigrationRole { half: "out", text: format!("migrate-out ▸ {}: {next}", m.target) })
        } else if m.in_batch.as_deref() == Some(batch.id.as_str()) {
            Some(MigrationRole { half: "in", text: format!("migrate-in ◂ {}", m.source) })
        } else {
            None
        }
    });
    local.or_else(|| {
        let link = batch.migration.as_ref()?;
        if link.id == batch.id {
            Some(MigrationRole { half: "out", text: format!("migrate-out ▸ {}", link.target) })
        } else {
            let source = app.runs.batches.get(&link.id).map_or("?", |b| b.region.as_str());
            let out = short_id(&link.id);
            Some(MigrationRole { half: "in", text: format!("migrate-in ◂ {source} (after {out})") })
        }
    })
}

/// The plan preview.
#[derive(Debug)]
pub struct Preview {
    /// What the operator asked for.
    pub intent: Intent,
    /// The request the plan came from (re-planned when the changeset changes).
    pub request: Request,
    /// The plan.
    pub plan: Plan,
    /// `:migrate`: the target region and the migrate-in plan it would run.
    pub migrate_to: Option<(String, Plan)>,
    /// The branch whose variables and files are shown (index over all batches' branches).
    pub cursor: usize,
    /// Scroll of the details.
    pub scroll: usize,
}

/// What a confirmation confirms.
#[derive(Debug)]
pub enum Pending {
    /// Submit a previewed plan.
    Submit(Box<Preview>),
    /// Cancel a batch.
    Cancel(Box<Batch>),
    /// Retry a batch's failed branches.
    Retry(Box<Batch>),
}

/// A confirmation.
#[derive(Debug)]
pub struct Confirm {
    /// The question.
    pub prompt: String,
    /// The text to type (`None`: y/n).
    pub expect: Option<String>,
    /// What was typed.
    pub input: LineInput,
    /// It destroys or moves something (drawn in the danger style).
    pub danger: bool,
    /// What happens on yes.
    pub pending: Pending,
}

/// The dialogs.
#[derive(Debug)]
pub enum Dialog {
    /// Team operation: pick the Jobs.
    PickJobs {
        /// The tenants.
        tenants: Vec<Tenant>,
        /// Candidate Jobs with their region and whether picked.
        jobs: Vec<(String, JobRef, bool)>,
        /// Cursor.
        cursor: usize,
    },
    /// `:migrate`: pick the target region.
    PickRegion {
        /// The tenants.
        tenants: Vec<Tenant>,
        /// Candidate regions.
        regions: Vec<String>,
        /// Cursor.
        cursor: usize,
    },
    /// The plan.
    Preview(Box<Preview>),
    /// The changeset editor over a preview.
    Editor {
        /// The text.
        textarea: Box<TextArea<'static>>,
        /// Why the text was refused.
        error: Option<String>,
        /// The preview to go back to.
        preview: Box<Preview>,
    },
    /// A confirmation.
    Confirm(Confirm),
}

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
            let mut jobs: Vec<(String, JobRef, bool)> = Vec::new();
            for t in &tenants {
                for j in app.jobs.get(&t.region).into_iter().flatten() {
                    if j.handles(TEAM_OPERATION) && !jobs.iter().any(|(r, x, _)| r == &t.region && x == &j.job) {
                        jobs.push((t.region.clone(), j.job.clone(), false));
                    }
                }
            }
            if jobs.is_empty() {
                app.notice("no Job handles team.operation in the tenants' regions", true);
                return Vec::new();
            }
            app.mode = Mode::Dialog(Box::new(Dialog::PickJobs { tenants, jobs, cursor: 0 }));
        }
        Intent::Migrate => {
            let sources: Vec<&str> = tenants.iter().map(|t| t.region.as_str()).collect();
            let regions: Vec<String> =
                app.regions.iter().map(|r| r.name.clone()).filter(|r| !sources.contains(&r.as_str())).collect();
            match regions.len() {
                0 => app.notice("migrate needs another region to move to: only one region is configured", true),
                1 => open_preview(app, intent, tenants, None, regions.into_iter().next()),
                _ => app.mode = Mode::Dialog(Box::new(Dialog::PickRegion { tenants, regions, cursor: 0 })),
            }
        }
        Intent::Operation(_) => open_preview(app, intent, tenants, None, None),
    }
    Vec::new()
}

fn open_preview(
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
    let preview = build_preview(app, intent, request, target);
    app.mode = Mode::Dialog(Box::new(Dialog::Preview(Box::new(preview))));
}

fn build_preview(app: &App, intent: Intent, request: Request, target: Option<String>) -> Preview {
    let migrate_to = target.map(|t| {
        let p = plan(&migrate_in_request(&request, &t, ""), &app.jobs);
        (t, p)
    });
    Preview { intent, plan: plan(&request, &app.jobs), request, migrate_to, cursor: 0, scroll: 0 }
}

/// What has to be typed to confirm a plan, if anything.
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
    let what = match (&preview.intent, &preview.migrate_to) {
        (Intent::Migrate, Some((target, _))) => format!("migrate {} to {target}", names.join(", ")),
        _ => format!("{} for {}", preview.plan.operation, names.join(", ")),
    };
    format!("{what}: {} branch(es) in {} batch(es)", preview.plan.branch_count(), preview.plan.batches.len())
}

/// Asks to cancel the current batch.
pub fn ask_cancel(app: &mut App) -> Vec<Effect> {
    let Some(batch) = app.current_batch().cloned() else {
        app.notice(app.no_batch_reason(), true);
        return Vec::new();
    };
    if let Some(reason) = app.refusal(&batch.region, true) {
        app.notice(format!("cannot cancel: {reason}"), true);
        return Vec::new();
    }
    let unfinished = batch.branches.values().filter(|b| !b.phase().is_final()).count();
    if unfinished == 0 {
        app.notice(format!("batch {} has no unfinished branch to cancel", short_id(&batch.id)), true);
        return Vec::new();
    }
    let prompt = format!(
        "Cancel {} of {} ({}): delete its {unfinished} unfinished branch pod(s)? [y/N]",
        batch.operation, batch.tenant_name, batch.region
    );
    app.mode = Mode::Dialog(Box::new(Dialog::Confirm(Confirm {
        prompt,
        expect: None,
        input: LineInput::default(),
        danger: true,
        pending: Pending::Cancel(Box::new(batch)),
    })));
    Vec::new()
}

/// Asks to retry the current batch's failed branches.
pub fn ask_retry(app: &mut App) -> Vec<Effect> {
    let Some(batch) = app.current_batch().cloned() else {
        app.notice(app.no_batch_reason(), true);
        return Vec::new();
    };
    if let Some(reason) = app.refusal(&batch.region, false) {
        app.notice(format!("cannot retry: {reason}"), true);
        return Vec::new();
    }
    let failed = batch.failed_jobs();
    if failed.is_empty() {
        app.notice(format!("batch {} has no failed or cancelled branch to retry", short_id(&batch.id)), true);
        return Vec::new();
    }
    if !batch.is_finished() {
        app.notice("the batch is still running: retry once every branch has finished", true);
        return Vec::new();
    }
    let prompt = format!(
        "Retry {} of {} ({}): rerun {} failed branch(es) ({}) as a new attempt? [y/N]",
        batch.operation,
        batch.tenant_name,
        batch.region,
        failed.len(),
        failed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    );
    app.mode = Mode::Dialog(Box::new(Dialog::Confirm(Confirm {
        prompt,
        expect: None,
        input: LineInput::default(),
        danger: false,
        pending: Pending::Retry(Box::new(batch)),
    })));
    Vec::new()
}

/// Keys while a dialog is open.
pub fn on_dialog_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Mode::Dialog(dialog) = std::mem::take(&mut app.mode) else { return Vec::new() };
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') && !matches!(*dialog, Dialog::Editor { .. }) {
        app.notice("cancelled", false);
        return Vec::new();
    }
    match *dialog {
        Dialog::PickJobs { tenants, mut jobs, mut cursor } => match key.code {
            KeyCode::Esc => app.notice("cancelled", false),
            KeyCode::Char('j') | KeyCode::Down => {
                cursor = (cursor + 1).min(jobs.len().saturating_sub(1));
                app.mode = Mode::Dialog(Box::new(Dialog::PickJobs { tenants, jobs, cursor }));
            }
            KeyCode::Char('k') | KeyCode::Up => {
                cursor = cursor.saturating_sub(1);
                app.mode = Mode::Dialog(Box::new(Dialog::PickJobs { tenants, jobs, cursor }));
            }
            KeyCode::Char(' ') => {
                if let Some(j) = jobs.get_mut(cursor) {
                    j.2 = !j.2;
                }
                cursor = (cursor + 1).min(jobs.len().saturating_sub(1));
                app.mode = Mode::Dialog(Box::new(Dialog::PickJobs { tenants, jobs, cursor }));
            }
            KeyCode::Char('a') => {
                let all = jobs.iter().all(|j| j.2);
                for j in &mut jobs {
                    j.2 = !all;
                }
                app.mode = Mode::Dialog(Box::new(Dialog::PickJobs { tenants, jobs, cursor }));
            }
            KeyCode::Enter => {
                let picked: Vec<JobRef> = jobs.iter().filter(|j| j.2).map(|j| j.1.clone()).collect();
                if picked.is_empty() {
                    app.notice("pick at least one Job (Space), then Enter", true);
                    app.mode = Mode::Dialog(Box::new(Dialog::PickJobs { tenants, jobs, cursor }));
                } else {
                    let team = Intent::Operation(KnownOperation::TeamOperation);
                    open_preview(app, team, tenants, Some(picked), None);
                }
            }
            _ => app.mode = Mode::Dialog(Box::new(Dialog::PickJobs { tenants, jobs, cursor })),
        },
        Dialog::PickRegion { tenants, regions, mut cursor } => match key.code {
            KeyCode::Esc => app.notice("cancelled", false),
            KeyCode::Char('j') | KeyCode::Down => {
                cursor = (cursor + 1).min(regions.len().saturating_sub(1));
                app.mode = Mode::Dialog(Box::new(Dialog::PickRegion { tenants, regions, cursor }));
            }
            KeyCode::Char('k') | KeyCode::Up => {
                cursor = cursor.saturating_sub(1);
                app.mode = Mode::Dialog(Box::new(Dialog::PickRegion { tenants, regions, cursor }));
            }
            KeyCode::Enter => {
                let target = regions.get(cursor).cloned();
                open_preview(app, Intent::Migrate, tenants, None, target);
            }
            _ => app.mode = Mode::Dialog(Box::new(Dialog::PickRegion { tenants, regions, cursor })),
        },
        Dialog::Preview(mut preview) => match key.code {
            KeyCode::Esc | KeyCode::Char('q') => app.notice("cancelled: nothing was run", false),
            KeyCode::Char('j') | KeyCode::Down => {
                preview.cursor = (preview.cursor + 1).min(preview.plan.branch_count().saturating_sub(1));
                preview.scroll = 0;
                app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview)));
            }
            KeyCode::Char('k') | KeyCode::Up => {
                preview.cursor = preview.cursor.saturating_sub(1);
                preview.scroll = 0;
                app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview)));
            }
            KeyCode::PageDown | KeyCode::Char('J') => {
                preview.scroll += 5;
                app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview)));
            }
            KeyCode::PageUp | KeyCode::Char('K') => {
                preview.scroll = preview.scroll.saturating_sub(5);
                app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview)));
            }
            KeyCode::Char('e') => {
                let mut textarea = TextArea::from(preview.request.changeset_yaml.lines());
                textarea.set_placeholder_text("changeset.yaml — YAML; Ctrl-S saves, Esc discards");
                app.mode =
                    Mode::Dialog(Box::new(Dialog::Editor { textarea: Box::new(textarea), error: None, preview }));
            }
            KeyCode::Enter | KeyCode::Char('y') => {
                if !preview.plan.is_runnable() {
                    let problems = preview.plan.problems.join("; ");
                    app.notice(format!("cannot run: {problems}"), true);
                    app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview)));
                } else if preview.plan.branch_count() == 0 {
                    app.notice("nothing to run: no runnable Job handles this operation", true);
                    app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview)));
                } else {
                    let expect = typed_confirmation(&preview);
                    let what = describe(&preview);
                    let prompt = match &expect {
                        Some(e) => format!("{what}. Type \"{e}\" to confirm:"),
                        None => format!("{what}. Run it? [y/N]"),
                    };
                    let danger = preview.request.operation.is_destructive();
                    app.mode = Mode::Dialog(Box::new(Dialog::Confirm(Confirm {
                        prompt,
                        expect,
                        input: LineInput::default(),
                        danger,
                        pending: Pending::Submit(preview),
                    })));
                }
            }
            _ => app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview))),
        },
        Dialog::Editor { mut textarea, preview, .. } => {
            if key.code == KeyCode::Esc {
                app.notice("changeset edit discarded", false);
                app.mode = Mode::Dialog(Box::new(Dialog::Preview(preview)));
            } else if ctrl && key.code == KeyCode::Char('s') {
                let text = textarea.lines().join("\n");
                let text = if text.trim().is_empty() { "{}\n".to_string() } else { format!("{}\n", text.trim_end()) };
                match validate_changeset(&text) {
                    Ok(()) => {
                        let mut request = preview.request.clone();
                        request.changeset_yaml = text;
                        let target = preview.migrate_to.as_ref().map(|(t, _)| t.clone());
                        let fresh = build_preview(app, preview.intent, request, target);
                        app.notice("changeset saved", false);
                        app.mode = Mode::Dialog(Box::new(Dialog::Preview(Box::new(fresh))));
                    }
                    Err(e) => {
                        app.mode = Mode::Dialog(Box::new(Dialog::Editor { textarea, error: Some(e), preview }));
                    }
                }
            } else {
                textarea.input(key);
                app.mode = Mode::Dialog(Box::new(Dialog::Editor { textarea, error: None, preview }));
            }
        }
        Dialog::Confirm(mut confirm) => {
            let yes = match &confirm.expect {
                None => match key.code {
                    KeyCode::Char('y') | KeyCode::Char('Y') => Some(true),
                    KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Enter => Some(false),
                    _ => None,
                },
                Some(expected) => match confirm.input.handle(key) {
                    InputOutcome::Submit if confirm.input.text.trim() == expected => Some(true),
                    InputOutcome::Submit => {
                        app.notice(format!("typed text does not match \"{expected}\""), true);
                        None
                    }
                    InputOutcome::Cancel => Some(false),
                    InputOutcome::Edited => None,
                },
            };
            match yes {
                None => app.mode = Mode::Dialog(Box::new(Dialog::Confirm(confirm))),
                Some(false) => app.notice("cancelled: nothing was changed", false),
                Some(true) => return confirmed(app, confirm.pending),
            }
        }
    }
    Vec::new()
}

/// Checks a changeset: valid YAML (a mapping or empty).
pub fn validate_changeset(text: &str) -> Result<(), String> {
    match serde_saphyr::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(_)) | Ok(serde_json::Value::Null) => Ok(()),
        Ok(other) => Err(format!(
            "the changeset must be a YAML mapping (key: value), not {}",
            match other {
                serde_json::Value::Array(_) => "a list",
                serde_json::Value::String(_) => "a string",
                _ => "a scalar",
            }
        )),
        Err(e) => Err(format!("not valid YAML: {e}")),
    }
}

fn confirmed(app: &mut App, pending: Pending) -> Vec<Effect> {
    match pending {
        Pending::Submit(preview) => {
            let preview = *preview;
            let first = preview.plan.batches.first().map(|b| b.batch_id.clone());
            let migrations: Vec<Migration> = match &preview.migrate_to {
                Some((target, _)) => migrate::migrations(&preview.plan, target),
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
        Pending::Cancel(batch) => {
            app.notice(format!("cancelling batch {}…", short_id(&batch.id)), false);
            vec![Effect::Cancel { batch }]
        }
        Pending::Retry(batch) => {
            let files = app.files.get(&batch.id).cloned();
            app.notice(format!("retrying the failed branches of {}…", short_id(&batch.id)), false);
            vec![Effect::Retry { batch, files }]
        }
    }
}
