//! The region picker: where `:migrate` moves the tenants.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use super::{frame_block, key_line, names};
use crate::tui::app::dialogs::RegionPicker;
use crate::tui::keys::DialogKind;
use crate::tui::theme::Theme;
use crate::tui::views::help::centred;

/// Draws the picker.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, picker: &RegionPicker) {
    let rect = centred(area, 60, (picker.rows.len() as u16 + 5).min(area.height));
    frame.render_widget(Clear, rect);
    let mut lines = vec![Line::raw(format!("migrate {} to which region?", names(&picker.tenants)))];
    for (i, r) in picker.rows.iter().enumerate() {
        lines.push(Line::styled(format!("  {r}"), theme.item(i == picker.cursor, false)));
    }
    lines.push(key_line(theme, DialogKind::RegionPicker));
    frame.render_widget(Paragraph::new(lines).block(frame_block(theme, " Migrate ", true)), rect);
}
