//! The console's loop: one task owns the state and the terminal and `select!`s over key presses,
//! background events, log lines, the clock and termination signals. Every message goes through
//! `update`; a frame is drawn only when something changed, at most 60 times a second, so a storm of
//! log lines costs one frame per 16 ms, and a storm of resizes one frame, once the size has stayed
//! still for 50 ms. Effects that touch the cluster run in spawned
//! tasks and report back as events: the UI never waits on the network.

pub mod background;
pub mod effects;
pub mod sources;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::background::Background;
use super::app::{App, Effect, Msg, update};
use super::data::DataEvent;
use super::terminal::Tui;
use super::theme::Theme;
use crate::config::{Config, TenantSource};
use crate::contract::JobRef;
use crate::lifecycle::discovery::Scope;
use crate::lifecycle::engine::argo::ArgoSettings;
use crate::lifecycle::error::Error;
use crate::lifecycle::regions::Regions;
use crate::logs::follow::Source;
use crate::logs::mux::{Mux, Priority, StreamKey, Want};
use crate::tenants::configmaps::ConfigMapSource;

/// The shortest time between two frames (60 per second at most).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);

/// How long the terminal's size must stay still before a frame is drawn for it: a storm of
/// resizes (a window edge being dragged) is drawn once, at the size it ends with.
pub const RESIZE_SETTLE: Duration = Duration::from_millis(50);

/// Most background events applied before a frame may be drawn.
const DRAIN_LIMIT: usize = 4096;

/// What the console runs on.
pub struct Console {
    /// The configuration in force.
    pub config: Config,
    /// The regions.
    pub regions: Regions,
    /// The user theme directory.
    pub theme_dir: Option<PathBuf>,
}

/// The user theme directory: `themes/` next to the configuration file.
pub fn default_theme_dir() -> Option<PathBuf> {
    Config::default_path().and_then(|p| p.parent().map(|d| d.join("themes")))
}

/// Starts the data sources of every region, as tasks that end when the console stops.
pub fn start_sources(console: &Console, tx: &mpsc::UnboundedSender<DataEvent>, background: &Background) {
    let scope = Scope {
        annotation: console.config.lifecycle.annotation.clone(),
        namespaces: console.config.lifecycle.namespaces.clone(),
        mount_dir: console.config.lifecycle.mount_dir.clone(),
    };
    let cm_source = ConfigMapSource::from_config(&console.config);
    let mut first_screen = sources::FirstScreen::ready();
    if let Some(source) = &cm_source {
        for region in console.regions.iter() {
            let listed = first_screen.listing();
            background.spawn_until_stopped(sources::tenants(region.clone(), source.clone(), tx.clone(), listed));
        }
    }
    for region in console.regions.iter() {
        let first_screen = first_screen.clone();
        background.spawn_until_stopped(sources::jobs(region.clone(), scope.clone(), tx.clone(), first_screen.clone()));
        background.spawn_until_stopped(sources::branches(region.clone(), tx.clone(), first_screen.clone()));
        let records = console.config.run.records_namespace.clone();
        background.spawn_until_stopped(sources::records(region.clone(), records, tx.clone(), first_screen.clone()));
        background.spawn_until_stopped(sources::access(region.clone(), tx.clone()));
        let argo = ArgoSettings::from_config(&console.config);
        background.spawn_until_stopped(sources::workflows(region.clone(), argo.clone(), tx.clone(), first_screen));
        background.spawn_until_stopped(sources::argo_template(region.clone(), argo, tx.clone()));
    }
    if let TenantSource::Directory { path } = &console.config.tenants.source {
        let path = path.clone();
        let tx = tx.clone();
        background.spawn_blocking(move || match crate::tenants::directory::list(&path) {
            Ok(all) => {
                let mut by_region: std::collections::BTreeMap<String, Vec<_>> = Default::default();
                for t in all {
                    by_region.entry(t.region.clone()).or_default().push(t);
                }
                for (region, tenants) in by_region {
                    let _ = tx.send(DataEvent::Tenants { region, tenants });
                }
            }
            Err(e) => {
                let _ = tx.send(DataEvent::Notice { text: format!("tenants: {e}"), error: true });
            }
        });
    }
}

