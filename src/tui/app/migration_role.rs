//! Which half of a migration a batch is, for the runs and batch views: from the migrations this
//! console started (with their progress), else from the batch's own annotations (a migration
//! started by another console or by `tlc migrate`).

use super::App;
use crate::contract::names::short_id;
use crate::lifecycle::engine::migrate::MigrationState;
use crate::lifecycle::run::Batch;

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
