//! The console's state and its one entry point, [`update`]: key presses and background events go
//! in, the state changes, and the effects to carry out (submit a plan, cancel, save a bundle, …)
//! come out for the runtime. No I/O happens here, so every behaviour is unit-tested without a
//! terminal or a cluster.

pub mod batch_actions;
pub mod command;
pub mod dialogs;
pub mod lists;
pub mod logview;
pub mod migration_role;
pub mod trigger;

use crate::contract::names::short_id;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use crossterm::event::KeyEvent;
use jiff::Timestamp;
use ratatui::layout::Size;

use self::dialogs::Dialog;
use self::lists::Cursor;
use self::logview::{BatchLogs, LogView};
use super::data::{Access, Connection, DataEvent};
use super::input::LineInput;
use super::keys::{self, Action, Scope, ViewKind};
use crate::audit::AuditRecord;
use crate::contract::{BatchFiles, Engine, JobRef, LifecycleJob};
use crate::lifecycle::engine::migrate::{Migration, MigrationState};
use crate::lifecycle::engine::plan::{Plan, Request};
use crate::lifecycle::engine::runner::CancelMode;
use crate::lifecycle::run::{Batch, RunEvent, RunState, update as run_update};
use crate::logs::mux::MuxEvent;
use crate::tenants::Tenant;

/// Which screen is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum View {
    /// Tenants of every region.
    Tenants,
    /// Lifecycle Jobs.
    Jobs,
    /// Batches.
    Runs,
    /// One batch's branch table.
    Batch(String),
    /// One batch's logs.
    Logs(String),
    /// The audit history.
    History,
    /// The doctor's report.
    Doctor,
}

impl View {
    /// The key-binding scope of the view.
    pub fn scope(&self) -> Scope {
        match self {
            View::Tenants => Scope::Tenants,
            View::Jobs => Scope::Jobs,
            View::Runs => Scope::Runs,
            View::Batch(_) => Scope::Batch,
            View::Logs(_) => Scope::Logs,
            View::History => Scope::History,
            View::Doctor => Scope::Doctor,
        }
    }
}

/// What the keyboard is talking to.
#[derive(Debug, Default)]
pub enum Mode {
    /// The view's bindings.
    #[default]
    Normal,
    /// Typing a `:` command.
    Command(LineInput),
    /// Typing a `/` filter.
    Filter(LineInput),
    /// The help overlay.
    Help {
        /// Its scroll offset.
        scroll: usize,
        /// The dialog it was opened over (its keys are the ones listed), open again when it closes.
        over: Option<Box<Dialog>>,
    },
    /// A dialog (preview, editor, confirmation, pickers).
    Dialog(Box<Dialog>),
}

/// One region as the header shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionState {
    /// Its name.
    pub name: String,
    /// Its kube context.
    pub context: String,
    /// Its connection.
    pub connection: Connection,
    /// What RBAC allows there (`None` until checked).
    pub access: Option<Access>,
    /// Whether it has the Argo engine's WorkflowTemplate (`None` until checked).
    pub argo_template: Option<bool>,
}

/// A tenant as marks name it (an id is unique within its region).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TenantKey {
    /// The tenant's region.
    pub region: String,
    /// Its id.
    pub id: String,
}

impl TenantKey {
    /// The key of a tenant.
    pub fn of(tenant: &Tenant) -> Self {
        TenantKey { region: tenant.region.clone(), id: tenant.id.clone() }
    }
}

/// A status-line message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The text.
    pub text: String,
    /// It is an error.
    pub error: bool,
    /// When it was said (information fades after [`NOTICE_FADES_AFTER`]; errors stay until a key).
    pub at: jiff::Timestamp,
}

/// How long an informational notice stays on the status line without a key press.
pub const NOTICE_FADES_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);

/// What the runtime must do after an update.
#[derive(Debug)]
pub enum Effect {
    /// Leave.
    Quit,
    /// Ctrl-Z.
    Suspend,
    /// Clear and redraw everything.
    Redraw,
    /// Run a plan (a migration runs its second half after the first succeeds).
    Submit(Box<Submission>),
    /// Cancel a batch.
    Cancel {
        /// The batch.
        batch: Box<Batch>,
        /// Stop (the default) or terminate (an Argo batch's Workflow).
        mode: CancelMode,
    },
    /// Retry a batch's failed branches.
    Retry {
        /// The batch.
        batch: Box<Batch>,
        /// The files it ran with, when this console knows them.
        files: Option<BatchFiles>,
    },
    /// Save an incident bundle.
    SaveBundle {
        /// The batch.
        batch_id: String,
    },
    /// Read the audit history.
    LoadHistory,
    /// Examine every region (the doctor).
    RunDoctor,
    /// Preview what the retention rules remove in the regions shown (`:gc`).
    PreviewGc,
    /// Remove what a confirmed preview listed.
    RunGc(Vec<crate::lifecycle::retention::GcPlan>),
    /// Write an ended batch's outcome into its record.
    RecordOutcome(Box<Batch>),
    /// Switch theme.
    LoadTheme(String),
}

