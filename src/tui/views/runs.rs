//! The runs view: every batch in the clusters, live and finished, re-attached from pod labels —
//! tenant, operation, engine, start, and a progress gauge with its counts. Migrations started
//! here show which half each batch is.

use crate::contract::names::short_id;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table};

use super::text::{ago, count_spans, gauge, highlight, phase_span};
use crate::tui::app::App;
use crate::tui::app::migration_role::migration_role;
use crate::tui::theme::{StyleKey, Theme};

/// Draws the view.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let batches = app.visible_batches();
    let height = area.height.saturating_sub(3) as usize;
    let hit = theme.style(StyleKey::Match);
    let wide = area.width >= 120;
    let rows: Vec<Row> = app
        .runs_cursor
        .visible(&batches, height)
        .map(|(b, selected)| {
            let style = theme.item(selected, false);
            let c = b.counts();
            let mut progress = gauge(theme, &c, if wide { 20 } else { 10 });
            progress.push(Span::raw(format!(" {}/{} ", c.done(), c.total())));
            progress.extend(count_spans(theme, &c));
            if let Some(w) = b.workflow.as_ref().filter(|w| c.total() == 0 || w.problem.is_some()) {
                // No branch yet (or an unreadable status): the Workflow says where the batch is.
                progress = vec![Span::styled(w.summary(), theme.style(StyleKey::Muted))];
            }
            let op = match migration_role(app, b) {
                Some(role) if wide => role.text,
                Some(role) => format!("migrate ▸ {}", role.half),
                None => b.operation.trim_start_matches("lifecycle.").to_string(),
            };
            Row::new(vec![
                Cell::from(Line::from(highlight(&b.tenant_name, &app.runs_cursor.filter, style, hit))),
                Cell::from(op),
                Cell::from(Line::from(if b.from_record {
                    vec![phase_span(theme, b.phase()), Span::styled("*", theme.style(StyleKey::Muted))]
                } else {
                    vec![phase_span(theme, b.phase())]
                })),
                Cell::from(Line::from(progress)),
                Cell::from(b.started.map(|s| ago(s, app.now)).unwrap_or_default()),
                Cell::from(b.region.clone()),
                Cell::from(b.engine_name()),
                Cell::from(short_id(&b.id).to_string()),
            ])
            .style(style)
        })
        .collect();
    let live = batches.iter().filter(|b| !b.is_finished()).count();
    let filter =
        if app.runs_cursor.filter.is_empty() { String::new() } else { format!(" /{}", app.runs_cursor.filter) };
    let recorded = batches.iter().filter(|b| b.from_record).count();
    let recorded = if recorded > 0 { format!(", {recorded} from records*: pods gone") } else { String::new() };
    let title = format!(" Runs ({}, {live} live{recorded}){filter} ", batches.len());
    let widths = if wide {
        vec![
            Constraint::Min(14),
            Constraint::Min(22),
            Constraint::Length(12),
            Constraint::Length(44),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(6),
            Constraint::Length(8),
        ]
    } else {
        vec![
            Constraint::Min(12),
            Constraint::Min(10),
            Constraint::Length(11),
            Constraint::Min(24),
            Constraint::Length(7),
            Constraint::Length(0),
            Constraint::Length(0),
            Constraint::Length(0),
        ]
    };
    let table = Table::new(rows, widths)
        .header(
            Row::new(["TENANT", "OPERATION", "PHASE", "PROGRESS", "STARTED", "REGION", "ENGINE", "BATCH"])
                .style(theme.style(StyleKey::TableHeader)),
        )
        .block(theme.block(&title, true));
    frame.render_widget(table, area);
    if batches.is_empty() {
        super::text::empty_state(
            frame,
            area,
            "no batches yet: select a tenant in :tenants and trigger an operation (u, o, i, m, t)",
            theme,
        );
    }
}
