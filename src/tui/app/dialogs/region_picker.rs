//! `:migrate` with more than one other region: pick the one to move the tenants to.

use super::Picker;
use crate::tui::app::{App, Effect, trigger};
use crate::tui::keys::{Action, Intent};

/// The region picker: the regions the tenants could move to.
pub type RegionPicker = Picker<String>;

impl RegionPicker {
    /// What the picker's bindings do.
    pub fn on_action(self, app: &mut App, action: Action) -> Vec<Effect> {
        self.on_shared_action(app, action, |picker, app, action| match action {
            Action::Choose => {
                let target = picker.rows.get(picker.cursor).cloned();
                trigger::open_preview(app, Intent::Migrate, picker.tenants, None, target);
            }
            _ => app.open_dialog(picker),
        })
    }
}
