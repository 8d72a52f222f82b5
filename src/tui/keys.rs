//! Keys: every binding is one row in a table — the key, what it does (an [`Action`]), and the hint
//! shown for it — so the footer, the `?` help and the key handling are the same data and cannot
//! drift apart. Bindings are looked up for the focused view first, then the global ones.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::contract::operation::{KnownOperation, Operation};

/// What a trigger key or command asks to run: one of the contract's operations, or a migration —
/// migrate-out in the tenant's region, then migrate-in in another, which is two operations and
/// exists only in the console (and `tlc migrate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Intent {
    /// One operation.
    Operation(KnownOperation),
    /// migrate-out here, then migrate-in in the target region.
    Migrate,
}

impl Intent {
    /// Every intent, as the commands list them.
    pub const ALL: [Intent; 5] = [
        Intent::Operation(KnownOperation::Upsert),
        Intent::Operation(KnownOperation::MigrateOut),
        Intent::Operation(KnownOperation::MigrateIn),
        Intent::Migrate,
        Intent::Operation(KnownOperation::TeamOperation),
    ];

    /// The command-mode name (`:upsert`, `:migrate`, `:team`, …).
    pub fn command(self) -> &'static str {
        match self {
            Intent::Operation(KnownOperation::Upsert) => "upsert",
            Intent::Operation(KnownOperation::MigrateOut) => "migrate-out",
            Intent::Operation(KnownOperation::MigrateIn) => "migrate-in",
            Intent::Operation(KnownOperation::TeamOperation) => "team",
            Intent::Migrate => "migrate",
        }
    }

    /// The operation its (first) batches run: a migration starts with migrate-out.
    pub fn operation(self) -> Operation {
        match self {
            Intent::Operation(known) => known.into(),
            Intent::Migrate => KnownOperation::MigrateOut.into(),
        }
    }
}

/// The top-level views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewKind {
    /// Tenants of every region.
    Tenants,
    /// Lifecycle Jobs.
    Jobs,
    /// Batches.
    Runs,
    /// The audit history.
    History,
}

/// What a key (or a command) asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Leave the console.
    Quit,
    /// Close the overlay, clear the filter, or go back a view.
    Back,
    /// Cursor up.
    Up,
    /// Cursor down.
    Down,
    /// First row.
    Top,
    /// Last row.
    Bottom,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// Drill in.
    Enter,
    /// Mark or unmark the row (multi-select).
    ToggleMark,
    /// `:` command mode.
    Command,
    /// `/` filter.
    Filter,
    /// `?` help.
    Help,
    /// Go to a view.
    Show(ViewKind),
    /// The logs of the selected (or shown) batch.
    Logs,
    /// Trigger an operation (or a migration) on the selected tenants.
    Trigger(Intent),
    /// Cancel the batch's unfinished branches.
    Cancel,
    /// Retry the batch's failed branches.
    Retry,
    /// Logs: follow the end, or pause.
    ToggleFollow,
    /// Logs: wrap long lines.
    ToggleWrap,
    /// Logs: show timestamps.
    ToggleTimestamps,
    /// Logs: merged stream or one pane per branch.
    ToggleSplit,
    /// Logs: the next failed branch.
    NextFailed,
    /// Logs: the next error line.
    NextError,
    /// Logs: the next filter match.
    NextMatch,
    /// Logs: the previous filter match.
    PrevMatch,
    /// Logs (split): focus the next pane.
    NextPane,
    /// Logs: save the batch as an incident bundle.
    SaveBundle,
    /// Ctrl-Z.
    Suspend,
    /// Ctrl-L.
    Redraw,
    /// Restrict the views to one region (`None`: all).
    Context(Option<String>),
    /// Switch theme.
    Theme(String),
}

/// A key as bindings write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl held.
    pub ctrl: bool,
}

const fn k(c: char) -> Key {
    Key { code: KeyCode::Char(c), ctrl: false }
}
const fn ctrl(c: char) -> Key {
    Key { code: KeyCode::Char(c), ctrl: true }
}
const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

