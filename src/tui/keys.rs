//! Keys: every binding is one row in a table — the key, what it does (an [`Action`]), and the hint
//! shown for it — so the footer, the dialogs' key lines, the `?` help and the key handling are the
//! same data and cannot drift apart. A view's bindings are looked up first, then the global ones;
//! a dialog, a line input or the help overlay has only its own (the keys it does not bind are
//! text, or nothing, or close the help).

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
    /// The pre-flight check of every region.
    Doctor,
}

/// The dialogs, each with a binding table of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DialogKind {
    /// Team operation: pick the Jobs.
    JobPicker,
    /// `:migrate`: pick the target region.
    RegionPicker,
    /// The plan, before anything runs.
    Preview,
    /// The changeset editor (keys it does not bind are text).
    ChangesetEditor,
    /// A y/n question.
    Confirm,
    /// A confirmation that needs a name typed (keys it does not bind are text).
    TypedConfirm,
}

impl DialogKind {
    /// Every dialog.
    pub const ALL: [DialogKind; 6] = [
        DialogKind::JobPicker,
        DialogKind::RegionPicker,
        DialogKind::Preview,
        DialogKind::ChangesetEditor,
        DialogKind::Confirm,
        DialogKind::TypedConfirm,
    ];
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
    /// Cancel the batch's unfinished branches (the Argo engine: stop its Workflow).
    Cancel,
    /// Terminate the batch's Workflow (the Argo engine; nothing more runs).
    Terminate,
    /// The preview: run on the other engine (direct ⇄ argo).
    SwitchEngine,
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
    /// Retention (`:gc`): preview what the rules remove, then confirm.
    Gc,
    /// Ctrl-Z.
    Suspend,
    /// Ctrl-L.
    Redraw,
    /// Restrict the views to one region (`None`: all).
    Context(Option<String>),
    /// Switch theme.
    Theme(String),
    /// Dialogs and line inputs: go on with what they hold (run the command, keep the filter,
    /// preview the picked Jobs, confirm the plan, answer yes).
    Confirm,
    /// Dialogs and line inputs: close without doing anything.
    Dismiss,
    /// Job picker: pick or unpick the Job under the cursor.
    Pick,
    /// Job picker: pick every Job, or none when all are picked.
    PickAll,
    /// Region picker: the region under the cursor.
    Choose,
    /// Preview: edit the changeset.
    Edit,
    /// Changeset editor: check the text and keep it.
    Save,
    /// Preview: scroll the details up.
    ScrollUp,
    /// Preview: scroll the details down.
    ScrollDown,
    /// Command line: complete the command name.
    Complete,
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

    /// The key event a terminal sends for this key.
    pub fn event(&self) -> KeyEvent {
        let shift = matches!(self.code, KeyCode::Char(c) if c.is_ascii_uppercase());
        let modifiers = match (self.ctrl, shift) {
            (true, _) => KeyModifiers::CONTROL,
            (false, true) => KeyModifiers::SHIFT,
            (false, false) => KeyModifiers::NONE,
        };
        KeyEvent::new(self.code, modifiers)
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
    /// Short hint for the footer or the dialog's key line (empty: help only).
    pub hint: &'static str,
    /// One line for the help.
    pub help: &'static str,
}

/// A hint as the footer and the dialogs show it: `Enter confirm`, `j/k branch`.
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
    /// Every view (after the view's own).
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
    /// The doctor's report.
    Doctor,
    /// Typing a `:` command (keys it does not bind are text).
    Command,
    /// Typing a `/` filter (keys it does not bind are text).
    Filter,
    /// The help overlay (keys it does not bind close it).
    Help,
    /// An open dialog.
    Dialog(DialogKind),
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 17] = [
        Scope::Global,
        Scope::Tenants,
        Scope::Jobs,
        Scope::Runs,
        Scope::Batch,
        Scope::Logs,
        Scope::History,
        Scope::Doctor,
        Scope::Command,
        Scope::Filter,
        Scope::Help,
        Scope::Dialog(DialogKind::JobPicker),
        Scope::Dialog(DialogKind::RegionPicker),
        Scope::Dialog(DialogKind::Preview),
        Scope::Dialog(DialogKind::ChangesetEditor),
        Scope::Dialog(DialogKind::Confirm),
        Scope::Dialog(DialogKind::TypedConfirm),
    ];

    /// Whether the global bindings apply after the scope's own: in views, yes; a line input, the
    /// help or a dialog has only its own.
    pub fn with_global(self) -> bool {
        matches!(
            self,
            Scope::Tenants | Scope::Jobs | Scope::Runs | Scope::Batch | Scope::Logs | Scope::History | Scope::Doctor
        )
    }
}

