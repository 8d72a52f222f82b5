//! Cancel and retry from the console: refused with the reason (no batch, read-only, RBAC, nothing
//! to cancel or retry, still running) before any dialog opens; else a y/n confirmation, whose yes
//! is the effect.

use super::dialogs::{Confirm, Pending};
use super::{App, Effect};
use crate::contract::names::short_id;
use crate::lifecycle::argo::WorkflowPhase;
use crate::lifecycle::engine::runner::CancelMode;
use crate::lifecycle::run::Batch;

/// The current batch, if the operator may `verb` it (`delete`: pods are deleted, else created);
/// else `None`, with the reason on the status line.
fn allowed(app: &mut App, verb: &str, delete: bool) -> Option<Batch> {
    let Some(batch) = app.current_batch().cloned() else {
        app.notice(app.no_batch_reason(), true);
        return None;
    };
    if let Some(reason) = app.refusal(&batch.region, delete) {
        app.notice(format!("cannot {verb}: {reason}"), true);
        return None;
    }
    Some(batch)
}

/// Asks to cancel the current batch.
pub fn ask_cancel(app: &mut App, mode: CancelMode) -> Vec<Effect> {
    let Some(batch) = allowed(app, "cancel", true) else { return Vec::new() };
    let prompt = match (&batch.workflow, mode) {
        (Some(w), _) if w.is_final() => {
            // Argo's own words (it refuses a completed Workflow).
            app.notice(
                format!(
                    "cannot shutdown a completed workflow: workflow: \"{}\", namespace: \"{}\"",
                    w.name, w.namespace
                ),
                true,
            );
            return Vec::new();
        }
        (Some(w), CancelMode::Stop) => format!(
            "Stop Workflow {} ({} of {}, {})? Running branches get SIGTERM and stop their pods. [y/N]",
            w.name, batch.operation, batch.tenant_name, batch.region
        ),
        (Some(w), CancelMode::Terminate) => format!(
            "Terminate Workflow {} ({} of {}, {})? Nothing more runs, exit handlers neither. [y/N]",
            w.name, batch.operation, batch.tenant_name, batch.region
        ),
        (None, CancelMode::Terminate) => {
            app.notice(format!("batch {} has no Workflow to terminate: x cancels it", short_id(&batch.id)), true);
            return Vec::new();
        }
        (None, CancelMode::Stop) => {
            let unfinished = batch.branches.values().filter(|b| !b.phase().is_final()).count();
            if unfinished == 0 {
                app.notice(format!("batch {} has no unfinished branch to cancel", short_id(&batch.id)), true);
                return Vec::new();
            }
            format!(
                "Cancel {} of {} ({}): stop its {unfinished} unfinished branch pod(s), keeping them and their logs? [y/N]",
                batch.operation, batch.tenant_name, batch.region
            )
        }
    };
    app.open_dialog(Confirm { prompt, danger: true, pending: Pending::Cancel(Box::new(batch), mode) });
    Vec::new()
}

/// Asks to retry the current batch's failed branches.
pub fn ask_retry(app: &mut App) -> Vec<Effect> {
    let Some(batch) = allowed(app, "retry", false) else { return Vec::new() };
    if let Some(w) = &batch.workflow
        && !matches!(w.phase, WorkflowPhase::Failed | WorkflowPhase::Error)
    {
        // Argo retries only a Failed or Error Workflow, in these words.
        let why = match w.phase {
            WorkflowPhase::Succeeded => "Workflow does not need retrying: it succeeded".to_string(),
            phase => format!("Cannot retry a workflow in phase {}", phase.as_str()),
        };
        app.notice(why, true);
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
    app.open_dialog(Confirm { prompt, danger: false, pending: Pending::Retry(Box::new(batch)) });
    Vec::new()
}

/// Cancels a confirmed batch.
pub fn cancel(app: &mut App, batch: Box<Batch>, mode: CancelMode) -> Vec<Effect> {
    app.notice(format!("cancelling batch {}…", short_id(&batch.id)), false);
    vec![Effect::Cancel { batch, mode }]
}

/// Retries a confirmed batch's failed branches, with the files it ran with when this console knows them.
pub fn retry(app: &mut App, batch: Box<Batch>) -> Vec<Effect> {
    let files = app.files.get(&batch.id).cloned();
    app.notice(format!("retrying the failed branches of {}…", short_id(&batch.id)), false);
    vec![Effect::Retry { batch, files }]
}
