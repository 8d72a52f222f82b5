//! A confirmation: the question, (typed confirmations) what was typed, the key line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{frame_block, key_line};
use crate::tui::app::dialogs::Confirm;
use crate::tui::input::LineInput;
use crate::tui::keys::DialogKind;
use crate::tui::theme::{StyleKey, Theme};
use crate::tui::views::help::centred;

/// The dialog's width (columns, borders included).
const WIDTH: u16 = 76;

/// Draws a confirmation (or, with `typed`, a typed confirmation) over the view.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, confirm: &Confirm, typed: Option<&LineInput>) {
    // The prompt's lines (a long question may say what goes, region by region, a line each).
    let mut lines: Vec<Line> = confirm.prompt.lines().map(|l| Line::raw(l.to_string())).collect();
    let kind = match typed {
        Some(input) => {
            lines.push(Line::default());
            lines.push(Line::styled(format!("> {}", input.text), theme.style(StyleKey::Input)));
            DialogKind::TypedConfirm
        }
        None => DialogKind::Confirm,
    };
    lines.push(key_line(theme, kind));
    let title = if confirm.danger { " Confirm — destructive " } else { " Confirm " };
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false });
    // As tall as the wrapped question needs (at least the classic 7 rows, at most the screen).
    let width = WIDTH.min(area.width);
    let height = (paragraph.line_count(width.saturating_sub(2)) as u16 + 2).max(7);
    let rect = centred(area, width, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(paragraph.block(frame_block(theme, title, confirm.danger)), rect);
}