/// The state a console starts with.
pub fn initial_app(console: &Console, theme: &Theme) -> App {
    let regions: Vec<(String, String)> = console.regions.iter().map(|r| (r.name.clone(), r.context.clone())).collect();
    let engine = console.config.run.engine;
    let mut app = App::new(&regions, engine, console.config.run.read_only, &console.config.lifecycle.mount_dir);
    app.scrollback = console.config.ui.scrollback;
    app.argo_template = format!("{}/{}", console.config.run.argo_namespace, console.config.run.workflow_template);
    app.jobs_searched = format!("carry {} {}", console.config.lifecycle.annotation, console.config.job_scope());
    app.tenants_searched = console.config.tenant_place();
    app.theme = theme.name().to_string();
    app.themes = Theme::available(console.theme_dir.as_deref());
    app.now = jiff::Timestamp::now();
    app
}

/// The log streams the console has asked the multiplexer for, by batch and branch. [`want_logs`]
/// runs after every burst of cluster events over every branch of the batches looked at; this
/// tells a stream already asked for from a new one without building its key or hashing, walking a
/// batch's branches and its streams side by side, both in Job order (with a 2,000-branch batch
/// open, building a key per branch to look it up was a fifth of the console's CPU).
#[derive(Debug, Default)]
pub struct Requested {
    by_batch: HashMap<String, BTreeMap<JobRef, Vec<(u32, String)>>>,
}

impl Requested {
    /// Whether the stream of `container` in `attempt` of `job`'s branch of `batch_id` was asked for.
    pub fn contains(&self, batch_id: &str, job: &JobRef, attempt: u32, container: &str) -> bool {
        self.by_batch
            .get(batch_id)
            .and_then(|jobs| jobs.get(job))
            .is_some_and(|streams| streams.iter().any(|(a, c)| *a == attempt && c == container))
    }

    /// Records a stream as asked for; false when it already was.
    pub fn insert(&mut self, key: &StreamKey) -> bool {
        if self.contains(&key.batch_id, &key.job, key.attempt, &key.container) {
            return false;
        }
        self.by_batch
            .entry(key.batch_id.clone())
            .or_default()
            .entry(key.job.clone())
            .or_default()
            .push((key.attempt, key.container.clone()));
        true
    }
}

/// A log stream to ask the multiplexer for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStream {
    /// The stream.
    pub key: StreamKey,
    /// The region of the pod.
    pub region: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod.
    pub pod: String,
    /// Follow it until the container ends (else read what is there).
    pub live: bool,
    /// How urgently.
    pub priority: Priority,
}

/// The logs of every branch attempt of the batches the operator looks at (or started here) in
/// the regions `configured`, once per container, that were not asked for yet — now recorded in
/// `requested`. The branch pod in the team namespace holds the real work; a branch of the Argo
/// engine that ended without one (its bridge failed before creating it) gives its bridge pod's
/// `main` log instead — never both, so no line comes twice.
pub fn new_log_streams(app: &App, configured: impl Fn(&str) -> bool, requested: &mut Requested) -> Vec<NewStream> {
    let mut out = Vec::new();
    for id in &app.log_interest {
        let Some(batch) = app.runs.batches.get(id) else { continue };
        if !configured(&batch.region) {
            continue;
        }
        // Both in Job order: walked side by side (this runs over every branch, often).
        let mut known = requested.by_batch.get(&batch.id).map(|jobs| jobs.iter().peekable());
        let first = out.len();
        for branch in batch.branches.values() {
            let streams = known.as_mut().and_then(|known| {
                while known.next_if(|(job, _)| **job < branch.job).is_some() {}
                known.next_if(|(job, _)| **job == branch.job).map(|(_, streams)| streams)
            });
            let asked = |attempt: u32, container: &str| {
                streams.is_some_and(|s| s.iter().any(|(a, c)| *a == attempt && c == container))
            };
            let key = |attempt: u32, container: &str| StreamKey {
                batch_id: batch.id.clone(),
                job: branch.job.clone(),
                attempt,
                container: container.to_string(),
            };
            if let (Some(node), Some(workflow)) = (&branch.node, &batch.workflow)
                && branch.attempts.values().all(|a| a.pod_name.is_empty())
                && node.state.is_final()
                && let Some(pod) = node.bridge_pod()
            {
                if !asked(0, "main") {
                    out.push(NewStream {
                        key: key(0, "main"),
                        region: batch.region.clone(),
                        namespace: workflow.namespace.clone(),
                        pod: pod.to_string(),
                        live: false,
                        priority: Priority::of(node.phase()),
                    });
                }
                continue;
            }
            for attempt in branch.attempts.values() {
                if attempt.pod_name.is_empty() {
                    continue;
                }
                for container in &attempt.containers {
                    if !asked(attempt.number, container) {
                        out.push(NewStream {
                            key: key(attempt.number, container),
                            region: batch.region.clone(),
                            namespace: branch.job.namespace.clone(),
                            pod: attempt.pod_name.clone(),
                            live: true,
                            priority: Priority::of(attempt.phase),
                        });
                    }
                }
            }
        }
        for stream in &out[first..] {
            requested.insert(&stream.key);
        }
    }
    out
}