fn b(keys: &[Key], action: Action, hint: &'static str, help: &'static str) -> Binding {
    Binding { keys: keys.to_vec(), action, hint, help }
}

/// The bindings of a scope, in the order help lists them (and hints show them).
pub fn bindings(scope: Scope) -> Vec<Binding> {
    use Action as A;
    use KnownOperation as Op;
    let esc = code(KeyCode::Esc);
    let enter = code(KeyCode::Enter);
    let down = [k('j'), code(KeyCode::Down)];
    let up = [k('k'), code(KeyCode::Up)];
    // The pickers' own keys, then the ones every picker has.
    let picker = |own: Vec<Binding>| -> Vec<Binding> {
        let shared = [
            b(&[esc, ctrl('c')], A::Dismiss, "cancel", "cancel: nothing is run"),
            b(&down, A::Down, "", "next row"),
            b(&up, A::Up, "", "previous row"),
            b(&[k('?')], A::Help, "help", "this help"),
        ];
        own.into_iter().chain(shared).collect()
    };
    match scope {
        Scope::Global => vec![
            b(&down, A::Down, "", "move down"),
            b(&up, A::Up, "", "move up"),
            b(&[k('g'), code(KeyCode::Home)], A::Top, "", "first row"),
            b(&[k('G'), code(KeyCode::End)], A::Bottom, "", "last row"),
            b(&[code(KeyCode::PageDown), ctrl('d')], A::PageDown, "", "page down"),
            b(&[code(KeyCode::PageUp), ctrl('u')], A::PageUp, "", "page up"),
            b(&[enter], A::Enter, "", "drill in"),
            b(&[esc], A::Back, "", "back / clear filter / close"),
            b(
                &[k(':')],
                A::Command,
                "cmd",
                "command mode (:tenants :jobs :runs :logs :history :doctor :gc :ctx :theme :quit …)",
            ),
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
            b(&[enter], A::Enter, "runs", "the tenant's runs"),
        ],
        Scope::Jobs | Scope::History => vec![],
        Scope::Doctor => vec![b(&[k('r')], A::Show(ViewKind::Doctor), "again", "examine every region again")],
        Scope::Runs => vec![
            b(&[enter], A::Enter, "branches", "the batch's branches"),
            b(&[k('l')], A::Logs, "logs", "the batch's logs"),
            b(&[k('x')], A::Cancel, "cancel", "cancel the batch's unfinished branches (Argo: stop its Workflow)"),
            b(&[k('X')], A::Terminate, "", "Argo: terminate the batch's Workflow (nothing more runs)"),
            b(&[k('r')], A::Retry, "retry", "retry the batch's failed branches"),
        ],
        Scope::Batch => vec![
            b(&[enter, k('l')], A::Logs, "logs", "the batch's logs"),
            b(&[k('x')], A::Cancel, "cancel", "cancel the unfinished branches (Argo: stop the Workflow)"),
            b(&[k('X')], A::Terminate, "", "Argo: terminate the Workflow (nothing more runs)"),
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
            b(&[k('x')], A::Cancel, "", "cancel the unfinished branches (Argo: stop the Workflow)"),
            b(&[k('X')], A::Terminate, "", "Argo: terminate the Workflow (nothing more runs)"),
            b(&[k('r')], A::Retry, "", "retry the failed branches"),
        ],
        Scope::Command => vec![
            b(&[enter], A::Confirm, "run", "run the command"),
            b(&[code(KeyCode::Tab)], A::Complete, "complete", "complete the command name"),
            b(&[esc, ctrl('c')], A::Dismiss, "cancel", "leave command mode"),
        ],
        Scope::Filter => vec![
            b(&[enter], A::Confirm, "keep", "keep the filter"),
            b(&[esc, ctrl('c')], A::Dismiss, "clear", "clear the filter"),
        ],
        Scope::Help => vec![
            b(&down, A::Down, "scroll", "scroll down"),
            b(&up, A::Up, "scroll", "scroll up"),
            b(&[ctrl('c')], A::Quit, "", "quit"),
        ],
        Scope::Dialog(DialogKind::JobPicker) => picker(vec![
            b(&[k(' ')], A::Pick, "pick", "pick / unpick the Job"),
            b(&[k('a')], A::PickAll, "all", "pick every Job (or none, when all are picked)"),
            b(&[enter], A::Confirm, "preview", "preview the picked Jobs"),
        ]),
        Scope::Dialog(DialogKind::RegionPicker) => {
            picker(vec![b(&[enter], A::Choose, "choose", "migrate to the region under the cursor (preview first)")])
        }
        Scope::Dialog(DialogKind::Preview) => vec![
            b(&[enter, k('y')], A::Confirm, "confirm", "go on to the confirmation"),
            b(&[k('e')], A::Edit, "changeset", "edit the changeset every branch gets (YAML)"),
            b(
                &[k('a')],
                A::SwitchEngine,
                "engine",
                "run on the other engine: direct ⇄ argo (where the regions have the template)",
            ),
            b(&down, A::Down, "branch", "the next branch's variables and files"),
            b(&up, A::Up, "branch", "the previous branch's variables and files"),
            b(&[k('J'), code(KeyCode::PageDown)], A::ScrollDown, "scroll", "scroll the details down"),
            b(&[k('K'), code(KeyCode::PageUp)], A::ScrollUp, "scroll", "scroll the details up"),
            b(&[esc, k('q'), ctrl('c')], A::Dismiss, "cancel", "cancel: nothing is run"),
            b(&[k('?')], A::Help, "help", "this help"),
        ],
        Scope::Dialog(DialogKind::ChangesetEditor) => vec![
            b(&[ctrl('s')], A::Save, "check YAML and save", "keep the changeset if it is a YAML mapping, and re-plan"),
            b(&[esc], A::Dismiss, "discard", "back to the preview, the changeset unchanged"),
        ],
        Scope::Dialog(DialogKind::Confirm) => vec![
            b(&[k('y'), k('Y')], A::Confirm, "yes", "yes: do it"),
            b(&[k('n'), k('N')], A::Dismiss, "no", "no: nothing changes"),
            b(&[esc, enter, ctrl('c')], A::Dismiss, "no", "no (the default): nothing changes"),
            b(&[k('?')], A::Help, "help", "this help"),
        ],
        Scope::Dialog(DialogKind::TypedConfirm) => vec![
            b(&[enter], A::Confirm, "confirm", "confirm, if the typed text is the one asked for"),
            b(&[esc, ctrl('c')], A::Dismiss, "cancel", "cancel: nothing changes"),
        ],
    }
}

