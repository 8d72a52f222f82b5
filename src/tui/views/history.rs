//! `:history`: the local audit history, newest first.

use crate::contract::names::short_id;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::widgets::{Cell, Row, Table};

use super::text::ago;
use crate::tui::app::App;
use crate::tui::theme::{StyleKey, Theme};

/// Draws the view.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let height = area.height.saturating_sub(3) as usize;
    let rows: Vec<Row> = app
        .history_cursor
        .visible(&app.history, height)
        .map(|(r, selected)| {
            let style = theme.item(selected, false);
            let outcome =
                if r.outcome == "ok" { theme.style(StyleKey::BranchSucceeded) } else { theme.style(StyleKey::Problem) };
            Row::new(vec![
                Cell::from(ago(r.at, app.now)),
                Cell::from(r.action.as_str()),
                Cell::from(r.operation.clone()),
                Cell::from(r.tenant_name.clone()),
                Cell::from(r.region.clone()),
                Cell::from(short_id(&r.batch_id).to_string()),
                Cell::from(r.who.clone()),
                Cell::from(r.outcome.clone()).style(outcome),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Min(14),
            Constraint::Min(10),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Min(12),
            Constraint::Min(4),
        ],
    )
    .header(
        Row::new(["WHEN", "ACTION", "OPERATION", "TENANT", "REGION", "BATCH", "WHO", "OUTCOME"])
            .style(theme.style(StyleKey::TableHeader)),
    )
    .block(theme.block(&format!(" History ({}) ", app.history.len()), true));
    frame.render_widget(table, area);
}
