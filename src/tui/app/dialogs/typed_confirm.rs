//! A confirmation answered by typing what it asks for — the tenant's name for migrate-out and
//! migrate, "N tenants" for any multi-tenant request. The keys its binding table does not bind
//! are text.

use crossterm::event::KeyEvent;

use super::Confirm;
use crate::tui::app::{App, Effect};
use crate::tui::input::LineInput;
use crate::tui::keys::Action;

/// A typed confirmation.
#[derive(Debug)]
pub struct TypedConfirm {
    /// The question and what yes does.
    pub confirm: Confirm,
    /// The text to type.
    pub expect: String,
    /// What was typed.
    pub input: LineInput,
}

impl TypedConfirm {
    /// What the confirmation's bindings do.
    pub fn on_action(self, app: &mut App, action: Action) -> Vec<Effect> {
        match action {
            Action::Confirm if self.input.text.trim() == self.expect => return self.confirm.pending.run(app),
            Action::Confirm => {
                app.notice(format!("typed text does not match \"{}\"", self.expect), true);
                app.open_dialog(self);
            }
            Action::Dismiss => app.notice("cancelled: nothing was changed", false),
            _ => app.open_dialog(self),
        }
        Vec::new()
    }

    /// Any other key edits the typed text.
    pub fn on_text(mut self, app: &mut App, key: KeyEvent) {
        self.input.handle(key);
        app.open_dialog(self);
    }
}
