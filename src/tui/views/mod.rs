//! Views draw the state; they never do I/O and never change it. The frame is: a header (regions
//! and their connection, engine, READ-ONLY badge, the view's name), the view's body, a status or
//! input line, and a footer with the focused view's keys (from the same table the keys use).
//! Dialogs (`dialogs/`, one file each) draw over the body with their own key line.

mod batch;
mod chrome;
mod dialogs;
mod doctor;
mod help;
mod history;
mod jobs;
mod logs;
mod runs;
mod tenants;
pub mod text;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::widgets::Block;

use super::app::{App, Mode, View};
use super::theme::{StyleKey, Theme};

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(Block::default().style(theme.style(StyleKey::Base)), area);
    let (status_line, cursor) = chrome::status_line(app, theme);
    let status_rows = if cursor.is_some() { 1 } else { status_line.line_count(area.width).clamp(1, 3) as u16 };
    let [header, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(status_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(frame, header, app, theme);
    match &app.view {
        View::Tenants => tenants::draw(frame, body, app, theme),
        View::Jobs => jobs::draw(frame, body, app, theme),
        View::Runs => runs::draw(frame, body, app, theme),
        View::Batch(id) => batch::draw(frame, body, app, theme, id),
        View::Logs(id) => logs::draw(frame, body, app, theme, id),
        View::History => history::draw(frame, body, app, theme),
        View::Doctor => doctor::draw(frame, body, app, theme),
    }
    chrome::draw_status_line(frame, status, status_line, cursor);
    chrome::footer(frame, footer, app, theme);
    match &app.mode {
        Mode::Help { scroll, over } => {
            if let Some(dialog) = over {
                dialogs::draw(frame, body, theme, dialog);
            }
            help::draw(frame, area, app, theme, *scroll, over.as_deref());
        }
        // Dialogs leave the status line visible: what they report (a saved changeset, a YAML error)
        // shows there.
        Mode::Dialog(dialog) => dialogs::draw(frame, body, theme, dialog),
        _ => {}
    }
}
