//! A batch's logs: the merged stream with a coloured branch prefix, or one pane per branch (tiled,
//! paged when there are more branches than fit), each titled with its branch's status. Only the
//! lines on screen are touched, so drawing costs the same whatever the scrollback holds.

use crate::contract::names::short_id;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use regex::Regex;

use super::text::{duration, fit, phase_key, phase_symbol};
use crate::logs::sanitize;
use crate::logs::scrollback::{ScrollLine, Sequence};
use crate::tui::app::App;
use crate::tui::app::logview::{BatchLogs, Pane, merged_sequence, pane_grid, pane_sequence, panes};
use crate::tui::theme::{StyleKey, Theme};

/// A log colour as ratatui's.
fn colour(c: sanitize::Color) -> Color {
    match c {
        sanitize::Color::Indexed(i) => Color::Indexed(i),
        sanitize::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

/// A log style as ratatui's.
pub fn log_style(s: &sanitize::Style) -> Style {
    let mut out = Style::default();
    if let Some(fg) = s.fg {
        out = out.fg(colour(fg));
    }
    if let Some(bg) = s.bg {
        out = out.bg(colour(bg));
    }
    for (on, m) in [
        (s.bold, Modifier::BOLD),
        (s.dim, Modifier::DIM),
        (s.italic, Modifier::ITALIC),
        (s.underline, Modifier::UNDERLINED),
        (s.reverse, Modifier::REVERSED),
        (s.strikethrough, Modifier::CROSSED_OUT),
    ] {
        if on {
            out = out.add_modifier(m);
        }
    }
    out
}

/// `12:04:05.123 ` from Unix nanoseconds.
fn clock(ts: i64) -> String {
    jiff::Timestamp::from_nanosecond(ts as i128)
        .map(|t| t.strftime("%H:%M:%S%.3f ").to_string())
        .unwrap_or_else(|_| "??:??:??.??? ".into())
}

/// One log line as spans: optional timestamp and prefix, the text with its own styling, filter
/// matches highlighted, error lines and the marked line emphasised.
fn render_line(
    line: &ScrollLine,
    prefix: Option<(String, Style)>,
    theme: &Theme,
    filter: Option<&Regex>,
    timestamps: bool,
    marked: bool,
) -> Line<'static> {
    let mut spans = Vec::new();
    if timestamps {
        let t = line.timestamp().map(clock).unwrap_or_else(|| "             ".into());
        spans.push(Span::styled(t, theme.style(StyleKey::LogTimestamp)));
    }
    if let Some((p, style)) = prefix {
        spans.push(Span::styled(p, style));
    }
    let base = if line.error && line.styles.is_empty() { theme.style(StyleKey::LogError) } else { Style::default() };
    let hit = theme.style(StyleKey::Match);
    let matches: Vec<(usize, usize)> =
        filter.map(|f| f.find_iter(&line.text).map(|m| (m.start(), m.end())).collect()).unwrap_or_default();
    let mut at = 0usize;
    for (text, style) in line.runs() {
        let style = base.patch(log_style(&style));
        let run_start = at;
        let run_end = at + text.len();
        let mut cut = run_start;
        for &(ms, me) in matches.iter().filter(|(s, e)| *e > run_start && *s < run_end) {
            let ms = ms.max(run_start);
            let me = me.min(run_end);
            if ms > cut {
                spans.push(Span::styled(line.text[cut..ms].to_string(), style));
            }
            spans.push(Span::styled(line.text[ms..me].to_string(), style.patch(hit)));
            cut = me;
        }
        if cut < run_end {
            spans.push(Span::styled(line.text[cut..run_end].to_string(), style));
        }
        at = run_end;
    }
    let out = Line::from(spans);
    if marked { out.style(theme.style(StyleKey::Selection)) } else { out }
}

/// Rows a line takes when wrapped at `width`.
fn rows_for(line: &Line, width: usize) -> usize {
    line.width().div_ceil(width.max(1)).max(1)
}

/// Lays out the last lines that fit `height` rows (wrapping when asked): the lines and how many
/// rows of the first one to skip.
fn fit_lines(lines: Vec<Line<'static>>, width: usize, height: usize, wrap: bool) -> (Vec<Line<'static>>, u16) {
    if !wrap {
        let skip = lines.len().saturating_sub(height);
        return (lines.into_iter().skip(skip).collect(), 0);
    }
    let mut used = 0;
    let mut start = lines.len();
    while start > 0 && used < height {
        start -= 1;
        used += rows_for(&lines[start], width);
    }
    let overflow = used.saturating_sub(height) as u16;
    (lines.into_iter().skip(start).collect(), overflow)
}

/// Draws the last of `lines` that fit `area`, bottom-aligned, wrapped when asked.
fn draw_tail(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>, wrap: bool) {
    let (lines, skip) = fit_lines(lines, area.width as usize, area.height as usize, wrap);
    let mut p = Paragraph::new(lines).scroll((skip, 0));
    if wrap {
        p = p.wrap(ratatui::widgets::Wrap { trim: false });
    }
    frame.render_widget(p, area);
}

/// Draws the view.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, batch_id: &str) {
    let logs = app.logs.get(batch_id);
    if app.log_view.split {
        draw_split(frame, area, app, theme, batch_id, logs);
    } else {
        draw_merged(frame, area, app, theme, batch_id, logs);
    }
}

