//! The console's loop: one task owns the state and the terminal and `select!`s over key presses,
//! background events, log lines, the clock and termination signals. Every message goes through
//! `update`; a frame is drawn only when something changed, at most 60 times a second, so a storm of
//! log lines costs one frame per 16 ms, and a storm of resizes one frame, once the size has stayed
//! still for 50 ms. Effects that touch the cluster run in spawned
//! tasks and report back as events: the UI never waits on the network.

pub mod background;
pub mod effects;
pub mod sources;

use std::collections::HashSet;
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
    for region in console.regions.iter() {
        let first_screen = match &cm_source {
            Some(source) => {
                let (listed, first_screen) = sources::FirstScreen::new();
                background.spawn_until_stopped(sources::tenants(region.clone(), source.clone(), tx.clone(), listed));
                first_screen
            }
            None => sources::FirstScreen::ready(),
        };
        background.spawn_until_stopped(sources::jobs(region.clone(), scope.clone(), tx.clone(), first_screen.clone()));
        background.spawn_until_stopped(sources::branches(region.clone(), tx.clone(), first_screen.clone()));
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
    app.theme = theme.name().to_string();
    app.themes = Theme::available(console.theme_dir.as_deref());
    app.now = jiff::Timestamp::now();
    app
}

/// Asks the multiplexer for the logs of every branch attempt of the batches the operator looks at
/// (or started here), once per container. The branch pod in the team namespace holds the real
/// work; a branch of the Argo engine that ended without one (its bridge failed before creating
/// it) shows its bridge pod's `main` log instead — never both, so no line comes twice.
pub fn want_logs(app: &App, console: &Console, mux: &Mux, requested: &mut HashSet<StreamKey>) {
    for id in &app.log_interest {
        let Some(batch) = app.runs.batches.get(id) else { continue };
        let Some(region) = console.regions.get(&batch.region) else { continue };
        for branch in batch.branches.values() {
            if let (Some(node), Some(workflow)) = (&branch.node, &batch.workflow)
                && branch.attempts.values().all(|a| a.pod_name.is_empty())
                && node.state.is_final()
                && let Some(pod) = node.bridge_pod()
            {
                let key = StreamKey {
                    batch_id: batch.id.clone(),
                    job: branch.job.clone(),
                    attempt: 0,
                    container: "main".into(),
                };
                if requested.insert(key.clone()) {
                    mux.want(Want {
                        key,
                        source: Source {
                            region: region.name.clone(),
                            namespace: workflow.namespace.clone(),
                            pod: pod.to_string(),
                            container: "main".into(),
                        },
                        client: region.client.clone(),
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
                    let key = StreamKey {
                        batch_id: batch.id.clone(),
                        job: branch.job.clone(),
                        attempt: attempt.number,
                        container: container.clone(),
                    };
                    if requested.contains(&key) {
                        continue;
                    }
                    requested.insert(key.clone());
                    mux.want(Want {
                        key,
                        source: Source {
                            region: region.name.clone(),
                            namespace: branch.job.namespace.clone(),
                            pod: attempt.pod_name.clone(),
                            container: container.clone(),
                        },
                        client: region.client.clone(),
                        live: true,
                        priority: Priority::of(attempt.phase),
                    });
                }
            }
        }
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
    let mut requested: HashSet<StreamKey> = HashSet::new();
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
                update(&mut app, Msg::Data(event));
                let mut n = 1;
                while n < DRAIN_LIMIT {
                    let Ok(event) = rx.try_recv() else { break };
                    update(&mut app, Msg::Data(event));
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