/// Asks the multiplexer for the logs [`new_log_streams`] finds.
pub fn want_logs(app: &App, console: &Console, mux: &Mux, requested: &mut Requested) {
    for stream in new_log_streams(app, |r| console.regions.get(r).is_some(), requested) {
        let Some(region) = console.regions.get(&stream.region) else { continue };
        mux.want(Want {
            source: Source {
                region: region.name.clone(),
                namespace: stream.namespace,
                pod: stream.pod,
                container: stream.key.container.clone(),
            },
            key: stream.key,
            client: region.client.clone(),
            live: stream.live,
            priority: stream.priority,
        });
    }
}

/// Runs the console until the operator quits or a signal ends it; the terminal is restored however
/// it ends.
pub async fn run(console: Console) -> Result<u8, Error> {
    let (theme, theme_warning) = match Theme::load(&console.config.ui.theme, console.theme_dir.as_deref()) {
        Ok(loaded) => (loaded.theme, loaded.warnings.first().cloned()),
        Err(e) => (Theme::default_theme(), Some(format!("theme: {e}; using the default"))),
    };
    let mut theme = theme;
    let (tx, mut rx) = mpsc::unbounded_channel::<DataEvent>();
    let mut app = initial_app(&console, &theme);
    if let Some(w) = theme_warning {
        app.notice(w, true);
    }
    let background = Background::new();
    start_sources(&console, &tx, &background);
    let (mux, mut mux_rx) = Mux::start(console.config.ui.log_streams);
    let mut requested = Requested::default();
    let executor = effects::Executor::new(&console, tx.clone(), background.clone());

    let mut tui = Tui::new().map_err(Error::io("take over the terminal"))?;
    if let Ok(size) = tui.terminal.size() {
        app.size = size;
    }
    let mut keys = EventStream::new();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    let mut signals = Signals::new();
    let mut dirty = true;
    let mut last_frame = Instant::now() - FRAME_INTERVAL;
    let mut size_settles = Instant::now();
    let outcome: Result<u8, Error> = loop {
        let frame_due = (last_frame + FRAME_INTERVAL).max(size_settles);
        let mut effects = Vec::new();
        tokio::select! {
            event = keys.next() => match event {
                Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                    effects = update(&mut app, Msg::Key(key));
                    // Opening a batch's logs asks for them now, not at the next cluster event
                    // (a finished batch may never have another).
                    want_logs(&app, &console, &mux, &mut requested);
                    dirty = true;
                }
                Some(Ok(TermEvent::Resize(w, h))) => {
                    update(&mut app, Msg::Resize(w, h));
                    size_settles = Instant::now() + RESIZE_SETTLE;
                    dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break Err(Error::io("read the terminal")(e)),
                None => break Ok(0),
            },
            Some(event) = rx.recv() => {
                // Cluster events may ask for effects too (a batch seen ending: record its outcome).
                effects = update(&mut app, Msg::Data(event));
                let mut n = 1;
                while n < DRAIN_LIMIT {
                    let Ok(event) = rx.try_recv() else { break };
                    effects.extend(update(&mut app, Msg::Data(event)));
                    n += 1;
                }
                want_logs(&app, &console, &mux, &mut requested);
                dirty = true;
            }
            Some(event) = mux_rx.recv() => {
                update(&mut app, Msg::Data(DataEvent::Logs(event)));
                let mut n = 1;
                while n < DRAIN_LIMIT {
                    let Ok(event) = mux_rx.try_recv() else { break };
                    update(&mut app, Msg::Data(DataEvent::Logs(event)));
                    n += 1;
                }
                dirty = true;
            }
            _ = clock.tick() => {
                update(&mut app, Msg::Tick(jiff::Timestamp::now()));
                dirty = true;
            }
            signal = signals.next() => break Ok(128 + signal),
            _ = tokio::time::sleep_until(frame_due), if dirty => {
                if let Err(e) = tui.terminal.draw(|f| super::views::draw(f, &app, &theme)) {
                    break Err(Error::io("draw")(e));
                }
                last_frame = Instant::now();
                dirty = false;
            }
        }
        let mut quit = false;
        for effect in effects {
            match effect {
                Effect::Quit => quit = true,
                Effect::Suspend => {
                    if let Err(e) = tui.suspend() {
                        app.notice(format!("cannot suspend: {e}"), true);
                    }
                    dirty = true;
                }
                Effect::Redraw => {
                    if let Err(e) = tui.redraw_all() {
                        app.notice(format!("cannot redraw: {e}"), true);
                    }
                    dirty = true;
                }
                Effect::LoadTheme(name) => match Theme::load(&name, console.theme_dir.as_deref()) {
                    Ok(loaded) => {
                        theme = loaded.theme;
                        app.theme = theme.name().to_string();
                        match loaded.warnings.first() {
                            Some(w) => app.notice(format!("theme {name}: {w}"), true),
                            None => app.notice(format!("theme {name}"), false),
                        }
                    }
                    Err(e) => app.notice(e.to_string(), true),
                },
                other => executor.execute(other, &app),
            }
        }
        if quit {
            break Ok(0);
        }
    };
    mux.stop();
    drop(tui);
    tracing::info!(outcome = ?outcome, "console closing");
    let left = background.shutdown(SHUTDOWN_GRACE).await;
    if left > 0 {
        eprintln!("tlc: {left} background task(s) did not finish within {} s", SHUTDOWN_GRACE.as_secs());
    }
    outcome
}

