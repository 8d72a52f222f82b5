//! The jobs view: every discovered lifecycle Job with its operations, image and problems, and a
//! details pane with its annotation and pod template.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::tenants::split;
use super::text::{fit, highlight};
use crate::tui::app::App;
use crate::tui::theme::{StyleKey, Theme};

/// Draws the view.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (list, details) = split(area);
    let jobs = app.visible_jobs();
    let height = list.height.saturating_sub(3) as usize;
    let hit = theme.style(StyleKey::Match);
    let rows: Vec<Row> = app
        .jobs_cursor
        .visible(&jobs, height)
        .map(|((region, j), selected)| {
            let style = theme.item(selected, false);
            let ops: Vec<&str> = j.operations.iter().map(|o| o.as_str()).collect();
            let status = if j.problems.is_empty() {
                Line::styled("ok", theme.style(StyleKey::BranchSucceeded))
            } else {
                Line::styled(
                    fit(&j.problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "), 60),
                    theme.style(StyleKey::Problem),
                )
            };
            Row::new(vec![
                Cell::from(Line::from(highlight(&j.job.to_string(), &app.jobs_cursor.filter, style, hit))),
                Cell::from(region.to_string()),
                Cell::from(ops.join(",")),
                Cell::from(j.images.first().cloned().unwrap_or_default()),
                Cell::from(status),
            ])
            .style(style)
        })
        .collect();
    let problems = jobs.iter().filter(|(_, j)| !j.problems.is_empty()).count();
    let title = if app.jobs.is_empty() {
        " Jobs (loading…) ".to_string()
    } else {
        format!(" Lifecycle Jobs ({}, {problems} with problems) ", jobs.len())
    };
    let table = Table::new(
        rows,
        [Constraint::Min(22), Constraint::Length(9), Constraint::Min(16), Constraint::Min(12), Constraint::Min(10)],
    )
    .header(
        Row::new(["NAMESPACE/JOB", "REGION", "OPERATIONS", "IMAGE", "STATUS"])
            .style(theme.style(StyleKey::TableHeader)),
    )
    .block(theme.block(&title, true));
    frame.render_widget(table, list);
    if jobs.is_empty() && !app.jobs.is_empty() {
        let said = super::text::nothing_found(&app.jobs_cursor.filter, "Job", || {
            let regions: Vec<&str> = app.jobs.keys().map(String::as_str).collect();
            format!(
                "no lifecycle Jobs {} of {}: :doctor shows which annotation keys the suspended Jobs carry",
                app.jobs_searched,
                regions.join(", ")
            )
        });
        super::text::empty_state(frame, list, &said, theme);
    }

    let text: Vec<Line> = match jobs.get(app.jobs_cursor.selected) {
        None => vec![Line::styled("no job selected", theme.style(StyleKey::Muted))],
        Some((_, j)) => {
            let muted = theme.style(StyleKey::Muted);
            let mut lines =
                vec![Line::from(vec![Span::styled("annotation ", muted), Span::raw(format!("{:?}", j.annotation))])];
            if let Some(d) = &j.description {
                lines.push(Line::from(vec![Span::styled("about      ", muted), Span::raw(d.clone())]));
            }
            if let Some(s) = j.active_deadline_seconds {
                lines.push(Line::from(vec![Span::styled("deadline   ", muted), Span::raw(format!("{s}s"))]));
            }
            for p in &j.problems {
                lines.push(Line::styled(format!("problem: {p}"), theme.style(StyleKey::Problem)));
            }
            lines.push(Line::styled("── pod template", muted));
            let yaml = serde_json::to_value(&j.template)
                .ok()
                .and_then(|v| serde_saphyr::to_string(&v).ok())
                .unwrap_or_default();
            lines.extend(yaml.lines().map(|l| Line::raw(l.to_string())));
            lines
        }
    };
    frame
        .render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(theme.block(" Details ", false)), details);
}
