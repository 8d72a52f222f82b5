//! The frame around every view: header, status/input line, footer.

use crate::contract::names::short_id;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::{App, Mode, View};
use crate::tui::data::Connection;
use crate::tui::keys::{self, Hint, Scope};
use crate::tui::theme::{StyleKey, Theme};

fn view_title(app: &App) -> String {
    match &app.view {
        View::Tenants => "Tenants".into(),
        View::Jobs => "Jobs".into(),
        View::Runs => "Runs".into(),
        View::Batch(id) => format!("Batch {}", short_id(id)),
        View::Logs(id) => format!("Logs {}", short_id(id)),
        View::History => "History".into(),
        View::Doctor => "Doctor".into(),
    }
}

/// The header: `tlc │ eu-west ● us-east ✗ │ direct │ READ-ONLY │ Tenants`.
pub fn header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let bar = theme.style(StyleKey::HeaderBar);
    let mut spans = vec![Span::styled(" tlc ", bar.add_modifier(ratatui::style::Modifier::BOLD))];
    for r in &app.regions {
        let (symbol, key) = match &r.connection {
            Connection::Connected => ("●", StyleKey::HeaderRegionOk),
            Connection::Connecting => ("◌", StyleKey::HeaderRegionConnecting),
            Connection::Down(_) => ("✗", StyleKey::HeaderRegionDown),
        };
        let dim = app.only_region.as_deref().is_some_and(|o| o != r.name);
        let label = if dim { format!(" ({}) ", r.name) } else { format!(" {} ", r.name) };
        spans.push(Span::styled("│", bar));
        spans.push(Span::styled(label, bar));
        let state = match &r.connection {
            Connection::Down(_) => format!("{symbol} down "),
            Connection::Connecting => format!("{symbol} connecting "),
            Connection::Connected => format!("{symbol} "),
        };
        spans.push(Span::styled(state, theme.style(key)));
    }
    spans.push(Span::styled("│", bar));
    spans.push(Span::styled(format!(" {} ", app.engine), theme.style(StyleKey::HeaderEngine)));
    if app.read_only {
        spans.push(Span::styled("│", bar));
        spans.push(Span::styled(" READ-ONLY ", theme.style(StyleKey::HeaderReadonly)));
    }
    spans.push(Span::styled("│ ", bar));
    spans.push(Span::styled(view_title(app), bar.add_modifier(ratatui::style::Modifier::BOLD)));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// The message the status line shows when nothing is being typed: the last notice, else a down
/// region's error.
fn status_message(app: &App) -> Option<(String, StyleKey)> {
    if let Some(s) = &app.status {
        let key = if s.error { StyleKey::StatusError } else { StyleKey::StatusInfo };
        return Some((s.text.clone(), key));
    }
    app.regions.iter().find_map(|r| match &r.connection {
        Connection::Down(e) => Some((format!("{}: {e}", r.name), StyleKey::StatusError)),
        _ => None,
    })
}

/// The status line: the command or filter being typed (with the cursor's column), else the last
/// message, else a down region's error. A long message wraps (a server's refusal, say): the caller
/// gives it the rows [`Paragraph::line_count`] says it needs, up to three.
pub fn status_line(app: &App, theme: &Theme) -> (Paragraph<'static>, Option<usize>) {
    let (line, cursor) = match &app.mode {
        Mode::Command(input) => {
            (Line::styled(format!(":{}", input.text), theme.style(StyleKey::Input)), Some(input.cursor + 1))
        }
        Mode::Filter(input) => {
            (Line::styled(format!("/{}", input.text), theme.style(StyleKey::Input)), Some(input.cursor + 1))
        }
        _ => match status_message(app) {
            Some((text, key)) => (Line::styled(text, theme.style(key)), None),
            None => (Line::default(), None),
        },
    };
    (Paragraph::new(line).wrap(Wrap { trim: false }), cursor)
}

/// Draws the status line made by [`status_line`] in `area`, with the input cursor when typing.
pub fn draw_status_line(frame: &mut Frame, area: Rect, status: Paragraph<'static>, cursor: Option<usize>) {
    frame.render_widget(status, area);
    if let Some(c) = cursor {
        frame.set_cursor_position((area.x + (c as u16).min(area.width.saturating_sub(1)), area.y));
    }
}

/// The footer: the key hints of what has the keyboard — the view, the line being typed, or (over
/// a dialog, which shows its own keys) how to open the help.
pub fn footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let hints = match &app.mode {
        Mode::Command(_) => keys::hints(Scope::Command),
        Mode::Filter(_) => keys::hints(Scope::Filter),
        Mode::Help { .. } => {
            // The keys the help does not bind close it.
            let mut hints = keys::hints(Scope::Help);
            hints.push(Hint::new("any key", "close"));
            hints
        }
        Mode::Dialog(dialog) => keys::dialog_footer(dialog.kind()),
        Mode::Normal => keys::hints(app.view.scope()),
    };
    frame.render_widget(Paragraph::new(key_hints(theme, &hints)), area);
}

/// Key hints as the footer and the dialogs show them: ` key what  key what `.
pub fn key_hints(theme: &Theme, hints: &[Hint]) -> Line<'static> {
    let mut spans = Vec::new();
    for hint in hints {
        spans.push(Span::styled(format!(" {}", hint.keys), theme.style(StyleKey::FooterKey)));
        spans.push(Span::styled(format!(" {} ", hint.what), theme.style(StyleKey::FooterText)));
    }
    Line::from(spans)
}