/// The bindings that apply in a scope, in lookup order: its own, then (views) the global ones.
fn applicable(scope: Scope) -> impl Iterator<Item = Binding> {
    let global = if scope.with_global() { bindings(Scope::Global) } else { Vec::new() };
    bindings(scope).into_iter().chain(global)
}

/// How help writes the first key bound to `action` in `scope` (for messages that name a key).
pub fn key_label(scope: Scope, action: &Action) -> String {
    bindings(scope)
        .into_iter()
        .find(|b| &b.action == action)
        .and_then(|b| b.keys.first().map(Key::label))
        .unwrap_or_default()
}

/// The action for a key in a scope (the scope's bindings first, then, in views, the global ones).
pub fn action_for(scope: Scope, key: &KeyEvent) -> Option<Action> {
    applicable(scope).find(|b| b.keys.iter().any(|k| k.matches(key))).map(|b| b.action)
}

/// Hints of hinted bindings, in order; neighbours with the same hint share it (`j/k branch`).
fn hints_of(list: impl Iterator<Item = Binding>) -> Vec<Hint> {
    let mut hints: Vec<Hint> = Vec::new();
    for binding in list.filter(|b| !b.hint.is_empty()) {
        let Some(first) = binding.keys.first() else { continue };
        match hints.last_mut() {
            Some(last) if last.what == binding.hint => {
                last.keys.push('/');
                last.keys.push_str(&first.label());
            }
            _ => hints.push(Hint::new(first.label(), binding.hint)),
        }
    }
    hints
}

