//! `:doctor`: the pre-flight check of every region, the same lines `tlc doctor` prints, with what
//! fails in the problem style.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::theme::{StyleKey, Theme};

/// Draws the view.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let height = area.height.saturating_sub(2) as usize;
    let Some(report) = &app.doctor else {
        let waiting = Line::styled(
            "examining every region (version, Jobs, tenants, Argo template, permissions)…",
            theme.style(StyleKey::Muted),
        );
        frame.render_widget(Paragraph::new(waiting).block(theme.block(" Doctor (running…) ", true)), area);
        return;
    };
    let lines: Vec<Line> = app
        .doctor_cursor
        .visible(report, height)
        .map(|(line, selected)| {
            let key = if line.contains("  FAIL  ")
                || line.contains("  DENIED ")
                || line.contains("NOT ready")
                || line.starts_with("not ready")
            {
                Some(StyleKey::Problem)
            } else if line.ends_with("ready to trigger") || line.starts_with("ready to trigger") {
                Some(StyleKey::BranchSucceeded)
            } else {
                None
            };
            let base = theme.item(selected, false);
            Line::styled(line.clone(), key.map_or(base, |k| base.patch(theme.style(k))))
        })
        .collect();
    let verdict = if report.last().is_some_and(|l| l.starts_with("ready")) { "ready" } else { "NOT ready" };
    let title = format!(" Doctor: {verdict} to trigger (r: again) ");
    frame.render_widget(Paragraph::new(lines).block(theme.block(&title, true)), area);
}
