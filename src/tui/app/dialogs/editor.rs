//! The changeset editor (ratatui-textarea) over a preview: the YAML every branch of the request
//! gets as `changeset.yaml`. Saving checks it (a mapping, or empty) and plans the request again;
//! the keys its binding table does not bind are the editor's own.

use crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;

use super::Preview;
use crate::tui::app::{App, Effect, trigger};
use crate::tui::keys::Action;

/// The changeset editor.
#[derive(Debug)]
pub struct ChangesetEditor {
    /// The text.
    pub textarea: Box<TextArea<'static>>,
    /// Why the text was refused.
    pub error: Option<String>,
    /// The preview to go back to.
    pub preview: Box<Preview>,
}

impl ChangesetEditor {
    /// What the editor's bindings do.
    pub fn on_action(mut self, app: &mut App, action: Action) -> Vec<Effect> {
        match action {
            Action::Dismiss => {
                app.notice("changeset edit discarded", false);
                app.open_dialog(self.preview);
            }
            Action::Save => {
                let text = self.textarea.lines().join("\n");
                let text = if text.trim().is_empty() { "{}\n".to_string() } else { format!("{}\n", text.trim_end()) };
                match validate_changeset(&text) {
                    Ok(()) => {
                        let fresh = trigger::replan(app, &self.preview, text);
                        app.notice("changeset saved", false);
                        app.open_dialog(fresh);
                    }
                    Err(e) => {
                        self.error = Some(e);
                        app.open_dialog(self);
                    }
                }
            }
            _ => app.open_dialog(self),
        }
        Vec::new()
    }

    /// Any other key edits the text.
    pub fn on_text(mut self, app: &mut App, key: KeyEvent) {
        self.textarea.input(key);
        self.error = None;
        app.open_dialog(self);
    }
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
