//! The changeset editor: the text area, the reason the text was refused, the key line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{frame_block, key_line};
use crate::tui::app::dialogs::ChangesetEditor;
use crate::tui::keys::DialogKind;
use crate::tui::theme::{StyleKey, Theme};
use crate::tui::views::help::centred;

/// Draws the editor.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, editor: &ChangesetEditor) {
    let rect = centred(area, 90, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let block = frame_block(theme, &format!(" changeset.yaml — {} ", editor.preview.plan.operation), false);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [edit, help] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(inner);
    frame.render_widget(editor.textarea.as_ref(), edit);
    let mut lines = Vec::new();
    if let Some(e) = &editor.error {
        lines.push(Line::styled(e.clone(), theme.style(StyleKey::StatusError)));
    }
    lines.push(key_line(theme, DialogKind::ChangesetEditor));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), help);
}
