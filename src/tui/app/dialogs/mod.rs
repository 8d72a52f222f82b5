//! The dialogs, one file each: their state and what their bindings do. A key reaches a dialog as
//! the [`Action`] its binding table (`keys.rs`, [`Scope::Dialog`]) gives it — the same table its
//! key line and the `?` help are drawn from. The two dialogs that take text (the changeset editor,
//! the typed confirmation) get the keys their table does not bind as text; the others ignore them.
//!
//! A dialog handles a key by value: it either puts itself back ([`App::open_dialog`]), opens the
//! next one, or closes with a notice — and returns the effects its last step asks for.

mod confirm;
mod editor;
mod job_picker;
mod preview;
mod region_picker;
mod typed_confirm;

pub use confirm::{Confirm, Pending};
pub use editor::{ChangesetEditor, validate_changeset};
pub use job_picker::{JobChoice, JobPicker};
pub use preview::{MigrateIn, Preview};
pub use region_picker::RegionPicker;
pub use typed_confirm::TypedConfirm;

use crossterm::event::KeyEvent;

use super::{App, Effect, Mode};
use crate::tenants::Tenant;
use crate::tui::keys::{self, Action, DialogKind, Scope};

/// An open dialog.
#[derive(Debug)]
pub enum Dialog {
    /// Team operation: pick the Jobs.
    JobPicker(JobPicker),
    /// `:migrate`: pick the target region.
    RegionPicker(RegionPicker),
    /// The plan.
    Preview(Box<Preview>),
    /// The changeset editor over a preview.
    ChangesetEditor(ChangesetEditor),
    /// A y/n question.
    Confirm(Confirm),
    /// A question answered by typing a name.
    TypedConfirm(TypedConfirm),
}

impl Dialog {
    /// Which dialog it is (its binding table).
    pub fn kind(&self) -> DialogKind {
        match self {
            Dialog::JobPicker(_) => DialogKind::JobPicker,
            Dialog::RegionPicker(_) => DialogKind::RegionPicker,
            Dialog::Preview(_) => DialogKind::Preview,
            Dialog::ChangesetEditor(_) => DialogKind::ChangesetEditor,
            Dialog::Confirm(_) => DialogKind::Confirm,
            Dialog::TypedConfirm(_) => DialogKind::TypedConfirm,
        }
    }
}

macro_rules! into_dialog {
    ($($variant:ident($ty:ty) => $wrap:expr),* $(,)?) => {
        $(impl From<$ty> for Dialog {
            fn from(d: $ty) -> Dialog {
                Dialog::$variant($wrap(d))
            }
        })*
    };
}

into_dialog! {
    JobPicker(JobPicker) => std::convert::identity,
    RegionPicker(RegionPicker) => std::convert::identity,
    Preview(Preview) => Box::new,
    Preview(Box<Preview>) => std::convert::identity,
    ChangesetEditor(ChangesetEditor) => std::convert::identity,
    Confirm(Confirm) => std::convert::identity,
    TypedConfirm(TypedConfirm) => std::convert::identity,
}

impl App {
    /// Opens a dialog (or puts one back after a key).
    pub fn open_dialog(&mut self, dialog: impl Into<Dialog>) {
        self.mode = Mode::Dialog(Box::new(dialog.into()));
    }
}

/// A key while a dialog is open: the action its binding table gives it, else text for the dialogs
/// that take text. `?` (where it is bound) opens the help over the dialog.
pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Mode::Dialog(dialog) = std::mem::take(&mut app.mode) else { return Vec::new() };
    match keys::action_for(Scope::Dialog(dialog.kind()), &key) {
        Some(Action::Help) => {
            app.mode = Mode::Help { scroll: 0, over: Some(dialog) };
            Vec::new()
        }
        Some(action) => match *dialog {
            Dialog::JobPicker(d) => d.on_action(app, action),
            Dialog::RegionPicker(d) => d.on_action(app, action),
            Dialog::Preview(d) => d.on_action(app, action),
            Dialog::ChangesetEditor(d) => d.on_action(app, action),
            Dialog::Confirm(d) => d.on_action(app, action),
            Dialog::TypedConfirm(d) => d.on_action(app, action),
        },
        None => {
            match *dialog {
                Dialog::ChangesetEditor(d) => d.on_text(app, key),
                Dialog::TypedConfirm(d) => d.on_text(app, key),
                other => app.open_dialog(other),
            }
            Vec::new()
        }
    }
}

/// A picker: rows to pick from for the tenants a trigger is for, and a cursor. The job picker and
/// the region picker are pickers of their rows; the keys they share are handled here.
#[derive(Debug)]
pub struct Picker<T> {
    /// The tenants the trigger is for.
    pub tenants: Vec<Tenant>,
    /// The rows.
    pub rows: Vec<T>,
    /// The row under the cursor.
    pub cursor: usize,
}

impl<T> Picker<T>
where
    Picker<T>: Into<Dialog>,
{
    /// The keys every picker has — cancel, move — and, for the others, the picker's `own`.
    fn on_shared_action(
        mut self,
        app: &mut App,
        action: Action,
        own: impl FnOnce(Self, &mut App, Action),
    ) -> Vec<Effect> {
        match action {
            Action::Dismiss => app.notice("cancelled", false),
            Action::Down | Action::Up => {
                self.cursor = moved(self.cursor, &action, self.rows.len());
                app.open_dialog(self);
            }
            other => own(self, app, other),
        }
        Vec::new()
    }
}

/// A list cursor after [`Action::Down`] or [`Action::Up`] over `len` rows (other actions: unmoved).
fn moved(cursor: usize, action: &Action, len: usize) -> usize {
    match action {
        Action::Down => (cursor + 1).min(len.saturating_sub(1)),
        Action::Up => cursor.saturating_sub(1),
        _ => cursor,
    }
}
