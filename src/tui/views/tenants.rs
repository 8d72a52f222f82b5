//! The tenants view: every tenant of every region, its last operation and outcome, and a details
//! pane with its `environment.yaml`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::text::{ago, fit, highlight, phase_span};
use crate::contract::names::short_tenant_id;
use crate::tui::app::App;
use crate::tui::theme::{StyleKey, Theme};

/// Splits a body into list and details: side by side when wide, stacked otherwise.
pub fn split(area: Rect) -> (Rect, Rect) {
    if area.width >= 120 {
        let [a, b] = Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
        (a, b)
    } else {
        let [a, b] = Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
        (a, b)
    }
}

/// Draws the view.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let (list, details) = split(area);
    let tenants = app.visible_tenants();
    let height = list.height.saturating_sub(3) as usize;
    let hit = theme.style(StyleKey::Match);
    let rows: Vec<Row> = app
        .tenants_cursor
        .visible(&tenants, height)
        .map(|(t, selected)| {
            let marked = app.is_marked(t);
            let style = theme.item(selected, marked);
            let name_style = if t.is_usable() { style } else { style.patch(theme.style(StyleKey::Problem)) };
            let last = match app.last_batch_of(&t.region, &t.id) {
                Some(b) => {
                    let when = b.started.map(|s| ago(s, app.now)).unwrap_or_default();
                    let op = b.operation.trim_start_matches("lifecycle.");
                    Line::from(vec![
                        Span::raw(format!("{op} ")),
                        phase_span(theme, b.phase()),
                        Span::raw(format!(" {when}")),
                    ])
                }
                None if !t.is_usable() => Line::styled(fit(&t.problems.join("; "), 40), theme.style(StyleKey::Problem)),
                None => Line::styled("—", theme.style(StyleKey::Muted)),
            };
            Row::new(vec![
                Cell::from(if marked { "▣" } else { " " }),
                Cell::from(Line::from(highlight(&t.name, &app.tenants_cursor.filter, name_style, hit))),
                Cell::from(short_tenant_id(&t.id).to_string()),
                Cell::from(t.region.clone()),
                Cell::from(t.plan.clone().unwrap_or_default()),
                Cell::from(last),
            ])
            .style(style)
        })
        .collect();
    let header =
        Row::new(["", "NAME", "ID", "REGION", "PLAN", "LAST OPERATION"]).style(theme.style(StyleKey::TableHeader));
    let loading = app.tenants.is_empty();
    let title = if loading {
        " Tenants (loading…) ".to_string()
    } else {
        let marked = if app.marked.is_empty() { String::new() } else { format!(", {} marked", app.marked.len()) };
        let filter = if app.tenants_cursor.filter.is_empty() {
            String::new()
        } else {
            format!(" /{}", app.tenants_cursor.filter)
        };
        format!(" Tenants ({}{marked}){filter} ", tenants.len())
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(1),
            Constraint::Min(14),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(10),
            Constraint::Min(18),
        ],
    )
    .header(header)
    .block(theme.block(&title, true));
    frame.render_widget(table, list);
    if tenants.is_empty() && !loading {
        let said = super::text::nothing_found(&app.tenants_cursor.filter, "tenant", || {
            let regions: Vec<&str> = app.tenants.keys().map(String::as_str).collect();
            format!(
                "no tenants in {} of {}: :doctor checks the tenant source",
                app.tenants_searched,
                regions.join(", ")
            )
        });
        super::text::empty_state(frame, list, &said, theme);
    }

    let text: Vec<Line> = match app.selected_tenant() {
        None => vec![Line::styled("no tenant selected", theme.style(StyleKey::Muted))],
        Some(t) => {
            let mut lines = vec![
                Line::from(vec![Span::styled("id      ", theme.style(StyleKey::Muted)), Span::raw(t.id.clone())]),
                Line::from(vec![
                    Span::styled("origin  ", theme.style(StyleKey::Muted)),
                    Span::raw(format!("{} ({})", t.origin, t.region)),
                ]),
            ];
            if !t.services.is_empty() {
                lines.push(Line::from(vec![
                    Span::styled("services ", theme.style(StyleKey::Muted)),
                    Span::raw(t.services.join(", ")),
                ]));
            }
            for p in &t.problems {
                lines.push(Line::styled(format!("problem: {p}"), theme.style(StyleKey::Problem)));
            }
            lines.push(Line::styled("── environment.yaml", theme.style(StyleKey::Muted)));
            lines.extend(t.environment_yaml.lines().map(|l| Line::raw(l.replace('\t', "    "))));
            lines
        }
    };
    frame
        .render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(theme.block(" Details ", false)), details);
}