/// A confirmed request.
#[derive(Debug)]
pub struct Submission {
    /// What runs.
    pub plan: Plan,
    /// The request it was planned from (its changeset is what every branch gets).
    pub request: Request,
    /// For `:migrate`: one per tenant; each runs migrate-in in its target once its migrate-out succeeded.
    pub migrations: Vec<Migration>,
}

/// The whole console state.
#[derive(Debug)]
pub struct App {
    /// The view shown.
    pub view: View,
    /// Views to go back to with Esc.
    pub back: Vec<View>,
    /// Keyboard mode.
    pub mode: Mode,
    /// Regions in configuration order.
    pub regions: Vec<RegionState>,
    /// Show only this region (`:ctx`).
    pub only_region: Option<String>,
    /// The engine triggers use.
    pub engine: Engine,
    /// Mutations refused.
    pub read_only: bool,
    /// Where branch pods mount the two files.
    pub mount_dir: String,
    /// The Argo engine's WorkflowTemplate, `namespace/name` (for messages).
    pub argo_template: String,
    /// Tenants by region.
    pub tenants: BTreeMap<String, Vec<Tenant>>,
    /// Lifecycle Jobs by region.
    pub jobs: BTreeMap<String, Vec<LifecycleJob>>,
    /// Every batch seen.
    pub runs: RunState,
    /// Log scrollback by batch.
    pub logs: HashMap<String, BatchLogs>,
    /// Lines kept per batch.
    pub scrollback: usize,
    /// Environment and changeset of batches whose files are known.
    pub files: HashMap<String, BatchFiles>,
    /// Migrations started here.
    pub migrations: Vec<Migration>,
    /// Marked tenants.
    pub marked: BTreeSet<TenantKey>,
    /// List cursors.
    pub tenants_cursor: Cursor,
    /// Jobs list cursor.
    pub jobs_cursor: Cursor,
    /// Runs list cursor.
    pub runs_cursor: Cursor,
    /// Branch table cursor.
    pub branches_cursor: Cursor,
    /// History cursor.
    pub history_cursor: Cursor,
    /// The doctor's report as lines (`None` while it is being made).
    pub doctor: Option<Vec<String>>,
    /// Doctor cursor.
    pub doctor_cursor: Cursor,
    /// Each tenant's latest batch, kept as batches come and go.
    pub latest_batches: LatestBatches,
    /// What the Jobs view searched, in words, for its empty state (`carry tlc.dev/lifecycle in
    /// every namespace`).
    pub jobs_searched: String,
    /// What the tenants view searched, in words, for its empty state.
    pub tenants_searched: String,
    /// The log view.
    pub log_view: LogView,
    /// The audit history (newest first).
    pub history: Vec<AuditRecord>,
    /// The status line.
    pub status: Option<Status>,
    /// The theme's name.
    pub theme: String,
    /// Theme names for help and completion.
    pub themes: Vec<String>,
    /// The clock (durations, "ago").
    pub now: Timestamp,
    /// Terminal size.
    pub size: Size,
    /// Batches whose logs are wanted (opened here or started here).
    pub log_interest: BTreeSet<String>,
}

impl App {
    /// A console over these regions (name, context).
    pub fn new(regions: &[(String, String)], engine: Engine, read_only: bool, mount_dir: &str) -> Self {
        App {
            view: View::Tenants,
            back: Vec::new(),
            mode: Mode::Normal,
            regions: regions
                .iter()
                .map(|(name, context)| RegionState {
                    name: name.clone(),
                    context: context.clone(),
                    connection: Connection::Connecting,
                    access: None,
                    argo_template: None,
                })
                .collect(),
            only_region: None,
            engine,
            read_only,
            mount_dir: mount_dir.to_string(),
            argo_template: "argo/tenant-lifecycle".into(),
            tenants: BTreeMap::new(),
            jobs: BTreeMap::new(),
            runs: RunState::default(),
            logs: HashMap::new(),
            scrollback: 1_000_000,
            files: HashMap::new(),
            migrations: Vec::new(),
            marked: BTreeSet::new(),
            tenants_cursor: Cursor::default(),
            jobs_cursor: Cursor::default(),
            runs_cursor: Cursor::default(),
            branches_cursor: Cursor::default(),
            history_cursor: Cursor::default(),
            doctor: None,
            doctor_cursor: Cursor::default(),
            latest_batches: LatestBatches::default(),
            jobs_searched: "carry tlc.dev/lifecycle in every namespace".into(),
            tenants_searched: "ConfigMaps labelled tlc.dev/tenant=true in namespace tenants".into(),
            log_view: LogView::default(),
            history: Vec::new(),
            status: None,
            theme: "dark".into(),
            themes: Vec::new(),
            now: Timestamp::UNIX_EPOCH,
            size: Size::new(80, 24),
            log_interest: BTreeSet::new(),
        }
    }

