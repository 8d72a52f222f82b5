//! The job picker: the candidate Jobs with their region, picked ones checked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use super::{frame_block, key_line, names};
use crate::tui::app::dialogs::JobPicker;
use crate::tui::keys::DialogKind;
use crate::tui::theme::Theme;
use crate::tui::views::help::centred;

/// Draws the picker.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, picker: &JobPicker) {
    let rect = centred(area, 70, (picker.rows.len() as u16 + 6).min(area.height));
    frame.render_widget(Clear, rect);
    let mut lines = vec![Line::raw(format!("team.operation for {}: pick the Jobs to run", names(&picker.tenants)))];
    for (i, choice) in picker.rows.iter().enumerate() {
        let style = theme.item(i == picker.cursor, choice.picked);
        let check = if choice.picked { "x" } else { " " };
        lines.push(Line::styled(format!(" [{check}] {}  ({})", choice.job, choice.region), style));
    }
    lines.push(key_line(theme, DialogKind::JobPicker));
    frame.render_widget(Paragraph::new(lines).block(frame_block(theme, " Team operation ", false)), rect);
}