/// How long quitting waits for actions in flight (a launch, its audit record) to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// SIGTERM and SIGHUP end the console (the terminal is restored on the way out), with the shell's
/// exit status for a death by that signal (143, 129) so a supervisor can tell it from `q`.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals { term: signal(SignalKind::terminate()).ok(), hup: signal(SignalKind::hangup()).ok() }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Waits for a signal and returns its number.
    async fn next(&mut self) -> u8 {
        #[cfg(unix)]
        {
            let term = async {
                match &mut self.term {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let hup = async {
                match &mut self.hup {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = term => 15,
                _ = hup => 1,
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<u8>().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{BranchIdentity, Engine};
    use crate::lifecycle::argo::{self, NodePhase, State};
    use crate::lifecycle::run::{Branch, BranchNode, Phase, PodSnapshot, RunEvent, WorkflowInfo};

    const BATCH: &str = "019a0000-0000-7000-8000-000000000001";

    fn pod(job: &JobRef, attempt: u32, phase: Phase) -> Msg {
        let identity = BranchIdentity {
            batch_id: BATCH.into(),
            tenant_id: "1da11ccf-6654-4f57-8807-6bb944658fe6".into(),
            tenant_name: "acme-prod".into(),
            operation: "lifecycle.upsert".into(),
            job_namespace: job.namespace.clone(),
            job_name: job.name.clone(),
            attempt,
            engine: Some(Engine::Argo),
            region: "eu-west".into(),
            migration: None,
        };
        Msg::Data(DataEvent::Run(RunEvent::Pod(PodSnapshot {
            pod_name: format!("{}-{attempt}", job.name),
            identity,
            phase,
            exit_code: None,
            reason: None,
            created: None,
            started: None,
            finished: None,
            deleting: false,
            containers: vec!["lifecycle".into()],
        })))
    }

    fn app() -> App {
        App::new(&[("eu-west".into(), "eu-west".into())], Engine::Argo, false, "/var/run/tlc/lifecycle")
    }

    /// (job, attempt, container, pod, live, priority) of each stream.
    fn listed(streams: &[NewStream]) -> Vec<(String, u32, String, String, bool, Priority)> {
        streams
            .iter()
            .map(|s| {
                assert_eq!((s.key.batch_id.as_str(), s.region.as_str()), (BATCH, "eu-west"));
                (s.key.job.to_string(), s.key.attempt, s.key.container.clone(), s.pod.clone(), s.live, s.priority)
            })
            .collect()
    }

    #[test]
    fn each_branch_pods_log_is_asked_for_once_and_only_for_batches_looked_at() {
        let (billing, crm) = (JobRef::new("billing", "account"), JobRef::new("crm", "sync"));
        let mut app = app();
        update(&mut app, pod(&billing, 1, Phase::Running));
        update(&mut app, pod(&crm, 1, Phase::Failed));
        let mut requested = Requested::default();
        assert!(new_log_streams(&app, |_| true, &mut requested).is_empty(), "nobody looks at the batch");
        app.log_interest.insert(BATCH.into());
        assert!(new_log_streams(&app, |_| false, &mut requested).is_empty(), "a region not configured");
        let first = new_log_streams(&app, |_| true, &mut requested);
        assert_eq!(
            listed(&first),
            vec![
                ("billing/account".into(), 1, "lifecycle".into(), "account-1".into(), true, Priority::Running),
                ("crm/sync".into(), 1, "lifecycle".into(), "sync-1".into(), true, Priority::Failed),
            ]
        );
        assert_eq!(first[0].namespace, "billing", "the branch pod is in the Job's namespace");
        assert!(new_log_streams(&app, |_| true, &mut requested).is_empty(), "asked for already");
        // A retry's second attempt is a stream of its own.
        update(&mut app, pod(&crm, 2, Phase::Running));
        assert_eq!(
            listed(&new_log_streams(&app, |_| true, &mut requested)),
            vec![("crm/sync".into(), 2, "lifecycle".into(), "sync-2".into(), true, Priority::Running)]
        );
        assert!(requested.contains(BATCH, &crm, 1, "lifecycle") && requested.contains(BATCH, &crm, 2, "lifecycle"));
        assert!(!requested.contains(BATCH, &crm, 3, "lifecycle") && !requested.contains(BATCH, &crm, 1, "main"));
    }

    #[test]
    fn a_branch_that_ended_without_a_branch_pod_gives_its_bridges_log_once() {
        let (billing, search) = (JobRef::new("billing", "account"), JobRef::new("search", "index"));
        let mut app = app();
        app.log_interest.insert(BATCH.into());
        update(&mut app, pod(&billing, 1, Phase::Succeeded));
        let node = |state: State, bridge: Option<&str>| BranchNode {
            state,
            exit_code: Some(125),
            message: None,
            started: None,
            finished: None,
            attempts: bridge
                .map(|pod| argo::Attempt {
                    number: 1,
                    node_id: "wf-1".into(),
                    pod_name: Some(pod.into()),
                    state,
                    argo_phase: NodePhase::Failed,
                    message: None,
                    exit_code: Some(125),
                    started: None,
                    finished: None,
                    host_node: None,
                })
                .into_iter()
                .collect(),
            stopped: false,
        };
        let batch = app.runs.batches.get_mut(BATCH).expect("the batch");
        batch.workflow = Some(WorkflowInfo::running("argo", "wf"));
        // Its branch pod's log, not its bridge's, for a branch that has a pod.
        batch.branches.get_mut(&billing).expect("billing").node =
            Some(Box::new(node(State::Succeeded, Some("wf-bridge-1"))));
        // Running, or without a bridge pod: nothing to read yet.
        let mut branch = Branch { job: search.clone(), attempts: Default::default(), last_line: None, node: None };
        branch.node = Some(Box::new(node(State::Running, Some("wf-bridge-2"))));
        batch.branches.insert(search.clone(), branch);
        let mut requested = Requested::default();
        let first = listed(&new_log_streams(&app, |_| true, &mut requested));
        assert_eq!(
            first,
            vec![("billing/account".into(), 1, "lifecycle".into(), "account-1".into(), true, Priority::Finished)]
        );

        let batch = app.runs.batches.get_mut(BATCH).expect("the batch");
        batch.branches.get_mut(&search).expect("search").node =
            Some(Box::new(node(State::Failed, Some("wf-bridge-2"))));
        let streams = new_log_streams(&app, |_| true, &mut requested);
        assert_eq!(
            listed(&streams),
            vec![("search/index".into(), 0, "main".into(), "wf-bridge-2".into(), false, Priority::Failed)]
        );
        assert_eq!(streams[0].namespace, "argo", "the bridge pod is in the Workflow's namespace");
        assert!(new_log_streams(&app, |_| true, &mut requested).is_empty(), "once");
    }
}
