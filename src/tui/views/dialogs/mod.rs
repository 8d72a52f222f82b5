//! The dialogs, one file each. Every dialog's key line is its binding table's hints
//! ([`keys::dialog_hints`]): what it shows is what its keys do.

mod confirm;
mod editor;
mod job_picker;
mod preview;
mod region_picker;
mod typed_confirm;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders};

use super::chrome::key_hints;
use crate::tui::app::dialogs::Dialog;
use crate::tui::keys::{self, DialogKind};
use crate::tui::theme::{StyleKey, Theme};

/// Draws the open dialog over `area`.
pub fn draw(frame: &mut Frame, area: Rect, theme: &Theme, dialog: &Dialog) {
    match dialog {
        Dialog::JobPicker(d) => job_picker::draw(frame, area, theme, d),
        Dialog::RegionPicker(d) => region_picker::draw(frame, area, theme, d),
        Dialog::Preview(d) => preview::draw(frame, area, theme, d),
        Dialog::ChangesetEditor(d) => editor::draw(frame, area, theme, d),
        Dialog::Confirm(d) => confirm::draw(frame, area, theme, d, None),
        Dialog::TypedConfirm(d) => typed_confirm::draw(frame, area, theme, d),
    }
}

/// A dialog's frame: its title, in the danger style when it destroys or moves something.
fn frame_block(theme: &Theme, title: &str, danger: bool) -> Block<'static> {
    let key = if danger { StyleKey::DialogDanger } else { StyleKey::DialogBorder };
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(key))
        .title(Line::styled(title.to_string(), theme.style(key)))
        .style(theme.style(StyleKey::Base))
}

/// A dialog's key line, from its binding table.
fn key_line(theme: &Theme, kind: DialogKind) -> Line<'static> {
    key_hints(theme, &keys::dialog_hints(kind))
}

/// The tenants' names, for a dialog's question.
fn names(tenants: &[crate::tenants::Tenant]) -> String {
    tenants.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
}