fn title(app: &App, batch_id: &str, logs: Option<&BatchLogs>) -> String {
    let batch = app.runs.batches.get(batch_id);
    let who = batch.map(|b| format!("{} {} · ", b.operation, b.tenant_name)).unwrap_or_default();
    let (total, dropped) = logs.map_or((0, 0), |l| (l.scrollback.total(), l.scrollback.dropped()));
    let mut flags = vec![if app.log_view.anchor.is_some() { "PAUSED" } else { "following" }];
    if app.log_view.wrap {
        flags.push("wrap");
    }
    if app.log_view.timestamps {
        flags.push("time");
    }
    let filter = match (&app.log_view.filter, logs) {
        (Some(f), Some(l)) => format!(" /{f} ({} matches)", l.scrollback.count(Sequence::Matches)),
        (Some(f), None) => format!(" /{f}"),
        _ => String::new(),
    };
    let dropped = if dropped > 0 { format!(", {dropped} dropped") } else { String::new() };
    format!(" Logs {who}{} · {total} lines{dropped} · {}{filter} ", short_id(batch_id), flags.join(" "))
}

fn draw_merged(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, batch_id: &str, logs: Option<&BatchLogs>) {
    let block = theme.block(&title(app, batch_id, logs), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(logs) = logs else {
        frame.render_widget(Line::styled("waiting for log lines…", theme.style(StyleKey::Muted)), inner);
        return;
    };
    let sb = &logs.scrollback;
    let seq = merged_sequence(app);
    let count = sb.count(seq);
    let end = match app.log_view.anchor {
        Some(a) => sb.position_of(seq, a) + 1,
        None => count,
    };
    let height = inner.height as usize;
    let label_width = logs.jobs.iter().map(|j| j.to_string().chars().count()).max().unwrap_or(0).min(28);
    let lines: Vec<Line<'static>> = sb
        .window(seq, end, height)
        .into_iter()
        .map(|(s, l)| {
            let job = logs.jobs.get(l.branch as usize).map(ToString::to_string).unwrap_or_default();
            let prefix = format!("{:<label_width$} │ ", fit(&job, label_width));
            let style = Style::default().fg(theme.branch_colour(l.branch as usize));
            render_line(
                l,
                Some((prefix, style)),
                theme,
                sb.filter(),
                app.log_view.timestamps,
                app.log_view.mark == Some(s),
            )
        })
        .collect();
    draw_tail(frame, inner, lines, app.log_view.wrap);
}

fn draw_split(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, batch_id: &str, logs: Option<&BatchLogs>) {
    let all = panes(app, batch_id);
    if all.is_empty() {
        frame.render_widget(
            Paragraph::new("no branches yet").block(theme.block(&title(app, batch_id, logs), true)),
            area,
        );
        return;
    }
    // The batch line (lines, follow/pause, filter) above the panes, as the merged view's title.
    let [title_area, area] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(Line::styled(title(app, batch_id, logs), theme.style(StyleKey::TitleFocused)), title_area);
    let (cols, rows) = pane_grid(area.width, area.height, all.len());
    let per_page = cols * rows;
    let focus = app.log_view.focus.min(all.len() - 1);
    let page = focus / per_page;
    let pages = all.len().div_ceil(per_page);
    let batch = app.runs.batches.get(batch_id);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cells = Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row_area);
        for (c, cell) in cells.iter().enumerate() {
            let index = page * per_page + r * cols + c;
            let Some(Pane { job, phase }) = all.get(index) else { continue };
            let branch = batch.and_then(|b| b.branches.get(job));
            let attempt = branch.and_then(|b| b.current());
            let exit = attempt.and_then(|a| a.exit_code).map(|e| format!(" exit {e}")).unwrap_or_default();
            let took =
                attempt.and_then(|a| a.duration(app.now)).map(|d| format!(" {}", duration(d))).unwrap_or_default();
            let retry = attempt.filter(|a| a.number > 1).map(|a| format!(" #{}", a.number)).unwrap_or_default();
            let page_note = if index == page * per_page && pages > 1 {
                format!(" [page {}/{pages}]", page + 1)
            } else {
                String::new()
            };
            let focused = index == focus;
            let head = format!(" {} {job} {}{exit}{took}{retry}{page_note} ", phase_symbol(*phase), phase.as_str());
            let block = theme.block("", focused).title(Line::styled(head, theme.style(phase_key(*phase))));
            let inner = block.inner(*cell);
            frame.render_widget(block, *cell);
            let Some((logs, b)) = logs.and_then(|l| l.index_of(job).map(|b| (l, b))) else {
                frame.render_widget(Line::styled("no lines yet", theme.style(StyleKey::Muted)), inner);
                continue;
            };
            let sb = &logs.scrollback;
            let seq = pane_sequence(app, b);
            let count = sb.count(seq);
            if count == 0 && app.log_view.filter.is_some() {
                frame.render_widget(Line::styled("no matching lines", theme.style(StyleKey::Muted)), inner);
                continue;
            }
            let end = match app.log_view.anchor {
                Some(a) if focused => sb.position_of(seq, a) + 1,
                _ => count,
            };
            let height = inner.height as usize;
            let lines: Vec<Line<'static>> = sb
                .window(seq, end, height)
                .into_iter()
                .map(|(s, l)| {
                    render_line(l, None, theme, sb.filter(), app.log_view.timestamps, app.log_view.mark == Some(s))
                })
                .collect();
            draw_tail(frame, inner, lines, app.log_view.wrap);
        }
    }
}
