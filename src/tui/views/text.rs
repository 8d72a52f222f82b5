//! Small formatting shared by the views: phase symbols and styles, durations, "ago", progress
//! gauges as text, truncation by display width, and filter-match highlighting.

use jiff::{SignedDuration, Timestamp};
use ratatui::style::Style;
use ratatui::text::Span;

use crate::lifecycle::run::{Counts, Phase};
use crate::logs::sanitize::char_width;
use crate::tui::theme::{StyleKey, Theme};

/// The symbol of a phase (so phases differ without colour too).
pub fn phase_symbol(phase: Phase) -> &'static str {
    match phase {
        Phase::Pending => "○",
        Phase::Running => "●",
        Phase::Succeeded => "✓",
        Phase::Failed => "✗",
        Phase::Cancelled => "⊘",
    }
}

/// The style key of a phase.
pub fn phase_key(phase: Phase) -> StyleKey {
    match phase {
        Phase::Pending => StyleKey::BranchPending,
        Phase::Running => StyleKey::BranchRunning,
        Phase::Succeeded => StyleKey::BranchSucceeded,
        Phase::Failed => StyleKey::BranchFailed,
        Phase::Cancelled => StyleKey::BranchCancelled,
    }
}

/// `✓ succeeded` in the phase's style.
pub fn phase_span(theme: &Theme, phase: Phase) -> Span<'static> {
    Span::styled(format!("{} {}", phase_symbol(phase), phase.as_str()), theme.style(phase_key(phase)))
}

/// `1h02m`, `3m05s`, `12s`, `0.4s`.
pub fn duration(d: SignedDuration) -> String {
    let secs = d.as_secs().max(0);
    if secs >= 3600 {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    } else if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else if secs >= 10 {
        format!("{secs}s")
    } else {
        format!("{:.1}s", d.as_secs_f64().max(0.0))
    }
}

/// `5s ago`, `3m ago`, `2h ago`, `4d ago`.
pub fn ago(then: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(then).as_secs().max(0);
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86400),
    }
}

/// A progress gauge as text: `███▒▒░░ 5/8` — succeeded, failed, running, pending segments.
pub fn gauge(theme: &Theme, counts: &Counts, width: usize) -> Vec<Span<'static>> {
    let total = counts.total().max(1);
    let seg = |n: usize| (n * width).div_ceil(total).min(width);
    let mut used = 0;
    let mut spans = Vec::new();
    for (n, key, ch) in [
        (counts.succeeded, StyleKey::GaugeSucceeded, "█"),
        (counts.failed + counts.cancelled, StyleKey::GaugeFailed, "▓"),
        (counts.running, StyleKey::GaugeRunning, "▒"),
    ] {
        let w = seg(n).min(width - used);
        if w > 0 {
            spans.push(Span::styled(ch.repeat(w), theme.style(key)));
            used += w;
        }
    }
    if used < width {
        spans.push(Span::styled("░".repeat(width - used), theme.style(StyleKey::GaugePending)));
    }
    spans
}

/// `✓5 ✗1 ●2 ○0` counts, each in its phase style.
pub fn count_spans(theme: &Theme, c: &Counts) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for (n, phase) in [
        (c.succeeded, Phase::Succeeded),
        (c.failed, Phase::Failed),
        (c.running, Phase::Running),
        (c.pending, Phase::Pending),
        (c.cancelled, Phase::Cancelled),
    ] {
        if n > 0 || matches!(phase, Phase::Succeeded | Phase::Failed) {
            out.push(Span::styled(format!("{}{n} ", phase_symbol(phase)), theme.style(phase_key(phase))));
        }
    }
    out
}

/// Cuts `s` to at most `width` display columns, with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    let total: usize = s.chars().map(char_width).sum();
    if total <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = char_width(c);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// Splits `text` into spans with the parts matching `filter` (case-insensitive substring)
/// highlighted.
pub fn highlight(text: &str, filter: &str, base: Style, hit: Style) -> Vec<Span<'static>> {
    if filter.is_empty() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let lower = text.to_lowercase();
    let needle = filter.to_lowercase();
    if lower.len() != text.len() {
        return vec![Span::styled(text.to_string(), base)];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&needle) {
        let start = at + i;
        if start > at {
            spans.push(Span::styled(text[at..start].to_string(), base));
        }
        spans.push(Span::styled(text[start..start + needle.len()].to_string(), hit));
        at = start + needle.len();
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), base));
    }
    spans
}

/// What an empty list says: what was searched (and what to do) when nothing was found, or that
/// nothing matches the filter.
pub fn nothing_found(filter: &str, kind: &str, searched: impl FnOnce() -> String) -> String {
    if filter.is_empty() { searched() } else { format!("no {kind} matches /{filter}") }
}

/// Says, inside an empty list's frame, why it is empty (what was searched, what to do): a list
/// never shows nothing without a word.
pub fn empty_state(frame: &mut ratatui::Frame, area: ratatui::layout::Rect, text: &str, theme: &Theme) {
    let inner = ratatui::layout::Rect {
        x: area.x + 2,
        y: area.y + 2,
        width: area.width.saturating_sub(4),
        height: area.height.saturating_sub(3).min(3),
    };
    let paragraph =
        ratatui::widgets::Paragraph::new(ratatui::text::Line::styled(text.to_string(), theme.style(StyleKey::Muted)))
            .wrap(ratatui::widgets::Wrap { trim: true });
    frame.render_widget(paragraph, inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_ages_read_naturally() {
        assert_eq!(duration(SignedDuration::from_millis(400)), "0.4s");
        assert_eq!(duration(SignedDuration::from_secs(42)), "42s");
        assert_eq!(duration(SignedDuration::from_secs(185)), "3m05s");
        assert_eq!(duration(SignedDuration::from_secs(3720)), "1h02m");
        let t = Timestamp::UNIX_EPOCH;
        assert_eq!(ago(t, t + SignedDuration::from_secs(90)), "1m ago");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }

    #[test]
    fn gauge_fills_its_width_and_highlight_splits_matches() {
        let theme = Theme::default_theme();
        let c = Counts { pending: 1, running: 1, succeeded: 2, failed: 0, cancelled: 0 };
        let spans = gauge(&theme, &c, 10);
        let width: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        assert_eq!(width, 10);
        let parts: Vec<String> = highlight("Acme-prod acme", "acme", Style::default(), Style::default())
            .iter()
            .map(|s| s.content.to_string())
            .collect();
        assert_eq!(parts, vec!["Acme", "-prod ", "acme"]);
    }
}
