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

/// Draws a y/n question, or with `typed` the text typed so far.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, confirm: &Confirm, typed: Option<&LineInput>) {
    let rect = centred(area, 76, 7);
    frame.render_widget(Clear, rect);
    let mut lines = vec![Line::raw(confirm.prompt.clone())];
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
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(frame_block(theme, title, confirm.danger)),
        rect,
    );
}
