//! A typed confirmation: drawn as a confirmation with the text typed so far.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::tui::app::dialogs::TypedConfirm;
use crate::tui::theme::Theme;

/// Draws it.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, typed: &TypedConfirm) {
    super::confirm::draw(frame, area, theme, &typed.confirm, Some(&typed.input));
}
