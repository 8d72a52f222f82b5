//! The plan preview: each tenant's batch (Jobs to run, Jobs skipped and why), a migration's second
//! half, and the variables and files of the branch under the cursor.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{frame_block, key_line};
use crate::contract::Engine;
use crate::tui::app::dialogs::Preview;
use crate::tui::keys::DialogKind;
use crate::tui::theme::{StyleKey, Theme};
use crate::tui::views::help::centred;

/// Draws the preview.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, preview: &Preview) {
    let rect = centred(area, area.width.saturating_sub(4).max(60), area.height.saturating_sub(2));
    frame.render_widget(Clear, rect);
    let danger = preview.plan.operation.is_destructive();
    let block = frame_block(theme, &format!(" Preview — {} ", preview.plan.operation), danger);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [plan_area, detail_area, keys_area] =
        Layout::vertical([Constraint::Percentage(50), Constraint::Min(3), Constraint::Length(1)]).areas(inner);
    let muted = theme.style(StyleKey::Muted);
    let mut lines = Vec::new();
    for p in &preview.plan.problems {
        lines.push(Line::styled(format!("✗ {p}"), theme.style(StyleKey::Problem)));
    }
    lines.push(Line::from(match preview.plan.engine {
        Engine::Direct => vec![
            Span::styled("engine direct", theme.style(StyleKey::TitleFocused)),
            Span::styled(" — this console runs the fan-out (a: argo)", muted),
        ],
        Engine::Argo => vec![
            Span::styled("engine argo", theme.style(StyleKey::TitleFocused)),
            Span::styled(
                " — one Workflow of the tenant-lifecycle template per tenant, in its region (a: direct)",
                muted,
            ),
        ],
    }));
    let mut index = 0usize;
    let mut cursor_line = 0usize;
    for b in &preview.plan.batches {
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", b.tenant.name), theme.style(StyleKey::TitleFocused)),
            Span::raw(format!(
                "({}) in {} — batch {} — {} branch(es)",
                &b.tenant.id,
                b.region,
                b.batch_id,
                b.branches.len()
            )),
        ]));
        for s in &b.branches {
            let selected = index == preview.cursor;
            if selected {
                cursor_line = lines.len();
            }
            lines.push(Line::styled(format!("  ▸ run  {}", s.job.job), theme.item(selected, false)));
            index += 1;
        }
        for s in &b.skipped {
            lines.push(Line::styled(format!("  · skip {} — {}", s.job, s.reason), muted));
        }
        if b.branches.is_empty() {
            lines.push(Line::styled("  (no runnable Job handles this operation here)", theme.style(StyleKey::Problem)));
        }
    }
    if let Some(migrate_in) = &preview.migrate_in {
        lines.push(Line::styled(
            format!(
                "then, only if every branch above succeeds: {} in {}",
                migrate_in.plan.operation, migrate_in.target
            ),
            theme.style(StyleKey::TitleFocused),
        ));
        for p in &migrate_in.plan.problems {
            lines.push(Line::styled(format!("  ✗ {p}"), theme.style(StyleKey::Problem)));
        }
        for b in &migrate_in.plan.batches {
            for s in &b.branches {
                lines.push(Line::raw(format!("  ▸ run  {}", s.job.job)));
            }
            for s in &b.skipped {
                lines.push(Line::styled(format!("  · skip {} — {}", s.job, s.reason), muted));
            }
        }
    }
    let plan_height = plan_area.height as usize;
    let offset = cursor_line.saturating_sub(plan_height.saturating_sub(1));
    frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), plan_area);

    let spec = preview.plan.batches.iter().flat_map(|b| b.branches.iter()).nth(preview.cursor);
    let mut detail = Vec::new();
    if let Some(s) = spec {
        detail.push(Line::styled(format!("── {} gets these variables", s.job.job), muted));
        for (k, v) in s.context().env() {
            detail.push(Line::from(vec![
                Span::styled(format!("  {k}="), theme.style(StyleKey::FooterKey)),
                Span::raw(v),
            ]));
        }
        let ctx = s.context();
        detail.push(Line::styled(format!("── {} (tenant)", ctx.environment_path()), muted));
        detail.extend(s.environment_yaml.lines().map(|l| Line::raw(format!("  {l}"))));
        detail.push(Line::styled(format!("── {} (changeset)", ctx.changeset_path()), muted));
        detail.extend(s.changeset_yaml.lines().map(|l| Line::raw(format!("  {l}"))));
    }
    frame.render_widget(
        Paragraph::new(detail)
            .scroll((preview.scroll as u16, 0))
            .block(Block::default().borders(Borders::TOP).border_style(muted)),
        detail_area,
    );
    frame.render_widget(key_line(theme, DialogKind::Preview), keys_area);
}
