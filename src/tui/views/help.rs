//! `?`: every key of the focused view and the global ones, and every command — or, opened over a
//! dialog, every key of the dialog — drawn from the same tables the key handling and command
//! parser use.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::app::command::COMMANDS;
use crate::tui::app::dialogs::Dialog;
use crate::tui::keys::{Scope, bindings};
use crate::tui::theme::{StyleKey, Theme};

/// A centred rectangle of at most `w`×`h`.
pub fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Draws the help overlay (`over`: the dialog it was opened over).
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, scroll: usize, over: Option<&Dialog>) {
    let key = theme.style(StyleKey::FooterKey);
    let muted = theme.style(StyleKey::Muted);
    let mut lines = Vec::new();
    let sections = match over {
        Some(dialog) => vec![("This dialog", Scope::Dialog(dialog.kind()))],
        None => vec![("This view", app.view.scope()), ("Everywhere", Scope::Global)],
    };
    for (name, s) in sections {
        let list = bindings(s);
        if list.is_empty() {
            continue;
        }
        lines.push(Line::styled(name, theme.style(StyleKey::TitleFocused)));
        for b in list {
            let keys: Vec<String> = b.keys.iter().map(|k| k.label()).collect();
            lines.push(Line::from(vec![Span::styled(format!("  {:<16}", keys.join(" ")), key), Span::raw(b.help)]));
        }
        lines.push(Line::default());
    }
    if over.is_none() {
        lines.push(Line::styled("Commands", theme.style(StyleKey::TitleFocused)));
        for (c, what) in COMMANDS {
            lines.push(Line::from(vec![Span::styled(format!("  :{c:<15}"), key), Span::raw(*what)]));
        }
        lines.push(Line::default());
        lines.push(Line::styled(format!("  themes: {}", app.themes.join(", ")), muted));
    }
    let rect = centred(area, 84, area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((scroll as u16, 0))
            .block(theme.block(" Help — any key closes ", true))
            .style(theme.style(StyleKey::Base)),
        rect,
    );
}
