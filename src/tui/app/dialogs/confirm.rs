//! A y/n question before anything changes: running a previewed plan, cancelling a batch, retrying
//! its failed branches. [`Pending`] is what yes does.

use super::Preview;
use crate::lifecycle::engine::runner::CancelMode;
use crate::lifecycle::run::Batch;
use crate::tui::app::{App, Effect, batch_actions, trigger};
use crate::tui::keys::Action;

/// What a confirmation confirms.
#[derive(Debug)]
pub enum Pending {
    /// Submit a previewed plan.
    Submit(Box<Preview>),
    /// Cancel a batch.
    Cancel(Box<Batch>, CancelMode),
    /// Retry a batch's failed branches.
    Retry(Box<Batch>),
    /// Remove what a retention preview listed (`:gc`).
    Gc(Vec<crate::lifecycle::retention::GcPlan>),
}

impl Pending {
    /// Does it: the effects to carry out.
    pub fn run(self, app: &mut App) -> Vec<Effect> {
        match self {
            Pending::Submit(preview) => trigger::submit(app, *preview),
            Pending::Cancel(batch, mode) => batch_actions::cancel(app, batch, mode),
            Pending::Retry(batch) => batch_actions::retry(app, batch),
            Pending::Gc(plans) => {
                app.notice("gc: removing…", false);
                vec![Effect::RunGc(plans)]
            }
        }
    }
}

/// A confirmation.
#[derive(Debug)]
pub struct Confirm {
    /// The question.
    pub prompt: String,
    /// It destroys or moves something (drawn in the danger style).
    pub danger: bool,
    /// What happens on yes.
    pub pending: Pending,
}

impl Confirm {
    /// What the question's bindings do.
    pub fn on_action(self, app: &mut App, action: Action) -> Vec<Effect> {
        match action {
            Action::Confirm => return self.pending.run(app),
            Action::Dismiss => app.notice("cancelled: nothing was changed", false),
            _ => app.open_dialog(self),
        }
        Vec::new()
    }
}