    fn in_scope(&self, region: &str) -> bool {
        self.only_region.as_deref().is_none_or(|r| r == region)
    }

    /// Rows a full-height list gets (the screen minus header, footer, table header and borders).
    pub fn list_height(&self) -> usize {
        (self.size.height as usize).saturating_sub(6).max(1)
    }

    /// Tenants shown in the tenants view (region scope and filter applied), in order.
    pub fn visible_tenants(&self) -> Vec<&Tenant> {
        self.tenants
            .values()
            .flatten()
            .filter(|t| self.in_scope(&t.region))
            .filter(|t| {
                self.tenants_cursor
                    .accepts(|| format!("{} {} {} {}", t.name, t.id, t.region, t.plan.as_deref().unwrap_or("")))
            })
            .collect()
    }

    /// Jobs shown in the jobs view: (region, job).
    pub fn visible_jobs(&self) -> Vec<(&str, &LifecycleJob)> {
        self.jobs
            .iter()
            .filter(|(r, _)| self.in_scope(r))
            .flat_map(|(r, jobs)| jobs.iter().map(move |j| (r.as_str(), j)))
            .filter(|(r, j)| {
                self.jobs_cursor.accepts(|| format!("{} {} {} {}", j.job, r, j.annotation, j.images.join(" ")))
            })
            .collect()
    }

    /// Batches shown in the runs view, newest first.
    pub fn visible_batches(&self) -> Vec<&Batch> {
        self.runs
            .batches
            .values()
            .rev()
            .filter(|b| self.in_scope(&b.region))
            .filter(|b| {
                self.runs_cursor
                    .accepts(|| format!("{} {} {} {} {}", b.id, b.tenant_name, b.tenant_id, b.operation, b.region))
            })
            .collect()
    }

    /// Branches of a batch shown in its table (filtered), in order.
    pub fn visible_branches<'a>(&'a self, batch: &'a Batch) -> Vec<&'a crate::lifecycle::run::Branch> {
        batch.branches.values().filter(|b| self.branches_cursor.accepts(|| b.job.to_string())).collect()
    }

    /// The tenant under the cursor.
    pub fn selected_tenant(&self) -> Option<&Tenant> {
        self.visible_tenants().get(self.tenants_cursor.selected).copied()
    }

    /// The batch the view is about: the shown one, or the one under the runs cursor.
    pub fn current_batch(&self) -> Option<&Batch> {
        match &self.view {
            View::Batch(id) | View::Logs(id) => self.runs.batches.get(id),
            View::Runs => self.visible_batches().get(self.runs_cursor.selected).copied(),
            _ => None,
        }
    }

    /// Why there is no [`App::current_batch`], for the action that needed one: the batch view of a
    /// batch whose first pod has not appeared yet, or no batch chosen at all.
    pub fn no_batch_reason(&self) -> String {
        match &self.view {
            View::Batch(id) | View::Logs(id) => format!("batch {} has no branch pod yet", short_id(id)),
            _ => "no batch selected: pick one in :runs".into(),
        }
    }

    /// The latest batch of a tenant (for "last operation"): looked up, not searched (every visible
    /// tenant asks on every frame, and an estate's records hold tens of thousands of batches).
    pub fn last_batch_of(&self, region: &str, tenant_id: &str) -> Option<&Batch> {
        let id = self.latest_batches.by_tenant.get(&(region.to_string(), tenant_id.to_string()))?;
        self.runs.batches.get(id)
    }

    /// Whether a tenant is marked.
    pub fn is_marked(&self, tenant: &Tenant) -> bool {
        self.marked.contains(&TenantKey::of(tenant))
    }

