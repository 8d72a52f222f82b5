//! One pod's life on the simulated node: binding, container creation (waiting for its ConfigMaps
//! like a real kubelet), init containers in order, app containers side by side, restarts with
//! back-off per `restartPolicy`, `activeDeadlineSeconds`, graceful deletion and SIGTERM — with every
//! step written back to the pod's status and recorded as an Event. A container runs either a
//! registered binary (in process) or the shell interpreter; both look the same from the API.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::binaries::{
    ApiAccess, Binaries, Binary, Clock, Launch, Output, PodInfo, SIGKILL_EXIT, ShellHost, run_binary,
};
use super::events::{Recorder, Severity};
use super::podfs::PodFs;
use super::setup::{self, NotReady};
use super::status::{ContainerStatus, Phase, PodStatus, State, Terminated};
use crate::auth::{Identity, Policy};
use crate::logs::LogStore;
use crate::store::resource::Resource;
use crate::store::{DeleteOptions, Store, UpdateScope};
use kube_grammar::time::now_rfc3339;
use sim_shell::{Program, Vars};

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

/// Where processes in pods reach the API server (what the in-cluster configuration points at).
#[derive(Clone, Debug, Default)]
pub struct ApiEndpoint {
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    /// The CA certificate (PEM) the server's certificate chains to.
    pub ca_pem: String,
}

/// What the node knows beyond the store: the registered binaries, and how pods reach the API
/// (the server's address and the policy that issues service account tokens).
#[derive(Clone, Debug, Default)]
pub struct NodeServices {
    /// Programs containers may run in process.
    pub binaries: Binaries,
    /// The API server in-pod processes talk to.
    pub api: ApiEndpoint,
    /// Issues the service account tokens pods authenticate with.
    pub policy: Arc<Policy>,
}

/// A running pod's containers, as far as signals are concerned.
struct PodControl {
    namespace: String,
    name: String,
    signals: mpsc::UnboundedSender<String>,
    running: HashSet<String>,
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
    services: NodeServices,
    controls: Mutex<HashMap<String, PodControl>>,
    next_ip: AtomicU32,
}

/// Why a signal could not be delivered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// No such pod.
    #[error("pods \"{pod}\" not found in namespace \"{namespace}\"")]
    PodNotFound {
        /// The namespace asked for.
        namespace: String,
        /// The pod asked for.
        pod: String,
    },
    /// The pod has no container of that name.
    #[error("container {container} is not valid for pod {pod}")]
    NoSuchContainer {
        /// The pod.
        pod: String,
        /// The container asked for.
        container: String,
    },
    /// The container exists but is not running (not started yet, or finished).
    #[error("container \"{container}\" in pod \"{namespace}/{pod}\" is not running")]
    NotRunning {
        /// The namespace.
        namespace: String,
        /// The pod.
        pod: String,
        /// The container.
        container: String,
    },
    /// The cluster was started without a kubelet.
    #[error("the embedded cluster's kubelet is not running (KubeletConfig::enabled is false)")]
    NoKubelet,
}

impl Node {
    /// A node for `store` and `logs`, with the binaries and API access in `services`.
    pub fn new(store: Arc<Store>, logs: Arc<LogStore>, config: KubeletConfig, services: NodeServices) -> Self {
        let recorder = Recorder { node: config.node_name.clone(), enabled: config.events };
        Node {
            store,
            logs,
            config,
            recorder,
            services,
            controls: Mutex::new(HashMap::new()),
            next_ip: AtomicU32::new(1),
        }
    }

    /// The node's clock.
    pub fn clock(&self) -> Clock {
        Clock::new(self.config.time_scale)
    }

    /// The binaries containers on this node may run.
    pub fn binaries(&self) -> &Binaries {
        &self.services.binaries
    }

    /// A simulated duration on this node's clock (`sleep infinity` stays infinite at any scale).
    pub fn scaled(&self, seconds: f64) -> Option<Duration> {
        self.clock().scaled_secs(seconds)
    }