/// The footer hints of a view or line input: its own hinted bindings, then (views) the global ones.
pub fn hints(scope: Scope) -> Vec<Hint> {
    hints_of(applicable(scope))
}

/// The key line a dialog draws: its hinted bindings but help, which the footer offers.
pub fn dialog_hints(kind: DialogKind) -> Vec<Hint> {
    dialog_hints_where(kind, |action| *action != Action::Help)
}

/// The footer while a dialog is open: how to open the help over it (nothing for dialogs that take
/// text, where `?` is a character).
pub fn dialog_footer(kind: DialogKind) -> Vec<Hint> {
    dialog_hints_where(kind, |action| *action == Action::Help)
}

fn dialog_hints_where(kind: DialogKind, keep: impl Fn(&Action) -> bool) -> Vec<Hint> {
    hints_of(bindings(Scope::Dialog(kind)).into_iter().filter(|b| keep(&b.action)))
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
    }

    #[test]
    fn dialogs_and_line_inputs_have_only_their_own_keys() {
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(action_for(Scope::Dialog(DialogKind::Preview), &q), Some(Action::Dismiss));
        assert_eq!(action_for(Scope::Dialog(DialogKind::TypedConfirm), &q), None, "q is text there");
        assert_eq!(action_for(Scope::Command, &q), None, "q is text there");
        assert_eq!(action_for(Scope::Dialog(DialogKind::JobPicker), &q), None, "q does not quit from a dialog");
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action_for(Scope::Dialog(DialogKind::Confirm), &ctrl_c), Some(Action::Dismiss));
        assert_eq!(action_for(Scope::Dialog(DialogKind::ChangesetEditor), &ctrl_c), None, "the editor's own key");
        assert!(hints(Scope::Filter).iter().all(|h| h.what != "quit"), "no global hints in a line input");
    }

    #[test]
    fn neighbours_with_the_same_hint_share_it() {
        let preview = dialog_hints(DialogKind::Preview);
        let text: Vec<String> = preview.iter().map(|h| format!("{} {}", h.keys, h.what)).collect();
        assert_eq!(text, ["Enter confirm", "e changeset", "a engine", "j/k branch", "J/K scroll", "Esc cancel"]);
        let yes_no: Vec<String> =
            dialog_hints(DialogKind::Confirm).iter().map(|h| format!("{} {}", h.keys, h.what)).collect();
        assert_eq!(yes_no, ["y yes", "n/Esc no"]);
        assert_eq!(dialog_footer(DialogKind::Preview), [Hint::new("?", "help")]);
        assert_eq!(dialog_footer(DialogKind::TypedConfirm), [], "? is text in a typed confirmation");
    }

    #[test]
    fn no_key_is_bound_twice_in_a_scope() {
        for scope in Scope::ALL {
            let keys: Vec<Key> = bindings(scope).iter().flat_map(|b| b.keys.iter().copied()).collect();
            for (i, a) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(a), "{scope:?}: {a:?} bound twice");
            }
            for key in &keys {
                assert!(key.matches(&key.event()), "{scope:?}: {key:?} is the key its event is");
            }
        }
    }
}