    /// The tenants an action applies to: the marked ones, else the one under the cursor.
    pub fn action_tenants(&self) -> Vec<Tenant> {
        let marked: Vec<Tenant> = self.tenants.values().flatten().filter(|t| self.is_marked(t)).cloned().collect();
        if !marked.is_empty() {
            return marked;
        }
        self.selected_tenant().cloned().into_iter().collect()
    }

    /// Why mutations are impossible in `region` (`create` or `delete` pods), if they are.
    pub fn refusal(&self, region: &str, delete: bool) -> Option<String> {
        if self.read_only {
            return Some("read-only mode: triggering, cancelling and retrying are disabled".into());
        }
        let r = self.regions.iter().find(|r| r.name == region)?;
        let access = r.access.as_ref()?;
        if delete { access.delete.clone() } else { access.create.clone() }
    }

    /// Sets the status line.
    pub fn notice(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status { text: text.into(), error, at: self.now });
    }

    fn go(&mut self, view: View) {
        if self.view != view {
            let previous = std::mem::replace(&mut self.view, view);
            self.back.push(previous);
            if self.back.len() > 32 {
                self.back.remove(0);
            }
        }
        if let View::Logs(id) | View::Batch(id) = &self.view {
            self.log_interest.insert(id.clone());
        }
    }

    /// Opens a batch's logs.
    pub fn open_logs(&mut self, batch_id: &str) {
        if !matches!(&self.view, View::Logs(id) if id == batch_id) {
            self.log_view = LogView::default();
        }
        self.go(View::Logs(batch_id.to_string()));
    }

    fn cursor_and_len(&mut self) -> Option<(&mut Cursor, usize)> {
        let len = match &self.view {
            View::Tenants => self.visible_tenants().len(),
            View::Jobs => self.visible_jobs().len(),
            View::Runs => self.visible_batches().len(),
            View::Batch(id) => self.runs.batches.get(id).map_or(0, |b| self.visible_branches(b).len()),
            View::History => self.history.len(),
            View::Doctor => self.doctor.as_ref().map_or(0, Vec::len),
            View::Logs(_) => return None,
        };
        let cursor = match &self.view {
            View::Tenants => &mut self.tenants_cursor,
            View::Jobs => &mut self.jobs_cursor,
            View::Runs => &mut self.runs_cursor,
            View::Batch(_) => &mut self.branches_cursor,
            View::History => &mut self.history_cursor,
            View::Doctor => &mut self.doctor_cursor,
            View::Logs(_) => return None,
        };
        Some((cursor, len))
    }

    fn logs_for(&mut self, batch_id: &str) -> &mut BatchLogs {
        let capacity = self.scrollback;
        self.logs.entry(batch_id.to_string()).or_insert_with(|| BatchLogs::new(capacity))
    }
}

/// What goes into [`update`].
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one message at a time; boxing would only add allocations
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// An action (from a key, a command, or a test).
    Action(Action),
    /// Background work reported.
    Data(DataEvent),
    /// The clock ticked (durations move on).
    Tick(Timestamp),
    /// The terminal was resized.
    Resize(u16, u16),
}

/// Applies one message; returns the effects to carry out.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => {
            // A notice is read once a key is pressed (as in vim): the status line goes back to what
            // stays true, such as a region that is down.
            if matches!(app.mode, Mode::Normal) {
                app.status = None;
            }
            on_key(app, key)
        }
        Msg::Action(action) => on_action(app, action),
        Msg::Data(event) => on_data(app, event),
        Msg::Tick(now) => {
            app.now = now;
            if app.status.as_ref().is_some_and(|s| !s.error && now.duration_since(s.at) >= NOTICE_FADES_AFTER) {
                app.status = None;
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            app.size = Size::new(w, h);
            Vec::new()
        }
    }
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    match &mut app.mode {
        Mode::Normal => match keys::action_for(app.view.scope(), &key) {
            Some(action) => on_action(app, action),
            None => Vec::new(),
        },
        Mode::Command(input) => match keys::action_for(Scope::Command, &key) {
            None => {
                input.handle(key);
                Vec::new()
            }
            Some(Action::Complete) => {
                if let Some(done) = command::complete(&input.text) {
                    *input = LineInput::with_text(&done);
                }
                Vec::new()
            }
            Some(Action::Confirm) => {
                let line = input.text.clone();
                app.mode = Mode::Normal;
                match command::parse(&line) {
                    Ok(action) => on_action(app, action),
                    Err(e) if e.is_empty() => Vec::new(),
                    Err(e) => {
                        app.notice(e, true);
                        Vec::new()
                    }
                }
            }
            Some(Action::Dismiss) => {
                app.mode = Mode::Normal;
                Vec::new()
            }
            Some(_) => Vec::new(),
        },
        Mode::Filter(input) => {
            match keys::action_for(Scope::Filter, &key) {
                None => {
                    input.handle(key);
                    let text = input.text.clone();
                    set_filter(app, text);
                }
                Some(Action::Confirm) => {
                    let text = input.text.clone();
                    app.mode = Mode::Normal;
                    set_filter(app, text);
                }
                Some(Action::Dismiss) => {
                    app.mode = Mode::Normal;
                    set_filter(app, String::new());
                }
                Some(_) => {}
            }
            Vec::new()
        }
        Mode::Help { scroll, over } => {
            match keys::action_for(Scope::Help, &key) {
                Some(Action::Down) => *scroll += 1,
                Some(Action::Up) => *scroll = scroll.saturating_sub(1),
                Some(Action::Quit) => return vec![Effect::Quit],
                // Any other key closes the help (back to the dialog it was opened over, if any).
                _ => app.mode = over.take().map_or(Mode::Normal, Mode::Dialog),
            }
            Vec::new()
        }
        Mode::Dialog(_) => dialogs::on_key(app, key),
    }
}

