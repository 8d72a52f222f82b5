//! The dialogs: job picker, region picker, plan preview, changeset editor, confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::chrome::key_hints;
use super::help::centred;
use crate::tui::app::trigger::{Dialog, Preview};
use crate::tui::keys::Hint;
use crate::tui::theme::{StyleKey, Theme};

fn frame_block(theme: &Theme, title: &str, danger: bool) -> Block<'static> {
    let key = if danger { StyleKey::DialogDanger } else { StyleKey::DialogBorder };
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(key))
        .title(Line::styled(title.to_string(), theme.style(key)))
        .style(theme.style(StyleKey::Base))
}

/// Draws the open dialog.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, dialog: &Dialog) {
    match dialog {
        Dialog::PickJobs { tenants, jobs, cursor } => {
            let rect = centred(area, 70, (jobs.len() as u16 + 6).min(area.height));
            frame.render_widget(Clear, rect);
            let mut lines = vec![Line::raw(format!(
                "team.operation for {}: pick the Jobs to run",
                tenants.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            ))];
            for (i, (region, job, picked)) in jobs.iter().enumerate() {
                let style = theme.item(i == *cursor, *picked);
                lines.push(Line::styled(format!(" [{}] {job}  ({region})", if *picked { "x" } else { " " }), style));
            }
            lines.push(key_hints(
                theme,
                &[
                    Hint::new("Space", "pick"),
                    Hint::new("a", "all"),
                    Hint::new("Enter", "preview"),
                    Hint::new("Esc", "cancel"),
                ],
            ));
            frame.render_widget(Paragraph::new(lines).block(frame_block(theme, " Team operation ", false)), rect);
        }
        Dialog::PickRegion { tenants, regions, cursor } => {
            let rect = centred(area, 60, (regions.len() as u16 + 5).min(area.height));
            frame.render_widget(Clear, rect);
            let mut lines = vec![Line::raw(format!(
                "migrate {} to which region?",
                tenants.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            ))];
            for (i, r) in regions.iter().enumerate() {
                lines.push(Line::styled(format!("  {r}"), theme.item(i == *cursor, false)));
            }
            lines.push(key_hints(theme, &[Hint::new("Enter", "choose"), Hint::new("Esc", "cancel")]));
            frame.render_widget(Paragraph::new(lines).block(frame_block(theme, " Migrate ", true)), rect);
        }
        Dialog::Preview(preview) => draw_preview(frame, area, theme, preview),
        Dialog::Editor { textarea, error, preview } => {
            let rect = centred(area, 90, area.height.saturating_sub(2));
            frame.render_widget(Clear, rect);
            let block = frame_block(theme, &format!(" changeset.yaml — {} ", preview.plan.operation), false);
            let inner = block.inner(rect);
            frame.render_widget(block, rect);
            let [edit, help] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)]).areas(inner);
            frame.render_widget(textarea.as_ref(), edit);
            let mut lines = Vec::new();
            if let Some(e) = error {
                lines.push(Line::styled(e.clone(), theme.style(StyleKey::StatusError)));
            }
            lines.push(key_hints(theme, &[Hint::new("Ctrl-S", "check YAML and save"), Hint::new("Esc", "discard")]));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), help);
        }
        Dialog::Confirm(confirm) => {
            let rect = centred(area, 76, 7);
            frame.render_widget(Clear, rect);
            let mut lines = vec![Line::raw(confirm.prompt.clone())];
            match &confirm.expect {
                Some(_) => {
                    lines.push(Line::default());
                    lines.push(Line::styled(format!("> {}", confirm.input.text), theme.style(StyleKey::Input)));
                    lines.push(key_hints(theme, &[Hint::new("Enter", "confirm"), Hint::new("Esc", "cancel")]));
                }
                None => lines.push(key_hints(theme, &[Hint::new("y", "yes"), Hint::new("n/Esc", "no")])),
            }
            let title = if confirm.danger { " Confirm — destructive " } else { " Confirm " };
            frame.render_widget(
                Paragraph::new(lines).wrap(Wrap { trim: false }).block(frame_block(theme, title, confirm.danger)),
                rect,
            );
        }
    }
}

fn draw_preview(frame: &mut Frame, area: Rect, theme: &Theme, preview: &Preview) {
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
    if let Some((target, plan_in)) = &preview.migrate_to {
        lines.push(Line::styled(
            format!("then, only if every branch above succeeds: lifecycle.migrate-in in {target}"),
            theme.style(StyleKey::TitleFocused),
        ));
        for p in &plan_in.problems {
            lines.push(Line::styled(format!("  ✗ {p}"), theme.style(StyleKey::Problem)));
        }
        for b in &plan_in.batches {
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
    frame.render_widget(
        key_hints(
            theme,
            &[
                Hint::new("Enter", "confirm"),
                Hint::new("e", "edit changeset"),
                Hint::new("j/k", "branch"),
                Hint::new("J/K", "scroll"),
                Hint::new("Esc", "cancel"),
            ],
        ),
        keys_area,
    );
}