impl Key {
    /// Whether a key event is this key (Shift is part of the character).
    pub fn matches(&self, e: &KeyEvent) -> bool {
        let is_ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        let code = match e.code {
            KeyCode::Char(c) if is_ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            c => c,
        };
        code == self.code && is_ctrl == self.ctrl
    }

    /// How help writes it.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            other => format!("{other:?}"),
        };
        if self.ctrl { format!("Ctrl-{base}") } else { base }
    }
}

/// One binding.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The keys that do it.
    pub keys: Vec<Key>,
    /// What it does.
    pub action: Action,
    /// Short hint for the footer (empty: help only).
    pub hint: &'static str,
    /// One line for the help.
    pub help: &'static str,
}

/// A hint as the footer and the dialogs show it: `Enter confirm`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hint {
    /// The key, or keys joined with `/`.
    pub keys: String,
    /// What they do.
    pub what: &'static str,
}

impl Hint {
    /// A hint.
    pub fn new(keys: impl Into<String>, what: &'static str) -> Self {
        Hint { keys: keys.into(), what }
    }
}

/// Where bindings apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere (after the view's own).
    Global,
    /// The tenants view.
    Tenants,
    /// The jobs view.
    Jobs,
    /// The runs view.
    Runs,
    /// A batch's branch table.
    Batch,
    /// A batch's logs.
    Logs,
    /// The audit history.
    History,
}

fn b(keys: &[Key], action: Action, hint: &'static str, help: &'static str) -> Binding {
    Binding { keys: keys.to_vec(), action, hint, help }
}

/// The bindings of a scope, in the order help lists them.
pub fn bindings(scope: Scope) -> Vec<Binding> {
    use Action as A;
    use KnownOperation as Op;
    match scope {
        Scope::Global => vec![
            b(&[k('j'), code(KeyCode::Down)], A::Down, "", "move down"),
            b(&[k('k'), code(KeyCode::Up)], A::Up, "", "move up"),
            b(&[k('g'), code(KeyCode::Home)], A::Top, "", "first row"),
            b(&[k('G'), code(KeyCode::End)], A::Bottom, "", "last row"),
            b(&[code(KeyCode::PageDown), ctrl('d')], A::PageDown, "", "page down"),
            b(&[code(KeyCode::PageUp), ctrl('u')], A::PageUp, "", "page up"),
            b(&[code(KeyCode::Enter)], A::Enter, "", "drill in"),
            b(&[code(KeyCode::Esc)], A::Back, "", "back / clear filter / close"),
            b(&[k(':')], A::Command, "cmd", "command mode (:tenants :jobs :runs :logs :history :ctx :theme :quit …)"),
            b(&[k('/')], A::Filter, "filter", "filter the list (logs: a regex, matches highlighted)"),
            b(&[k('?')], A::Help, "help", "this help"),
            b(&[k('1')], A::Show(ViewKind::Tenants), "", "tenants"),
            b(&[k('2')], A::Show(ViewKind::Jobs), "", "jobs"),
            b(&[k('3')], A::Show(ViewKind::Runs), "", "runs"),
            b(&[ctrl('z')], A::Suspend, "", "suspend (fg resumes)"),
            b(&[ctrl('l')], A::Redraw, "", "redraw the screen"),
            b(&[k('q'), ctrl('c')], A::Quit, "quit", "quit"),
        ],
        Scope::Tenants => vec![
            b(&[k(' ')], A::ToggleMark, "mark", "mark / unmark a tenant (multi-select)"),
            b(
                &[k('u')],
                A::Trigger(Intent::Operation(Op::Upsert)),
                "upsert",
                "upsert the marked (or selected) tenants",
            ),
            b(&[k('o')], A::Trigger(Intent::Operation(Op::MigrateOut)), "out", "migrate-out"),
            b(&[k('i')], A::Trigger(Intent::Operation(Op::MigrateIn)), "in", "migrate-in"),
            b(&[k('m')], A::Trigger(Intent::Migrate), "migrate", "migrate: out of this region, then in to another"),
            b(
                &[k('t')],
                A::Trigger(Intent::Operation(Op::TeamOperation)),
                "team",
                "team operation: pick the Jobs to run",
            ),
            b(&[code(KeyCode::Enter)], A::Enter, "runs", "the tenant's runs"),
        ],
        Scope::Jobs => vec![],
        Scope::Runs => vec![
            b(&[code(KeyCode::Enter)], A::Enter, "branches", "the batch's branches"),
            b(&[k('l')], A::Logs, "logs", "the batch's logs"),
            b(&[k('x')], A::Cancel, "cancel", "cancel the batch's unfinished branches"),
            b(&[k('r')], A::Retry, "retry", "retry the batch's failed branches"),
        ],
        Scope::Batch => vec![
            b(&[code(KeyCode::Enter), k('l')], A::Logs, "logs", "the batch's logs"),
            b(&[k('x')], A::Cancel, "cancel", "cancel the unfinished branches"),
            b(&[k('r')], A::Retry, "retry", "retry the failed branches"),
            b(&[k('s')], A::SaveBundle, "bundle", "save an incident bundle"),
        ],
        Scope::Logs => vec![
            b(&[k('v')], A::ToggleSplit, "split", "merged stream / one pane per branch"),
            b(&[k('f')], A::ToggleFollow, "follow", "follow the end / pause"),
            b(&[k('w')], A::ToggleWrap, "wrap", "wrap long lines"),
            b(&[k('t')], A::ToggleTimestamps, "time", "timestamps"),
            b(&[k(']')], A::NextFailed, "failed", "next failed branch"),
            b(&[k('e')], A::NextError, "error", "next error line"),
            b(&[k('n')], A::NextMatch, "", "next filter match"),
            b(&[k('N')], A::PrevMatch, "", "previous filter match"),
            b(&[code(KeyCode::Tab)], A::NextPane, "", "next pane (split)"),
            b(&[k('s')], A::SaveBundle, "bundle", "save an incident bundle"),
            b(&[k('x')], A::Cancel, "", "cancel the unfinished branches"),
            b(&[k('r')], A::Retry, "", "retry the failed branches"),
        ],
        Scope::History => vec![],
    }
}

