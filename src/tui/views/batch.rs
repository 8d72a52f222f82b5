//! A batch's branch table: namespace/job, phase (colour and symbol), exit code, duration, attempt,
//! last log line.

use crate::contract::names::{short_id, short_tenant_id};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::text::{count_spans, duration, fit, gauge, highlight, phase_span};
use crate::lifecycle::argo::Stage;
use crate::tui::app::App;
use crate::tui::app::migration_role::migration_role;
use crate::tui::theme::{StyleKey, Theme};

/// Draws the view.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, batch_id: &str) {
    let Some(batch) = app.runs.batches.get(batch_id) else {
        let text = format!("batch {} — waiting for its first branch to appear…", short_id(batch_id));
        frame.render_widget(Paragraph::new(text).block(theme.block(" Batch ", true)), area);
        return;
    };
    let header = if batch.workflow.is_some() { 3 } else { 2 };
    let [summary, table_area] = Layout::vertical([Constraint::Length(header), Constraint::Min(3)]).areas(area);
    let c = batch.counts();
    let mut top = vec![
        Span::styled(format!(" {} ", batch.operation), theme.style(StyleKey::TitleFocused)),
        Span::raw(format!(
            "for {} ({}) in {} · {} · ",
            batch.tenant_name,
            short_tenant_id(&batch.tenant_id),
            batch.region,
            batch.engine_name()
        )),
        phase_span(theme, batch.phase()),
    ];
    if let Some(role) = migration_role(app, batch) {
        top.push(Span::styled(format!(" · {}", role.text), theme.style(StyleKey::Muted)));
    }
    if batch.from_record {
        top.push(Span::styled(" · from its record: pods gone, branches as they ended", theme.style(StyleKey::Muted)));
    }
    let mut progress = vec![Span::raw(" ")];
    progress.extend(gauge(theme, &c, 30));
    progress.push(Span::raw(format!(" {}/{}  ", c.done(), c.total())));
    progress.extend(count_spans(theme, &c));
    progress.push(Span::styled(format!("  batch {}", batch.id), theme.style(StyleKey::Muted)));
    let mut lines = vec![Line::from(top), Line::from(progress)];
    if let Some(w) = &batch.workflow {
        // Its Workflow: name, phase, who started it, and what the batch has to say when its
        // branches do not (discovering, discovery failed, nothing to run, an unreadable status).
        let mut spans =
            vec![Span::styled(format!(" Workflow {}/{} ", w.namespace, w.name), theme.style(StyleKey::Muted))];
        spans.push(Span::raw(w.phase.as_str().to_string()));
        if let Some(sensor) = &w.sensor {
            spans.push(Span::styled(format!(" · started by Sensor {sensor}"), theme.style(StyleKey::Muted)));
        }
        if c.total() == 0 || w.problem.is_some() || matches!(w.stage, Stage::DiscoveryFailed) {
            let problem = w.problem.is_some() || batch.phase() == crate::lifecycle::run::Phase::Failed;
            let key = if problem { StyleKey::Problem } else { StyleKey::Muted };
            spans.push(Span::styled(format!(" · {}", w.summary()), theme.style(key)));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), summary);

    let branches = app.visible_branches(batch);
    let height = table_area.height.saturating_sub(3) as usize;
    let hit = theme.style(StyleKey::Match);
    let rows: Vec<Row> = app
        .branches_cursor
        .visible(&branches, height)
        .map(|(b, selected)| {
            let style = theme.item(selected, false);
            let a = b.current();
            let exit = b.exit_code().map(|c| c.to_string()).unwrap_or_else(|| "-".into());
            // Seen only through its Workflow node so far: the node's times and message.
            let node = b.node.as_ref().filter(|_| a.is_none());
            let took = match (a, node) {
                (Some(a), _) => a.duration(app.now).map(duration).unwrap_or_default(),
                (None, Some(n)) => {
                    n.started.map(|s| duration(n.finished.unwrap_or(app.now).duration_since(s))).unwrap_or_default()
                }
                (None, None) => String::new(),
            };
            let attempt = a.map_or(1, |a| a.number);
            let reason = a.and_then(|a| a.reason.clone()).or_else(|| node.and_then(|n| n.message.clone()));
            let last = match (reason, &b.last_line) {
                (Some(reason), _) if b.phase() == crate::lifecycle::run::Phase::Failed && b.last_line.is_none() => {
                    Line::styled(reason, theme.style(StyleKey::Problem))
                }
                (_, Some(l)) => Line::raw(fit(l, 200)),
                (Some(reason), None) => Line::styled(reason, theme.style(StyleKey::Muted)),
                (None, None) => Line::default(),
            };
            Row::new(vec![
                Cell::from(Line::from(highlight(&b.job.to_string(), &app.branches_cursor.filter, style, hit))),
                Cell::from(Line::from(phase_span(theme, b.phase()))),
                Cell::from(exit),
                Cell::from(took),
                Cell::from(attempt.to_string()),
                Cell::from(last),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(24),
            Constraint::Length(12),
            Constraint::Length(4),
            Constraint::Length(7),
            Constraint::Length(3),
            Constraint::Percentage(45),
        ],
    )
    .header(
        Row::new(["NAMESPACE/JOB", "PHASE", "EXIT", "TOOK", "#", "LAST LINE"])
            .style(theme.style(StyleKey::TableHeader)),
    )
    .block(theme.block(&format!(" Branches ({}) ", branches.len()), true));
    frame.render_widget(table, table_area);
}