    /// A grace period on this node's clock. At time scale 0, where simulated time does not pass
    /// but a binary's clean-up (API calls) takes real time, a grace period lasts its length in
    /// seconds of real time, at most one second.
    pub fn grace(&self, seconds: i64) -> Duration {
        if seconds <= 0 {
            return Duration::ZERO;
        }
        if self.config.time_scale <= 0.0 {
            return Duration::from_secs(seconds.min(1) as u64);
        }
        self.scaled(seconds as f64).unwrap_or(Duration::MAX)
    }

    fn pod_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        format!("10.244.{}.{}", (n / 250) % 250, n % 250 + 2)
    }

    fn controls(&self) -> MutexGuard<'_, HashMap<String, PodControl>> {
        self.controls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_running(&self, uid: &str, container: &str, running: bool) {
        if let Some(c) = self.controls().get_mut(uid) {
            if running {
                c.running.insert(container.to_string());
            } else {
                c.running.remove(container);
            }
        }
    }

    /// Sends SIGTERM to a running container: a registered binary sees its `terminate` token
    /// cancelled and is killed (exit code 137) if it has not exited when the pod's
    /// `terminationGracePeriodSeconds` (on the node's clock) are over; a shell container is killed
    /// at once (exit code 137). Either way the container then restarts or not per `restartPolicy`.
    pub fn signal_container(&self, namespace: &str, pod: &str, container: &str) -> Result<(), SignalError> {
        let object = self
            .store
            .get(Resource::Pods, namespace, pod)
            .map_err(|_| SignalError::PodNotFound { namespace: namespace.into(), pod: pod.into() })?;
        let declared = ["initContainers", "containers"].iter().any(|list| {
            container_specs(&object, list).iter().any(|c| c.get("name").and_then(Value::as_str) == Some(container))
        });
        if !declared {
            return Err(SignalError::NoSuchContainer { pod: pod.into(), container: container.into() });
        }
        let not_running =
            || SignalError::NotRunning { namespace: namespace.into(), pod: pod.into(), container: container.into() };
        let uid = object.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default();
        let controls = self.controls();
        let control = controls.get(uid).ok_or_else(not_running)?;
        if !control.running.contains(container) || control.namespace != namespace || control.name != pod {
            return Err(not_running());
        }
        control.signals.send(container.to_string()).map_err(|_| not_running())
    }

    /// The API credentials of a pod's service account.
    async fn api_access(&self, namespace: &str, service_account: &str) -> Result<ApiAccess, String> {
        let token = self.services.policy.service_account_token(&self.store, namespace, service_account);
        let user = Identity::service_account(namespace, service_account).name;
        let entry = crate::kubeconfig::Entry {
            context: "in-cluster".into(),
            cluster: "in-cluster".into(),
            server: self.services.api.url.clone(),
            ca_pem: self.services.api.ca_pem.clone(),
            user: user.clone(),
            token: token.clone(),
        };
        let mut config = crate::kubeconfig::client_config(&entry).await.map_err(|e| e.to_string())?;
        config.default_namespace = namespace.to_string();
        Ok(ApiAccess::new(config, token, user))
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

/// What a container task reports, for one instance (restart) of the container.
enum ContainerEvent {
    Started { index: usize, instance: u64, at: String, id: String },
    Exited { index: usize, instance: u64, code: i32, message: Option<String> },
}

/// What a container runs.
#[derive(Clone)]
enum Run {
    /// The shell interpreter (or its refusal, which ends the container with 127).
    Shell(Result<Program, String>),
    /// A registered binary, with the pod's API credentials.
    Binary(Arc<dyn Binary>, Box<ApiAccess>),
}

/// A container ready to run.
#[derive(Clone)]
struct Prepared {
    name: String,
    run: Run,
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    fs: PodFs,
    /// `terminationMessagePath`: what a binary leaves there is its terminated state's `message`.
    message_path: String,
}

/// A running instance of a container.
struct Task {
    abort: AbortHandle,
    instance: u64,
    /// SIGTERM for binaries (shells have none: they are killed at once).
    terminate: Option<CancellationToken>,
    /// When a SIGTERMed binary is killed if it is still running.
    kill_at: Option<Instant>,
}

/// One container of a run: what it runs and its current instance, if running.
struct Slot {
    prepared: Prepared,
    task: Option<Task>,
}

struct Worker {
    node: Arc<Node>,
    pod: Arc<Value>,
    info: PodInfo,
    namespace: String,
    name: String,
    uid: String,
    status: PodStatus,
    signal: watch::Receiver<Signal>,
    container_signals: mpsc::UnboundedReceiver<String>,
    fs: PodFs,
    api: Option<ApiAccess>,
    instances: u64,
    /// When the kubelet took the pod on (`status.startTime`): `activeDeadlineSeconds` counts from it.
    started: Instant,
    /// The pod's `spec.activeDeadlineSeconds` as it is now: an update (a cancel lowers it to stop
    /// the pod and keep it) takes effect at once, as on a real node.
    deadline_secs: watch::Receiver<Option<i64>>,
    restart_policy: String,
}

/// Resolves once the pod has been active longer than its `activeDeadlineSeconds` — the value it
/// has now or any later one (an update re-arms the wait). Counted on the node's clock; at time
/// scale 0, where simulated time does not pass, in real seconds (so a deadline lowered to stop a
/// running pod still fires).
async fn deadline_passed(secs: &mut watch::Receiver<Option<i64>>, started: Instant, node: &Node) {
    loop {
        let current = *secs.borrow_and_update();
        let at = current.map(|s| {
            let d = if node.config.time_scale > 0.0 {
                node.scaled(s as f64).unwrap_or(Duration::MAX)
            } else {
                Duration::from_secs(s.max(0) as u64)
            };
            started.checked_add(d)
        });
        tokio::select! {
            () = async {
                match at {
                    Some(Some(at)) => tokio::time::sleep_until(at).await,
                    _ => std::future::pending().await,
                }
            } => return,
            changed = secs.changed() => {
                if changed.is_err() {
                    // The dispatcher is gone with the pod: only the current value counts now.
                    match at {
                        Some(Some(at)) => return tokio::time::sleep_until(at).await,
                        _ => return std::future::pending().await,
                    }
                }
            }
        }
    }
}

fn container_specs(pod: &Value, list: &str) -> Vec<Value> {
    pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn container_id() -> String {
    format!("containerd://{}", uuid::Uuid::new_v4().simple())
}

/// Runs one pod to its end. Returns when the pod is terminal, deleted or gone.
pub async fn run_pod(
    node: Arc<Node>,
    pod: Arc<Value>,
    signal: watch::Receiver<Signal>,
    deadline_secs: watch::Receiver<Option<i64>>,
) {
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
    let string_map = |p: &str| -> BTreeMap<String, String> {
        pod.pointer(p)
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default()
    };
    let service_account = Some(s("/spec/serviceAccountName")).filter(|a| !a.is_empty()).unwrap_or("default".into());
    let info = PodInfo {
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name"),
        uid: s("/metadata/uid"),
        service_account,
        node_name: node.config.node_name.clone(),
        ip: status.pod_ip.clone(),
        labels: string_map("/metadata/labels"),
        annotations: string_map("/metadata/annotations"),
    };
    let (signals, container_signals) = mpsc::unbounded_channel();
    node.controls().insert(
        info.uid.clone(),
        PodControl { namespace: info.namespace.clone(), name: info.name.clone(), signals, running: HashSet::new() },
    );
    let mut worker = Worker {
        namespace: info.namespace.clone(),
        name: info.name.clone(),
        uid: info.uid.clone(),
        info,
        restart_policy: s("/spec/restartPolicy"),
        node,
        pod,
        status,
        signal,
        container_signals,
        fs: PodFs::new(),
        api: None,
        instances: 0,
        started: Instant::now(),
        deadline_secs,
    };
    let end = worker.live().await;
    worker.node.controls().remove(&worker.uid);
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
        let deadline = deadline_passed(&mut self.deadline_secs, self.started, &self.node);
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
                .and_then(|mounts| setup::environment(&self.node.store, &self.pod, spec).map(|env| (mounts, env)));
            match resolved {
                Ok((mounts, env)) => {
                    let argv = setup::argv(spec, &env);
                    let binary = argv.first().and_then(|a| self.node.binaries().resolve(a));
                    let run = match binary {
                        Some(binary) => match self.api_access().await {
                            Ok(api) => Run::Binary(binary, Box::new(api)),
                            Err(e) => Run::Shell(Err(format!(
                                "tlc simulated kubelet: cannot give container {name} its service account's API credentials: {e}"
                            ))),
                        },
                        None => Run::Shell(Program::from_argv(&argv).map_err(|u| u.to_string())),
                    };
                    let message_path =
                        spec["terminationMessagePath"].as_str().unwrap_or("/dev/termination-log").to_string();
                    return Ok(Prepared { name, run, argv, env, fs: self.fs.with_mounts(mounts), message_path });
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

    /// The pod's API credentials (built once per pod, when its first binary starts).
    async fn api_access(&mut self) -> Result<ApiAccess, String> {
        if let Some(api) = &self.api {
            return Ok(api.clone());
        }
        let api = self.node.api_access(&self.info.namespace, &self.info.service_account).await?;
        self.api = Some(api.clone());
        Ok(api)
    }

    fn spawn_container(
        &mut self,
        index: usize,
        prepared: &Prepared,
        tx: mpsc::UnboundedSender<ContainerEvent>,
    ) -> Task {
        self.instances += 1;
        let instance = self.instances;
        let node = self.node.clone();
        let uid = self.uid.clone();
        let prepared = prepared.clone();
        let terminate = matches!(prepared.run, Run::Binary(..)).then(CancellationToken::new);
        let token = terminate.clone().unwrap_or_default();
        let info = self.info.clone();
        let abort = tokio::spawn(async move {
            let log = node.logs.start(&uid, &prepared.name);
            let id = container_id();
            let _ = tx.send(ContainerEvent::Started { index, instance, at: now_rfc3339(), id });
            let output = Output::new(log.clone());
            let clock = node.clock();
            let (code, message) = match prepared.run {
                Run::Shell(Ok(program)) => {
                    let mut vars: Vars = prepared.env.into_iter().collect();
                    let mut host = ShellHost { output, fs: prepared.fs, clock };
                    (program.run(&mut vars, &mut host).await, None)
                }
                Run::Shell(Err(unsupported)) => {
                    output.write(format!("{unsupported}\n").as_bytes());
                    (127, Some(unsupported))
                }
                Run::Binary(binary, api) => {
                    let fs = prepared.fs.clone();
                    let launch = Launch {
                        argv: prepared.argv,
                        env: prepared.env,
                        pod: info,
                        container: prepared.name,
                        fs: prepared.fs,
                        output,
                        terminate: token,
                        api: *api,
                        clock,
                        binaries: node.binaries().clone(),
                    };
                    let code = run_binary(binary, launch.into_invocation()).await;
                    // As a real kubelet: the termination message file (at most 4096 bytes).
                    let message = fs.read(&prepared.message_path).ok().filter(|m| !m.is_empty()).map(|m| {
                        let m = &m[..m.len().min(4096)];
                        String::from_utf8_lossy(m).into_owned()
                    });
                    (code, message)
                }
            };
            log.close();
            let _ = tx.send(ContainerEvent::Exited { index, instance, code, message });
        })
        .abort_handle();
        Task { abort, instance, terminate, kill_at: None }
    }

    /// The pod's `terminationGracePeriodSeconds` on the node's clock.
    fn termination_grace(&self) -> Duration {
        let secs = self.pod.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30);
        self.node.grace(secs)
    }

    /// The grace period of the pod's deletion (`deletionGracePeriodSeconds`) on the node's clock.
    fn deletion_grace(&self) -> Duration {
        let current = self.node.store.get(Resource::Pods, &self.namespace, &self.name).ok();
        let secs = current
            .as_ref()
            .and_then(|p| p.pointer("/metadata/deletionGracePeriodSeconds"))
            .and_then(Value::as_i64)
            .or_else(|| self.pod.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64))
            .unwrap_or(30);
        self.node.grace(secs)
    }

    /// Ends a container instance at once (SIGKILL): its task stops and its log closes. Returns the
    /// exit the kubelet records for it.
    fn kill_task(&self, index: usize, slot: &Slot) -> Option<ContainerEvent> {
        let task = slot.task.as_ref()?;
        task.abort.abort();
        if let Some(log) = self.node.logs.current(&self.uid, &slot.prepared.name) {
            log.close();
        }
        Some(ContainerEvent::Exited { index, instance: task.instance, code: SIGKILL_EXIT, message: None })
    }

    /// SIGTERM to one container by name: a binary's `terminate` is cancelled and a kill is
    /// scheduled after the grace period; a shell (PID 1 of its container, like busybox `sh`, which
    /// ignores SIGTERM — a real kubelet would wait out the grace period) ends at once.
    fn sigterm(&mut self, slots: &mut BTreeMap<usize, Slot>, container: &str) -> Option<ContainerEvent> {
        let grace = self.termination_grace();
        let (index, slot) = slots.iter_mut().find(|(_, s)| s.prepared.name == container && s.task.is_some())?;
        let index = *index;
        let task = slot.task.as_mut()?;
        match &task.terminate {
            Some(token) => {
                if !token.is_cancelled() {
                    token.cancel();
                    task.kill_at = Some(Instant::now() + grace);
                }
                None
            }
            None => self.kill_task(index, slot),
        }
    }

    /// Records a container instance's exit; `false` when the event is stale (an instance that was
    /// already recorded as ended).
    fn record_exit(
        &mut self,
        slots: &mut BTreeMap<usize, Slot>,
        init: bool,
        index: usize,
        instance: u64,
        code: i32,
        message: Option<String>,
    ) -> bool {
        let Some(slot) = slots.get_mut(&index) else { return false };
        if slot.task.as_ref().is_none_or(|t| t.instance != instance) {
            return false;
        }
        slot.task = None;
        self.node.set_running(&self.uid, &slot.prepared.name, false);
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
        true
    }

    /// Runs containers side by side (restarting them per the restart policy) until none will run
    /// again; returns their final exit codes.
    async fn run_containers(&mut self, prepared: Vec<(usize, Prepared)>, init: bool) -> Result<Vec<i32>, Interrupt> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut slots: BTreeMap<usize, Slot> = BTreeMap::new();
        let mut codes: BTreeMap<usize, i32> = BTreeMap::new();
        let mut restarts_due: BTreeMap<usize, Instant> = BTreeMap::new();
        for (index, p) in prepared {
            let task = self.spawn_container(index, &p, tx.clone());
            slots.insert(index, Slot { prepared: p, task: Some(task) });
        }
        let total = slots.len();
        loop {
            if codes.len() == total && restarts_due.is_empty() {
                return Ok(codes.into_values().collect());
            }
            let next_restart = restarts_due.iter().min_by_key(|(_, at)| **at).map(|(i, at)| (*i, *at));
            let next_kill = slots
                .iter()
                .filter_map(|(i, s)| s.task.as_ref().and_then(|t| t.kill_at).map(|at| (*i, at)))
                .min_by_key(|(_, at)| *at);
            let event = tokio::select! {
                ev = rx.recv() => ev,
                _ = self.signal.changed() => {
                    let i = self.signalled().unwrap_or(Interrupt::Gone);
                    self.stop_all(&mut slots, &mut rx, init, i).await;
                    return Err(i);
                }
                () = deadline_passed(&mut self.deadline_secs, self.started, &self.node) => {
                    self.stop_all(&mut slots, &mut rx, init, Interrupt::Deadline).await;
                    return Err(Interrupt::Deadline);
                }
                _ = async { match next_restart { Some((_, at)) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                    if let Some((index, _)) = next_restart {
                        restarts_due.remove(&index);
                        // Running again: no final exit code until it stops for good.
                        codes.remove(&index);
                        if let Some(p) = slots.get(&index).map(|s| s.prepared.clone()) {
                            let task = self.spawn_container(index, &p, tx.clone());
                            if let Some(slot) = slots.get_mut(&index) {
                                slot.task = Some(task);
                            }
                        }
                    }
                    continue;
                }
                _ = async { match next_kill { Some((_, at)) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                    match next_kill.and_then(|(index, _)| slots.get(&index).and_then(|s| self.kill_task(index, s))) {
                        Some(ev) => Some(ev),
                        None => continue,
                    }
                }
                Some(container) = self.container_signals.recv() => {
                    match self.sigterm(&mut slots, &container) {
                        Some(ev) => Some(ev),
                        None => continue,
                    }
                }
            };
            let Some(event) = event else { return Err(Interrupt::Gone) };
            match event {
                ContainerEvent::Started { index, instance, at, id } => {
                    let current =
                        slots.get(&index).and_then(|s| s.task.as_ref()).is_some_and(|t| t.instance == instance);
                    if !current {
                        continue;
                    }
                    let name = self.statuses(init)[index].name.clone();
                    let image = self.statuses(init)[index].image.clone();
                    self.statuses(init)[index].started(at, id);
                    self.node.set_running(&self.uid, &name, true);
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
                        self.abort_all(&mut slots, init);
                        return Err(Interrupt::Gone);
                    }
                }
                ContainerEvent::Exited { index, instance, code, message } => {
                    if !self.record_exit(&mut slots, init, index, instance, code, message) {
                        continue;
                    }
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
                        self.abort_all(&mut slots, init);
                        return Err(Interrupt::Gone);
                    }
                }
            }
        }
    }

    /// Kills every running container at once (the pod is gone).
    fn abort_all(&mut self, slots: &mut BTreeMap<usize, Slot>, init: bool) {
        let exits: Vec<ContainerEvent> = slots.iter().filter_map(|(i, s)| self.kill_task(*i, s)).collect();
        for ev in exits {
            if let ContainerEvent::Exited { index, instance, code, message } = ev {
                self.record_exit(slots, init, index, instance, code, message);
            }
        }
    }

    /// Stops every running container because the pod is being deleted (`Killing` events), has hit
    /// its deadline, or is gone: shells end at once; binaries get SIGTERM and the grace period,
    /// then are killed. Restarts due are dropped. Every container's end is recorded.
    async fn stop_all(
        &mut self,
        slots: &mut BTreeMap<usize, Slot>,
        rx: &mut mpsc::UnboundedReceiver<ContainerEvent>,
        init: bool,
        why: Interrupt,
    ) {
        let grace = match why {
            Interrupt::Delete => self.deletion_grace(),
            Interrupt::Deadline => self.termination_grace(),
            Interrupt::Gone => Duration::ZERO,
        };
        let grace_end = Instant::now() + grace;
        let mut killed = Vec::new();
        for (index, slot) in slots.iter_mut() {
            let Some(task) = slot.task.as_mut() else { continue };
            if why == Interrupt::Delete && matches!(self.status_of(init, *index), Some(State::Running { .. })) {
                let name = slot.prepared.name.clone();
                self.event(Some(&name), Severity::Normal, "Killing", &format!("Stopping container {name}"));
            }
            match &task.terminate {
                Some(token) if !grace.is_zero() => {
                    token.cancel();
                    task.kill_at = Some(grace_end);
                }
                _ => killed.extend(self.kill_task(*index, slot)),
            }
        }
        for ev in killed {
            if let ContainerEvent::Exited { index, instance, code, message } = ev {
                self.record_exit(slots, init, index, instance, code, message);
            }
        }
        while slots.values().any(|s| s.task.is_some()) {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(ContainerEvent::Exited { index, instance, code, message }) => {
                        self.record_exit(slots, init, index, instance, code, message);
                    }
                    Some(ContainerEvent::Started { .. }) => {}
                    None => break,
                },
                _ = tokio::time::sleep_until(grace_end) => break,
                changed = self.signal.changed() => {
                    if changed.is_err() || self.signalled() == Some(Interrupt::Gone) {
                        break;
                    }
                }
            }
        }
        self.abort_all(slots, init);
    }

    fn status_of(&mut self, init: bool, index: usize) -> Option<State> {
        self.statuses(init).get(index).map(|c| c.state.clone())
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
