//! One pod's life on the simulated node: binding, container creation (waiting for its ConfigMaps
//! like a real kubelet), init containers in order, app containers side by side, restarts with
//! back-off per `restartPolicy`, `activeDeadlineSeconds`, graceful deletion — with every step
//! written back to the pod's status and recorded as an Event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::events::{Recorder, Severity};
use super::setup::{self, Files, NotReady};
use super::status::{ContainerStatus, Phase, PodStatus, State, Terminated};
use crate::logs::{ContainerLog, LogStore};
use crate::store::resource::Resource;
use crate::store::{DeleteOptions, Store, UpdateScope};
use kube_grammar::time::now_rfc3339;
use sim_shell::{Host, Program, Vars};

/// Settings of the simulated kubelet.
#[derive(Clone, Debug)]
pub struct KubeletConfig {
    /// The virtual node's name.
    pub node_name: String,
    /// Multiplies every simulated duration (`sleep`, container start-up, back-off, deadlines):
    /// 1.0 is real time, 0.01 makes tests fast, 0 makes them instant.
    pub time_scale: f64,
    /// How long "ContainerCreating" lasts (before scaling).
    pub startup_delay: Duration,
    /// Whether Events are recorded.
    pub events: bool,
    /// Whether the kubelet runs at all (off: pods stay Pending, for API-only benchmarks).
    pub enabled: bool,
}

impl Default for KubeletConfig {
    fn default() -> Self {
        KubeletConfig {
            node_name: "tlc-sim-node".into(),
            time_scale: 1.0,
            startup_delay: Duration::from_millis(400),
            events: true,
            enabled: true,
        }
    }
}

/// What the node shares between pod workers.
pub struct Node {
    /// The objects.
    pub store: Arc<Store>,
    /// Container logs.
    pub logs: Arc<LogStore>,
    /// Settings.
    pub config: KubeletConfig,
    /// Event recorder.
    pub recorder: Recorder,
    next_ip: AtomicU32,
}

impl Node {
    /// A node for `store` and `logs`.
    pub fn new(store: Arc<Store>, logs: Arc<LogStore>, config: KubeletConfig) -> Self {
        let recorder = Recorder { node: config.node_name.clone(), enabled: config.events };
        Node { store, logs, config, recorder, next_ip: AtomicU32::new(1) }
    }

    /// A simulated duration on this node's clock (`sleep infinity` stays infinite at any scale).
    pub fn scaled(&self, seconds: f64) -> Option<Duration> {
        if seconds.is_infinite() && seconds > 0.0 {
            return None;
        }
        let s = seconds * self.config.time_scale;
        Some(if s.is_finite() && s > 0.0 { Duration::from_secs_f64(s.min(1.0e9)) } else { Duration::ZERO })
    }

    fn pod_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        format!("10.244.{}.{}", (n / 250) % 250, n % 250 + 2)
    }
}

/// What the node's dispatcher tells a pod worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Nothing yet.
    Live,
    /// The pod has a `deletionTimestamp`: stop its containers and finish the deletion.
    Delete,
    /// The pod object is gone: stop at once.
    Gone,
}

/// Why a wait ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Interrupt {
    Delete,
    Gone,
    Deadline,
}

/// What a container task reports.
enum ContainerEvent {
    Started { index: usize, at: String, id: String },
    Exited { index: usize, code: i32, message: Option<String> },
}

/// The script host: files from volumes, output to the container log, sleep on the node's clock.
struct ContainerHost {
    log: Arc<ContainerLog>,
    files: Arc<Files>,
    node: Arc<Node>,
}

impl Host for ContainerHost {
    fn read_file(&self, path: &str) -> Result<String, String> {
        self.files.get(path).cloned().ok_or_else(|| "No such file or directory".to_string())
    }

    fn stdout(&mut self, text: &str) {
        self.log.append(text.as_bytes());
    }

    fn stderr(&mut self, text: &str) {
        self.log.append(text.as_bytes());
    }