/// Applies a filter to the focused list (or the logs).
fn set_filter(app: &mut App, text: String) {
    let height = app.list_height();
    match app.view.clone() {
        View::Logs(id) => {
            let regex = if text.is_empty() {
                None
            } else {
                match regex::RegexBuilder::new(&text).case_insensitive(true).size_limit(1 << 20).build() {
                    Ok(r) => Some(r),
                    Err(e) => {
                        app.notice(format!("not a regular expression: {}", first_line(&e.to_string())), true);
                        return;
                    }
                }
            };
            app.log_view.filter = (!text.is_empty()).then(|| text.clone());
            app.logs_for(&id).scrollback.set_filter(regex);
            app.log_view.anchor = None;
        }
        _ => {
            if let Some((cursor, _)) = app.cursor_and_len() {
                cursor.filter = text;
                cursor.selected = 0;
                cursor.offset = 0;
            }
            if let Some((cursor, len)) = app.cursor_and_len() {
                cursor.clamp(len, height);
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn on_action(app: &mut App, action: Action) -> Vec<Effect> {
    let height = app.list_height();
    match action {
        Action::Quit => return vec![Effect::Quit],
        Action::Suspend => return vec![Effect::Suspend],
        Action::Redraw => return vec![Effect::Redraw],
        Action::Help => app.mode = Mode::Help { scroll: 0, over: None },
        Action::Command => app.mode = Mode::Command(LineInput::default()),
        Action::Filter => {
            let current = match &app.view {
                View::Logs(_) => app.log_view.filter.clone().unwrap_or_default(),
                _ => app.cursor_and_len().map(|(c, _)| c.filter.clone()).unwrap_or_default(),
            };
            app.mode = Mode::Filter(LineInput::with_text(&current));
        }
        Action::Back => back(app),
        Action::Up | Action::Down | Action::Top | Action::Bottom | Action::PageUp | Action::PageDown => {
            if let View::Logs(id) = app.view.clone() {
                logview::scroll(app, &id, &action);
            } else if let Some((cursor, len)) = app.cursor_and_len() {
                match action {
                    Action::Up => cursor.move_by(-1, len, height),
                    Action::Down => cursor.move_by(1, len, height),
                    Action::Top => cursor.go(0, len, height),
                    Action::Bottom => cursor.go(len.saturating_sub(1), len, height),
                    Action::PageUp => cursor.move_by(-(height as isize), len, height),
                    _ => cursor.move_by(height as isize, len, height),
                }
            }
        }
        Action::Show(kind) => {
            let view = match kind {
                ViewKind::Tenants => View::Tenants,
                ViewKind::Jobs => View::Jobs,
                ViewKind::Runs => View::Runs,
                ViewKind::History => View::History,
                ViewKind::Doctor => View::Doctor,
            };
            app.go(view);
            match kind {
                ViewKind::History => return vec![Effect::LoadHistory],
                ViewKind::Doctor => {
                    app.doctor = None;
                    app.doctor_cursor = Cursor::default();
                    return vec![Effect::RunDoctor];
                }
                _ => {}
            }
        }
        Action::Enter => match app.view.clone() {
            View::Tenants => {
                if let Some(t) = app.selected_tenant() {
                    let filter = t.name.clone();
                    app.go(View::Runs);
                    app.runs_cursor = Cursor { filter, ..Cursor::default() };
                }
            }
            View::Runs => {
                if let Some(id) = app.current_batch().map(|b| b.id.clone()) {
                    app.branches_cursor = Cursor::default();
                    app.go(View::Batch(id));
                }
            }
            View::Batch(id) => app.open_logs(&id),
            _ => {}
        },
        Action::Logs => match app.current_batch().map(|b| b.id.clone()) {
            Some(id) => app.open_logs(&id),
            None => app.notice(app.no_batch_reason(), true),
        },
        Action::ToggleMark => {
            if let Some(t) = app.selected_tenant() {
                let key = TenantKey::of(t);
                if !app.marked.remove(&key) {
                    app.marked.insert(key);
                }
                app.tenants_cursor.move_by(1, app.visible_tenants().len(), height);
            }
        }
        Action::Trigger(intent) => return trigger::start(app, intent),
        Action::Cancel => return batch_actions::ask_cancel(app, CancelMode::Stop),
        Action::Terminate => return batch_actions::ask_cancel(app, CancelMode::Terminate),
        Action::Retry => return batch_actions::ask_retry(app),
        Action::SaveBundle => match app.current_batch() {
            Some(b) => return vec![Effect::SaveBundle { batch_id: b.id.clone() }],
            None => app.notice(app.no_batch_reason(), true),
        },
        Action::Gc => {
            app.notice("gc: looking for what the retention rules remove…", false);
            return vec![Effect::PreviewGc];
        }
        Action::ToggleFollow
        | Action::ToggleWrap
        | Action::ToggleTimestamps
        | Action::ToggleSplit
        | Action::NextFailed
        | Action::NextError
        | Action::NextMatch
        | Action::PrevMatch
        | Action::NextPane => {
            if let View::Logs(id) = app.view.clone() {
                logview::act(app, &id, &action);
            }
        }
        Action::Context(region) => match region {
            Some(r) if !app.regions.iter().any(|x| x.name == r) => {
                let known: Vec<&str> = app.regions.iter().map(|r| r.name.as_str()).collect();
                app.notice(format!("no region \"{r}\" (regions: {})", known.join(", ")), true);
            }
            region => {
                app.notice(
                    match &region {
                        Some(r) => format!("showing region {r} only (:ctx for all)"),
                        None => "showing every region".into(),
                    },
                    false,
                );
                app.only_region = region;
                for c in [&mut app.tenants_cursor, &mut app.jobs_cursor, &mut app.runs_cursor] {
                    c.selected = 0;
                    c.offset = 0;
                }
            }
        },
        Action::Theme(name) => return vec![Effect::LoadTheme(name)],
        // A dialog's or a line input's: they mean nothing to a view.
        Action::Confirm
        | Action::Dismiss
        | Action::Pick
        | Action::PickAll
        | Action::Choose
        | Action::Edit
        | Action::SwitchEngine
        | Action::Save
        | Action::ScrollUp
        | Action::ScrollDown
        | Action::Complete => {}
    }
    Vec::new()
}

fn back(app: &mut App) {
    let filtered = match &app.view {
        View::Logs(_) => app.log_view.filter.is_some(),
        _ => app.cursor_and_len().is_some_and(|(c, _)| !c.filter.is_empty()),
    };
    if filtered {
        set_filter(app, String::new());
        return;
    }
    if let Some(previous) = app.back.pop() {
        app.view = previous;
    } else if app.view != View::Tenants {
        app.view = View::Tenants;
    }
}

/// What the console does with a retention preview: says there is nothing to remove, refuses in
/// read-only mode, or asks to remove what it lists (nothing running is ever in it).
fn gc_previewed(app: &mut App, previews: crate::lifecycle::retention::Previews) -> Vec<Effect> {
    let (pods, records) = (previews.pods(), previews.records());
    let took = format!("preview took {} ms, {} API requests", previews.took.as_millis(), previews.requests());
    if pods == 0 && records == 0 {
        let kept: usize = previews.plans.iter().map(|p| p.kept).sum();
        let running: usize = previews.plans.iter().map(|p| p.running).sum();
        app.notice(
            format!(
                "gc: nothing to remove ({}); {kept} finished batches kept, {running} not ended; {took}",
                previews.rules.join("; ")
            ),
            false,
        );
        return Vec::new();
    }
    if app.read_only {
        app.notice(
            format!("read-only mode: gc would remove {pods} branch pods and {records} records; nothing was removed"),
            true,
        );
        return Vec::new();
    }
    let plans: Vec<String> = previews.plans.iter().map(|p| format!("• {}", p.summary())).collect();
    app.open_dialog(dialogs::Confirm {
        prompt: format!(
            "Remove {pods} branch pods and {records} records?\n{}\n\nRules: {}.\nNothing that has not ended is touched; each batch's outcome goes into its record first ({took}).",
            plans.join("\n"),
            previews.rules.join("; "),
        ),
        danger: true,
        pending: dialogs::Pending::Gc(previews.plans),
    });
    Vec::new()
}

/// Each tenant's latest batch (by start, then id), by region and tenant id: kept up to date batch
/// by batch as events touch them, and made again from every batch only when one was removed.
#[derive(Debug, Default)]
pub struct LatestBatches {
    by_tenant: HashMap<(String, String), String>,
    /// `RunState::removed` when it was last made from every batch (`None`: never yet).
    made_at_removal: Option<u64>,
}

impl LatestBatches {
    /// Brings it up to date after an event that touched `touched` (batch ids).
    fn refresh(&mut self, runs: &crate::lifecycle::run::RunState, touched: &[String]) {
        if self.made_at_removal != Some(runs.removed()) {
            self.by_tenant.clear();
            for b in runs.batches.values() {
                self.note(b, runs);
            }
            self.made_at_removal = Some(runs.removed());
            return;
        }
        for b in touched.iter().filter_map(|id| runs.batches.get(id)) {
            self.note(b, runs);
        }
    }

    /// Makes `b` its tenant's latest when it started after the one kept (or is that one).
    fn note(&mut self, b: &Batch, runs: &crate::lifecycle::run::RunState) {
        if b.tenant_id.is_empty() {
            return;
        }
        let key = (b.region.clone(), b.tenant_id.clone());
        let later = |kept: &String| {
            runs.batches.get(kept).is_none_or(|k| (b.started, b.id.as_str()) >= (k.started, k.id.as_str()))
        };
        if self.by_tenant.get(&key).is_none_or(later) {
            self.by_tenant.insert(key, b.id.clone());
        }
    }
}

/// The batches an event touches (whose start or tenant may have changed), once it is applied.
fn touched_by(event: &DataEvent) -> Touched {
    match event {
        DataEvent::Run(RunEvent::Workflow(seen)) => Touched::Workflow(seen.uid.clone()),
        DataEvent::Run(RunEvent::LogLine { .. }) => Touched::Batches(Vec::new()),
        DataEvent::Run(e) => Touched::Batches(e.batch_id().map(str::to_string).into_iter().collect()),
        DataEvent::RecordBatches(batches) => Touched::Batches(batches.iter().map(|b| b.id.clone()).collect()),
        _ => Touched::Batches(Vec::new()),
    }
}

/// What [`touched_by`] found: batch ids, or a Workflow whose batch is known once it is applied.
enum Touched {
    Batches(Vec<String>),
    Workflow(String),
}

fn on_data(app: &mut App, event: DataEvent) -> Vec<Effect> {
    let touched = touched_by(&event);
    let effects = on_data_event(app, event);
    let ids = match touched {
        Touched::Batches(ids) => ids,
        Touched::Workflow(uid) => app.runs.batch_of_workflow(&uid).map(str::to_string).into_iter().collect(),
    };
    app.latest_batches.refresh(&app.runs, &ids);
    effects
}

fn on_data_event(app: &mut App, event: DataEvent) -> Vec<Effect> {
    match event {
        DataEvent::Connection { region, state } => {
            if let Some(r) = app.regions.iter_mut().find(|r| r.name == region) {
                r.connection = state;
            }
        }
        DataEvent::Tenants { region, tenants } => {
            app.tenants.insert(region, tenants);
            let height = app.list_height();
            let len = app.visible_tenants().len();
            app.tenants_cursor.clamp(len, height);
        }
        DataEvent::Jobs { region, jobs } => {
            app.jobs.insert(region, jobs);
        }
        DataEvent::Run(event) => {
            if let RunEvent::Planned(identity) = &event {
                app.log_interest.insert(identity.batch_id.clone());
            }
            // A batch seen ending here, live: its outcome goes into its record.
            let id = event.batch_id().map(str::to_string);
            let was_running =
                id.as_ref().and_then(|id| app.runs.batches.get(id)).is_some_and(|b| !b.phase().is_final());
            run_update(&mut app.runs, event);
            follow_moved_batches(app);
            if was_running
                && let Some(batch) = id.and_then(|id| app.runs.batches.get(&id))
                && batch.phase().is_final()
            {
                return vec![Effect::RecordOutcome(Box::new(batch.clone()))];
            }
        }
        DataEvent::RecordBatches(batches) => {
            for batch in batches {
                app.runs.add_from_record(batch);
            }
        }
        DataEvent::RecordGone { batch_id } => app.runs.forget_record(&batch_id),
        DataEvent::Logs(MuxEvent::Lines { key, lines }) => {
            let last = lines.iter().rev().map(|(_, l)| l.plain()).find(|t| !t.trim().is_empty());
            let logs = app.logs_for(&key.batch_id);
            let branch = logs.branch_index(&key.job);
            for (ts, line) in &lines {
                logs.scrollback.push(branch, *ts, line);
            }
            if let Some(text) = last {
                run_update(&mut app.runs, RunEvent::LogLine { batch_id: key.batch_id, job: key.job, text });
            }
        }
        DataEvent::Logs(MuxEvent::Ended { key, result }) => {
            if let Err(e) = result {
                app.notice(format!("logs of {} (attempt {}): {e}", key.job, key.attempt), true);
            }
        }
        DataEvent::Access { region, access } => {
            if let Some(r) = app.regions.iter_mut().find(|r| r.name == region) {
                r.access = Some(access);
            }
        }
        DataEvent::Notice { text, error } => app.notice(text, error),
        DataEvent::ArgoTemplate { region, installed } => {
            if let Some(r) = app.regions.iter_mut().find(|r| r.name == region) {
                r.argo_template = Some(installed);
            }
        }
        DataEvent::MigrationOutDone { id, all_succeeded } => {
            if let Some(m) = app.migrations.iter_mut().find(|m| m.out_batch == id)
                && all_succeeded
            {
                m.state = MigrationState::StartingIn;
            }
        }
        DataEvent::MigrationStopped { id, why } => {
            if let Some(m) = app.migrations.iter_mut().find(|m| m.out_batch == id) {
                let text = format!("migration of {}: {why}", m.tenant.name);
                m.state = MigrationState::Stopped(why);
                app.notice(text, true);
            }
        }
        DataEvent::MigrationInStarted { id, batch_id } => {
            if let Some(m) = app.migrations.iter_mut().find(|m| m.out_batch == id) {
                m.in_batch = Some(batch_id.clone());
                m.state = MigrationState::InRunning;
                let text = format!("migration of {}: migrate-in started in {}", m.tenant.name, m.target);
                app.log_interest.insert(batch_id);
                app.notice(text, false);
            }
        }
        DataEvent::GcPreview(Ok(previews)) => return gc_previewed(app, previews),
        DataEvent::GcPreview(Err(e)) => app.notice(format!("gc: {e}"), true),
        DataEvent::Doctor(lines) => {
            app.doctor = Some(lines);
        }
        DataEvent::History { records, problems } => {
            app.history = records;
            if let Some(p) = problems.first() {
                app.notice(format!("history: {p} ({} unreadable line(s))", problems.len()), true);
            }
        }
        DataEvent::BundleSaved(Ok(path)) => app.notice(format!("incident bundle saved: {}", path.display()), false),
        DataEvent::BundleSaved(Err(e)) => app.notice(format!("could not save the incident bundle: {e}"), true),
        DataEvent::BatchFiles { batch_id, files } => {
            app.files.insert(batch_id, files);
        }
    };
    Vec::new()
}

/// A batch first known by a stand-in key (a Workflow before discovery named its batch) is shown
/// under its real id once it has one: views and interests follow it.
fn follow_moved_batches(app: &mut App) {
    let moved = |id: &mut String, runs: &crate::lifecycle::run::RunState| {
        let to = runs.resolve(id);
        if to != id.as_str() {
            *id = to.to_string();
        }
    };
    for view in std::iter::once(&mut app.view).chain(app.back.iter_mut()) {
        if let View::Batch(id) | View::Logs(id) = view {
            moved(id, &app.runs);
        }
    }
    let stand_ins: Vec<String> =
        app.log_interest.iter().filter(|id| app.runs.resolve(id) != id.as_str()).cloned().collect();
    for id in stand_ins {
        app.log_interest.remove(&id);
        app.log_interest.insert(app.runs.resolve(&id).to_string());
    }
}

/// The job under a branch-table cursor (for tests and views).
pub fn selected_branch_job(app: &App) -> Option<JobRef> {
    let View::Batch(id) = &app.view else { return None };
    let batch = app.runs.batches.get(id)?;
    app.visible_branches(batch).get(app.branches_cursor.selected).map(|b| b.job.clone())
}

#[cfg(test)]
mod tests;
