//! Team operations: pick the Jobs to run (every Job handling `team.operation` in the tenants'
//! regions is a candidate; none is picked at first).

use super::Picker;
use crate::contract::JobRef;
use crate::contract::operation::KnownOperation;
use crate::tui::app::{App, Effect, trigger};
use crate::tui::keys::{Action, DialogKind, Intent, Scope, key_label};

/// A candidate Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobChoice {
    /// The region it is in.
    pub region: String,
    /// The Job.
    pub job: JobRef,
    /// Picked to run.
    pub picked: bool,
}

/// The job picker: the candidate Jobs.
pub type JobPicker = Picker<JobChoice>;

impl JobPicker {
    /// What the picker's bindings do.
    pub fn on_action(self, app: &mut App, action: Action) -> Vec<Effect> {
        self.on_shared_action(app, action, |mut picker, app, action| match action {
            Action::Pick => {
                if let Some(choice) = picker.rows.get_mut(picker.cursor) {
                    choice.picked = !choice.picked;
                }
                picker.cursor = super::moved(picker.cursor, &Action::Down, picker.rows.len());
                app.open_dialog(picker);
            }
            Action::PickAll => {
                let all = picker.rows.iter().all(|c| c.picked);
                for choice in &mut picker.rows {
                    choice.picked = !all;
                }
                app.open_dialog(picker);
            }
            Action::Confirm => {
                let picked: Vec<JobRef> = picker.rows.iter().filter(|c| c.picked).map(|c| c.job.clone()).collect();
                if picked.is_empty() {
                    let scope = Scope::Dialog(DialogKind::JobPicker);
                    let (pick, go_on) = (key_label(scope, &Action::Pick), key_label(scope, &Action::Confirm));
                    app.notice(format!("pick at least one Job ({pick}), then {go_on}"), true);
                    app.open_dialog(picker);
                } else {
                    let team = Intent::Operation(KnownOperation::TeamOperation);
                    trigger::open_preview(app, team, picker.tenants, Some(picked), None);
                }
            }
            _ => app.open_dialog(picker),
        })
    }
}