    fn sleep(&mut self, seconds: f64) -> impl std::future::Future<Output = ()> + Send {
        let d = self.node.scaled(seconds);
        async move {
            match d {
                None => std::future::pending().await,
                Some(d) if d.is_zero() => tokio::task::yield_now().await,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
    }
}

/// A container ready to run.
#[derive(Clone)]
struct Prepared {
    name: String,
    program: Result<Program, String>,
    vars: BTreeMap<String, String>,
    files: Arc<Files>,
}

struct Worker {
    node: Arc<Node>,
    pod: Arc<Value>,
    namespace: String,
    name: String,
    uid: String,
    status: PodStatus,
    signal: watch::Receiver<Signal>,
    deadline: Option<Instant>,
    restart_policy: String,
}

fn container_specs(pod: &Value, list: &str) -> Vec<Value> {
    pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn container_id() -> String {
    format!("containerd://{}", uuid::Uuid::new_v4().simple())
}

/// Runs one pod to its end. Returns when the pod is terminal, deleted or gone.
pub async fn run_pod(node: Arc<Node>, pod: Arc<Value>, signal: watch::Receiver<Signal>) {
    let s = |p: &str| pod.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
    let now = now_rfc3339();
    let init: Vec<ContainerStatus> = container_specs(&pod, "initContainers")
        .iter()
        .map(|c| {
            ContainerStatus::new(
                c["name"].as_str().unwrap_or_default(),
                c["image"].as_str().unwrap_or_default(),
                "PodInitializing",
            )
        })
        .collect();
    let main_reason = if init.is_empty() { "ContainerCreating" } else { "PodInitializing" };
    let containers: Vec<ContainerStatus> = container_specs(&pod, "containers")
        .iter()
        .map(|c| {
            ContainerStatus::new(
                c["name"].as_str().unwrap_or_default(),
                c["image"].as_str().unwrap_or_default(),
                main_reason,
            )
        })
        .collect();
    let status = PodStatus {
        phase: Phase::Pending,
        reason: None,
        message: None,
        host_ip: "172.18.0.2".into(),
        pod_ip: node.pod_ip(),
        start_time: now.clone(),
        initialized_at: init.is_empty().then(|| now.clone()),
        scheduled_at: now,
        init,
        containers,
    };
    // At time scale 0 sleeps take no time at all, so a deadline measured the same way would fire
    // at once: deadlines only apply when simulated time actually passes.
    let deadline = pod
        .pointer("/spec/activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .filter(|_| node.config.time_scale > 0.0)
        .and_then(|secs| node.scaled(secs as f64))
        .map(|d| Instant::now() + d);
    let mut worker = Worker {
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name"),
        uid: s("/metadata/uid"),
        restart_policy: s("/spec/restartPolicy"),
        node,
        pod,
        status,
        signal,
        deadline,
    };
    let end = worker.live().await;
    match end {
        Some(Interrupt::Delete) => worker.finish_deletion(),
        Some(Interrupt::Gone) => worker.node.logs.forget_pod(&worker.uid),
        Some(Interrupt::Deadline) | None => {}
    }
}

impl Worker {
    fn event(&self, container: Option<&str>, severity: Severity, reason: &str, message: &str) {
        self.node.recorder.record(&self.node.store, &self.pod, container, severity, reason, message);
    }

    /// Writes the status; `false` if the pod is gone.
    fn publish(&self) -> bool {
        let status = self.status.to_json();
        self.node
            .store
            .modify(Resource::Pods, &self.namespace, &self.name, UpdateScope::Status, |cur| {
                let mut v = cur.clone();
                v["status"] = status;
                Ok(v)
            })
            .is_ok()
    }

    fn bind(&self) -> bool {
        let node = self.node.config.node_name.clone();
        let bound = self.node.store.modify(Resource::Pods, &self.namespace, &self.name, UpdateScope::Main, |cur| {
            let mut v = cur.clone();
            v["spec"]["nodeName"] = json!(node);
            Ok(v)
        });
        if bound.is_err() {
            return false;
        }
        self.event(
            None,
            Severity::Normal,
            "Scheduled",
            &format!("Successfully assigned {}/{} to {}", self.namespace, self.name, node),
        );
        self.publish()
    }

    fn signalled(&mut self) -> Option<Interrupt> {
        match *self.signal.borrow_and_update() {
            Signal::Live => None,
            Signal::Delete => Some(Interrupt::Delete),
            Signal::Gone => Some(Interrupt::Gone),
        }
    }

    /// Waits `duration` (already scaled), or until a signal, a store change (when `on_change`) or the deadline.
    async fn pause(&mut self, duration: Option<Duration>, on_change: bool) -> Option<Interrupt> {
        if let Some(i) = self.signalled() {
            return Some(i);
        }
        let mut changes = self.node.store.subscribe();
        changes.borrow_and_update();
        let sleep = async {
            match duration {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let deadline = async {
            match self.deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.signal.changed() => self.signalled().or(Some(Interrupt::Gone)),
            _ = deadline => Some(Interrupt::Deadline),
            _ = sleep => None,
            _ = changes.changed(), if on_change => None,
        }
    }

    /// The pod's life until it is terminal (`None`) or interrupted.
    async fn live(&mut self) -> Option<Interrupt> {
        if !self.bind() {
            return Some(Interrupt::Gone);
        }
        let startup = self.node.scaled(self.node.config.startup_delay.as_secs_f64()).unwrap_or_default();
        if let Some(i) = self.pause(Some(startup), false).await {
            return self.interrupted(i);
        }
        // Init containers, one after the other.
        let init_specs = container_specs(&self.pod, "initContainers");
        for (index, spec) in init_specs.iter().enumerate() {
            let prepared = match self.prepare(spec, true, index).await {
                Ok(p) => p,
                Err(i) => return self.interrupted(i),
            };
            loop {
                match self.run_containers(vec![(index, prepared.clone())], true).await {
                    Err(i) => return self.interrupted(i),
                    Ok(codes) if codes.iter().all(|c| *c == 0) => break,
                    Ok(_) if self.restart_policy == "Never" => {
                        self.status.phase = Phase::Failed;
                        self.status.containers.iter_mut().for_each(|c| {
                            c.state = State::Waiting { reason: "PodInitializing".into(), message: None };
                        });
                        self.publish();
                        return None;
                    }
                    Ok(_) => {
                        if let Some(i) = self.back_off(true, index).await {
                            return self.interrupted(i);
                        }
                    }
                }
            }
        }
        self.status.initialized_at = Some(now_rfc3339());
        let specs = container_specs(&self.pod, "containers");
        let mut prepared = Vec::new();
        for (index, spec) in specs.iter().enumerate() {
            match self.prepare(spec, false, index).await {
                Ok(p) => prepared.push((index, p)),
                Err(i) => return self.interrupted(i),
            }
        }
        match self.run_containers(prepared, false).await {
            Err(i) => self.interrupted(i),
            Ok(codes) => {
                self.status.phase = if codes.iter().all(|c| *c == 0) { Phase::Succeeded } else { Phase::Failed };
                self.publish();
                None
            }
        }
    }

    fn statuses(&mut self, init: bool) -> &mut Vec<ContainerStatus> {
        if init { &mut self.status.init } else { &mut self.status.containers }
    }

    /// Resolves a container's environment, files and program, retrying while its ConfigMaps are missing.
    async fn prepare(&mut self, spec: &Value, init: bool, index: usize) -> Result<Prepared, Interrupt> {
        let name = spec["name"].as_str().unwrap_or_default().to_string();
        let mut reported: Option<NotReady> = None;
        loop {
            let resolved = setup::files(&self.node.store, &self.pod, spec)
                .and_then(|files| setup::environment(&self.node.store, &self.pod, spec).map(|env| (files, env)));
            match resolved {
                Ok((files, env)) => {
                    let argv = setup::argv(spec, &env);
                    let program = Program::from_argv(&argv).map_err(|u| u.to_string());
                    return Ok(Prepared { name, program, vars: env, files: Arc::new(files) });
                }
                Err(not_ready) => {
                    if reported.as_ref() != Some(&not_ready) {
                        let (event_reason, container) = if not_ready.reason == "FailedMount" {
                            ("FailedMount", None)
                        } else {
                            ("Failed", Some(name.as_str()))
                        };
                        self.event(container, Severity::Warning, event_reason, &not_ready.message);
                        if not_ready.reason == "CreateContainerConfigError" {
                            let message = Some(not_ready.message.clone());
                            self.statuses(init)[index].state =
                                State::Waiting { reason: not_ready.reason.into(), message };
                            self.publish();
                        }
                        reported = Some(not_ready);
                    }
                    // Retry when anything in the store changes (the ConfigMap may appear), and at least every 10 s.
                    if let Some(i) = self.pause(Some(Duration::from_secs(10)), true).await {
                        return Err(i);
                    }
                }
            }
        }
    }

    /// Records that a container will restart after its back-off (10 s doubling to 5 min) and
    /// returns the back-off on the node's clock.
    fn begin_back_off(&mut self, init: bool, index: usize) -> Duration {
        let (name, pod, ns, uid) =
            (self.statuses(init)[index].name.clone(), self.name.clone(), self.namespace.clone(), self.uid.clone());
        let st = &mut self.statuses(init)[index];
        let secs = (10.0 * 2f64.powi(st.restart_count.min(5) as i32)).min(300.0);
        if let State::Terminated(t) = &st.state {
            st.last = Some(t.clone());
        }
        st.state = State::Waiting {
            reason: "CrashLoopBackOff".into(),
            message: Some(format!("back-off {secs}s restarting failed container={name} pod={pod}_{ns}({uid})")),
        };
        self.event(Some(&name), Severity::Warning, "BackOff", "Back-off restarting failed container");
        // Never restart faster than every 10 ms of real time, even at time scale 0.
        self.node.scaled(secs).unwrap_or_default().max(Duration::from_millis(10))
    }

    /// Waits out an init container's restart back-off.
    async fn back_off(&mut self, init: bool, index: usize) -> Option<Interrupt> {
        let d = self.begin_back_off(init, index);
        self.publish();
        self.pause(Some(d), false).await
    }

    fn spawn_container(
        &self,
        index: usize,
        prepared: Prepared,
        tx: mpsc::UnboundedSender<ContainerEvent>,
    ) -> AbortHandle {
        let node = self.node.clone();
        let uid = self.uid.clone();
        tokio::spawn(async move {
            let log = node.logs.start(&uid, &prepared.name);
            let id = container_id();
            let _ = tx.send(ContainerEvent::Started { index, at: now_rfc3339(), id });
            let mut host = ContainerHost { log: log.clone(), files: prepared.files.clone(), node: node.clone() };
            let (code, message) = match &prepared.program {
                Ok(program) => {
                    let mut vars: Vars = prepared.vars.clone().into_iter().collect();
                    (program.run(&mut vars, &mut host).await, None)
                }
                Err(unsupported) => {
                    host.stderr(&format!("{unsupported}\n"));
                    (127, Some(unsupported.clone()))
                }
            };
            log.close();
            let _ = tx.send(ContainerEvent::Exited { index, code, message });
        })
        .abort_handle()
    }

    /// Runs containers side by side (restarting them per the restart policy) until none will run
    /// again; returns their final exit codes.
    async fn run_containers(&mut self, prepared: Vec<(usize, Prepared)>, init: bool) -> Result<Vec<i32>, Interrupt> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut running: BTreeMap<usize, (AbortHandle, Prepared)> = BTreeMap::new();
        let mut codes: BTreeMap<usize, i32> = BTreeMap::new();
        let mut restarts_due: BTreeMap<usize, Instant> = BTreeMap::new();
        for (index, p) in prepared {
            let handle = self.spawn_container(index, p.clone(), tx.clone());
            running.insert(index, (handle, p));
        }
        let total = running.len();
        loop {
            if codes.len() == total && restarts_due.is_empty() {
                return Ok(codes.into_values().collect());
            }
            let next_restart = restarts_due.iter().min_by_key(|(_, at)| **at).map(|(i, at)| (*i, *at));
            let deadline = self.deadline;
            let event = tokio::select! {
                ev = rx.recv() => ev,
                _ = self.signal.changed() => {
                    let i = self.signalled().unwrap_or(Interrupt::Gone);
                    self.kill(&running, init, i);
                    return Err(i);
                }
                _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                    self.kill(&running, init, Interrupt::Deadline);
                    return Err(Interrupt::Deadline);
                }
                _ = async { match next_restart { Some((_, at)) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                    if let Some((index, _)) = next_restart {
                        restarts_due.remove(&index);
                        // Running again: no final exit code until it stops for good.
                        codes.remove(&index);
                        if let Some((_, p)) = running.get(&index) {
                            let p = p.clone();
                            let handle = self.spawn_container(index, p.clone(), tx.clone());
                            running.insert(index, (handle, p));
                        }
                    }
                    continue;
                }
            };
            let Some(event) = event else { return Err(Interrupt::Gone) };
            match event {
                ContainerEvent::Started { index, at, id } => {
                    let name = self.statuses(init)[index].name.clone();
                    let image = self.statuses(init)[index].image.clone();
                    self.statuses(init)[index].started(at, id);
                    codes.remove(&index);
                    if !init && self.status.all_running() {
                        self.status.phase = Phase::Running;
                    }
                    self.event(
                        Some(&name),
                        Severity::Normal,
                        "Pulled",
                        &format!("Container image \"{image}\" already present on machine"),
                    );
                    self.event(Some(&name), Severity::Normal, "Created", &format!("Created container: {name}"));
                    self.event(Some(&name), Severity::Normal, "Started", &format!("Started container {name}"));
                    if !init
                        && self.status.phase == Phase::Pending
                        && self.status.containers.iter().any(|c| matches!(c.state, State::Running { .. }))
                    {
                        self.status.phase = Phase::Running;
                    }
                    if !self.publish() {
                        self.kill(&running, init, Interrupt::Gone);
                        return Err(Interrupt::Gone);
                    }
                }
                ContainerEvent::Exited { index, code, message } => {
                    let st = &mut self.statuses(init)[index];
                    let (started_at, id) = match &st.state {
                        State::Running { started_at, container_id } => (started_at.clone(), container_id.clone()),
                        _ => (now_rfc3339(), container_id()),
                    };
                    st.state = State::Terminated(Terminated {
                        exit_code: code,
                        reason: if code == 0 { "Completed".into() } else { "Error".into() },
                        message,
                        started_at,
                        finished_at: now_rfc3339(),
                        container_id: id,
                    });
                    codes.insert(index, code);
                    let restart = !init
                        && match self.restart_policy.as_str() {
                            "Always" => true,
                            "OnFailure" => code != 0,
                            _ => false,
                        };
                    if restart {
                        let back_off = self.begin_back_off(init, index);
                        restarts_due.insert(index, Instant::now() + back_off);
                    }
                    if !self.publish() {
                        self.kill(&running, init, Interrupt::Gone);
                        return Err(Interrupt::Gone);
                    }
                }
            }
        }
    }

    /// Stops running containers (their logs close) and records how they ended.
    fn kill(&mut self, running: &BTreeMap<usize, (AbortHandle, Prepared)>, init: bool, why: Interrupt) {
        for (index, (handle, p)) in running {
            handle.abort();
            if let Some(log) = self.node.logs.current(&self.uid, &p.name) {
                log.close();
            }
            let st = &mut self.statuses(init)[*index];
            let (started_at, id) = match &st.state {
                State::Running { started_at, container_id } => (started_at.clone(), container_id.clone()),
                _ => continue,
            };
            st.state = State::Terminated(Terminated {
                exit_code: 137,
                reason: "Error".into(),
                message: None,
                started_at,
                finished_at: now_rfc3339(),
                container_id: id,
            });
            if why == Interrupt::Delete {
                let name = p.name.clone();
                self.event(Some(&name), Severity::Normal, "Killing", &format!("Stopping container {name}"));
            }
        }
    }

    fn interrupted(&mut self, why: Interrupt) -> Option<Interrupt> {
        match why {
            Interrupt::Deadline => {
                self.status.phase = Phase::Failed;
                self.status.reason = Some("DeadlineExceeded".into());
                self.status.message = Some("Pod was active on the node longer than the specified deadline".into());
                for c in self.status.containers.iter_mut().chain(self.status.init.iter_mut()) {
                    if let State::Waiting { .. } = c.state {
                        let now = now_rfc3339();
                        c.state = State::Terminated(Terminated {
                            exit_code: 137,
                            reason: "Error".into(),
                            message: None,
                            started_at: now.clone(),
                            finished_at: now,
                            container_id: String::new(),
                        });
                    }
                }
                self.publish();
                self.event(
                    None,
                    Severity::Warning,
                    "DeadlineExceeded",
                    "Pod was active on the node longer than the specified deadline",
                );
                Some(Interrupt::Deadline)
            }
            Interrupt::Delete => {
                self.publish();
                Some(Interrupt::Delete)
            }
            Interrupt::Gone => Some(Interrupt::Gone),
        }
    }

    /// The containers are stopped: remove the pod object for good.
    fn finish_deletion(&self) {
        let _ = self.node.store.delete(
            Resource::Pods,
            &self.namespace,
            &self.name,
            &DeleteOptions {
                grace_period_seconds: Some(0),
                precondition_uid: Some(self.uid.clone()),
                ..Default::default()
            },
        );
        self.node.logs.forget_pod(&self.uid);
    }
}