/// The action for a key in a scope (the scope's bindings first, then the global ones).
pub fn action_for(scope: Scope, key: &KeyEvent) -> Option<Action> {
    bindings(scope)
        .into_iter()
        .chain(bindings(Scope::Global))
        .find(|b| b.keys.iter().any(|k| k.matches(key)))
        .map(|b| b.action)
}

/// The footer hints of a scope: its own hinted bindings, then the global ones.
pub fn hints(scope: Scope) -> Vec<Hint> {
    bindings(scope)
        .into_iter()
        .chain(bindings(Scope::Global))
        .filter(|b| !b.hint.is_empty())
        .filter_map(|b| Some(Hint::new(b.keys.first()?.label(), b.hint)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_bindings_win_over_global_ones_and_hints_come_from_the_same_table() {
        let t = KeyEvent::new(KeyCode::Char('t'), KeyModifiers::NONE);
        let team = Action::Trigger(Intent::Operation(KnownOperation::TeamOperation));
        assert_eq!(action_for(Scope::Tenants, &t), Some(team));
        assert_eq!(action_for(Scope::Logs, &t), Some(Action::ToggleTimestamps));
        assert_eq!(action_for(Scope::Jobs, &t), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Scope::Jobs, &ctrl_c), Some(Action::Quit));
        let big_g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(action_for(Scope::Runs, &big_g), Some(Action::Bottom));
        let hints = hints(Scope::Tenants);
        assert!(hints.contains(&Hint::new("u", "upsert")));
        assert!(hints.contains(&Hint::new("q", "quit")));
        // Every scope's keys are unambiguous within the scope.
        for scope in [Scope::Global, Scope::Tenants, Scope::Runs, Scope::Batch, Scope::Logs] {
            let keys: Vec<Key> = bindings(scope).iter().flat_map(|b| b.keys.iter().copied()).collect();
            for (i, a) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(a), "{scope:?}: {a:?} bound twice");
            }
        }
    }
}
