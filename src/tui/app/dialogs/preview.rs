//! The plan preview: for each tenant the batch that would run — the Jobs, the ones skipped and
//! why — and, for the branch under the cursor, the variables and files it would get. Nothing has
//! run yet; the changeset can be edited (and the plan is made again) before going on.

use ratatui_textarea::TextArea;

use super::{ChangesetEditor, moved};
use crate::lifecycle::engine::plan::{Plan, Request};
use crate::tui::app::{App, Effect, trigger};
use crate::tui::keys::Action;

/// How far one scroll of the details moves.
const SCROLL_STEP: usize = 5;

/// `:migrate`'s second half: where the tenants go and what migrate-in would run there.
#[derive(Debug)]
pub struct MigrateIn {
    /// The target region.
    pub target: String,
    /// The migrate-in plan (its batch ids are fresh when it really starts).
    pub plan: Plan,
}

/// The plan preview.
#[derive(Debug)]
pub struct Preview {
    /// The request the plan came from (planned again when the changeset changes).
    pub request: Request,
    /// The plan.
    pub plan: Plan,
    /// `:migrate`: the migrate-in half that runs once every migrate-out branch succeeded.
    pub migrate_in: Option<MigrateIn>,
    /// The branch whose variables and files are shown (an index over all batches' branches).
    pub cursor: usize,
    /// Scroll of the details.
    pub scroll: usize,
}

impl Preview {
    /// What the preview's bindings do.
    pub fn on_action(mut self: Box<Self>, app: &mut App, action: Action) -> Vec<Effect> {
        match action {
            Action::Dismiss => app.notice("cancelled: nothing was run", false),
            Action::Down | Action::Up => {
                self.cursor = moved(self.cursor, &action, self.plan.branch_count());
                self.scroll = 0;
                app.open_dialog(self);
            }
            Action::ScrollDown => {
                self.scroll += SCROLL_STEP;
                app.open_dialog(self);
            }
            Action::ScrollUp => {
                self.scroll = self.scroll.saturating_sub(SCROLL_STEP);
                app.open_dialog(self);
            }
            Action::Edit => {
                let mut textarea = TextArea::from(self.request.changeset_yaml.lines());
                textarea.set_placeholder_text("changeset.yaml: a YAML mapping (empty: {})");
                app.open_dialog(ChangesetEditor { textarea: Box::new(textarea), error: None, preview: self });
            }
            Action::Confirm => trigger::ask_to_run(app, self),
            Action::SwitchEngine => trigger::switch_engine(app, self),
            _ => app.open_dialog(self),
        }
        Vec::new()
    }
}
