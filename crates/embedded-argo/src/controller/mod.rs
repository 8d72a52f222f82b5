//! The controller: follows the cluster store's change history like the kubelet does (subscribe,
//! `changes_since`, resync when it falls behind), keeps informer-like caches of each workflow's
//! pods and task results, and operates each workflow in turn — at most once per
//! [`ControllerConfig::min_operate_interval`] however many of its pods changed, as Argo's work
//! queue coalesces events — plus the requeues an operation asks for (deadlines, TTL) and the pod
//! deletions pod GC delays.

pub mod operate;
mod pods;
mod steps;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use embedded_cluster::EmbeddedCluster;
use embedded_cluster::store::history::ChangeKind;
use embedded_cluster::store::resource::Resource;
use embedded_cluster::store::{DeleteOptions, ListQuery, Store};
use operate::keys;

/// How the controller behaves.
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// The shortest time between two operations of the same workflow (Argo's requeue coalescing):
    /// pod events in between are handled by the next operation.
    pub min_operate_interval: Duration,
    /// Above this many bytes of workflow JSON, nodes are written compressed (`MAX_WORKFLOW_SIZE`).
    pub max_workflow_size: usize,
    /// Multiplies the controller's durations (workflow deadline, pod GC delay, TTL) like the
    /// kubelet's: 1.0 real time, 0 instant (and, as for pods, no workflow deadline ever fires).
    /// `None`: the cluster's time scale.
    pub time_scale: Option<f64>,
    /// The image of the `wait` container.
    pub executor_image: String,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            min_operate_interval: Duration::from_millis(50),
            max_workflow_size: crate::packer::DEFAULT_MAX_WORKFLOW_SIZE,
            time_scale: None,
            executor_image: "quay.io/argoproj/argoexec:v4.1.0".into(),
        }
    }
}

impl ControllerConfig {
    /// The same settings with another time scale.
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.time_scale = Some(scale);
        self
    }

    /// The same settings with another size limit for uncompressed nodes.
    pub fn with_max_workflow_size(mut self, bytes: usize) -> Self {
        self.max_workflow_size = bytes;
        self
    }
}

/// Sends SIGTERM to one container (namespace, pod, container).
pub type Signaller = Arc<dyn Fn(&str, &str, &str) + Send + Sync>;

/// The configuration plus what the controller was given by the cluster.
pub(crate) struct Settings {
    pub min_operate_interval: Duration,
    pub max_workflow_size: usize,
    pub time_scale: f64,
    pub executor_image: String,
    pub signal: Signaller,
}

/// Counters the benchmarks read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControllerStats {
    /// Operations run.
    pub operations: u64,
    /// Status writes made.
    pub status_writes: u64,
    /// Total time spent operating, in microseconds.
    pub operate_micros: u64,
    /// The JSON size of the nodes last written.
    pub last_nodes_bytes: u64,
    /// Whether the last write was compressed.
    pub last_compressed: bool,
}

#[derive(Default)]
struct Stats {
    operations: AtomicU64,
    status_writes: AtomicU64,
    operate_micros: AtomicU64,
    last: Mutex<(u64, bool)>,
}

/// A running controller; dropping it stops it.
pub struct Controller {
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl Controller {
    /// Starts the controller against a running cluster, with `argoexec` registered on it (so the
    /// pods it creates run the executor emulation). Must be called within a Tokio runtime.
    pub fn start(cluster: &EmbeddedCluster, config: ControllerConfig) -> Controller {
        cluster.install_binary("argoexec", crate::executor::argoexec());
        let node = cluster.node().cloned();
        let time_scale = config.time_scale.unwrap_or_else(|| node.as_ref().map_or(1.0, |n| n.config.time_scale));
        let signal: Signaller = Arc::new(move |ns: &str, pod: &str, container: &str| {
            if let Some(node) = &node {
                // A container that is not running any more needs no signal.
                let _ = node.signal_container(ns, pod, container);
            }
        });
        Self::start_with(cluster.store().clone(), config, time_scale, signal)
    }

    fn start_with(store: Arc<Store>, config: ControllerConfig, time_scale: f64, signal: Signaller) -> Controller {
        let settings = Arc::new(Settings {
            min_operate_interval: config.min_operate_interval,
            max_workflow_size: config.max_workflow_size,
            time_scale,
            executor_image: config.executor_image,
            signal,
        });
        let shutdown = CancellationToken::new();
        let stats = Arc::new(Stats::default());
        let worker = Loop {
            store,
            settings,
            pods: HashMap::new(),
            task_results: HashMap::new(),
            due: HashMap::new(),
            last_operated: HashMap::new(),
            started: HashMap::new(),
            own_writes: HashSet::new(),
            deletions: BTreeMap::new(),
            pending_deletions: HashSet::new(),
            stats: stats.clone(),
        };
        let task = tokio::spawn(worker.run(shutdown.clone()));
        Controller { shutdown, task: Some(task), stats }
    }

    /// What the controller did so far.
    pub fn stats(&self) -> ControllerStats {
        let last = *self.stats.last.lock().unwrap_or_else(PoisonError::into_inner);
        ControllerStats {
            operations: self.stats.operations.load(Ordering::Relaxed),
            status_writes: self.stats.status_writes.load(Ordering::Relaxed),
            operate_micros: self.stats.operate_micros.load(Ordering::Relaxed),
            last_nodes_bytes: last.0,
            last_compressed: last.1,
        }
    }

    /// Stops the controller and waits for its loop to end.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

type Key = (String, String);

struct Loop {
    store: Arc<Store>,
    settings: Arc<Settings>,
    pods: HashMap<Key, HashMap<String, Arc<Value>>>,
    task_results: HashMap<Key, HashMap<String, Arc<Value>>>,
    due: HashMap<Key, Instant>,
    last_operated: HashMap<Key, Instant>,
    started: HashMap<Key, jiff::Timestamp>,
    own_writes: HashSet<u64>,
    deletions: BTreeMap<Instant, Vec<(String, String)>>,
    pending_deletions: HashSet<(String, String)>,
    stats: Arc<Stats>,
}

fn meta<'v>(object: &'v Value, field: &str) -> &'v str {
    object.get("metadata").and_then(|m| m.get(field)).and_then(Value::as_str).unwrap_or_default()
}

fn label<'v>(object: &'v Value, key: &str) -> Option<&'v str> {
    object.pointer("/metadata/labels").and_then(|l| l.get(key)).and_then(Value::as_str)
}

impl Loop {
    async fn run(mut self, shutdown: CancellationToken) {
        let mut revisions = self.store.subscribe();
        revisions.borrow_and_update();
        let mut cursor = self.resync();
        loop {
            cursor = self.drain(cursor);
            self.run_deletions();
            let now = Instant::now();
            let next = self.due.iter().filter(|(_, at)| **at <= now).min_by_key(|(_, at)| **at).map(|(k, _)| k.clone());
            if let Some(key) = next {
                self.due.remove(&key);
                if self.operate(key).await.is_err() {
                    break;
                }
                continue;
            }
            let wake = self.due.values().chain(self.deletions.keys()).min().copied();
            tokio::select! {
                _ = shutdown.cancelled() => break,
                changed = revisions.changed() => if changed.is_err() { break },
                _ = async { match wake { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {}
            }
        }
    }

    /// Applies the store's changes since `cursor` to the caches and the queue.
    fn drain(&mut self, mut cursor: u64) -> u64 {
        loop {
            match self.store.changes_since(cursor, 4096) {
                Err(_) => cursor = self.resync(),
                Ok(changes) => {
                    let Some(last) = changes.last() else { return cursor };
                    cursor = last.revision;
                    for change in changes {
                        self.observe(change.resource, change.kind, change.revision, &change.object);
                    }
                }
            }
        }
    }

    fn observe(&mut self, resource: Resource, kind: ChangeKind, revision: u64, object: &Arc<Value>) {
        let ns = meta(object, "namespace").to_string();
        match resource {
            Resource::Workflows => {
                let key = (ns, meta(object, "name").to_string());
                if kind == ChangeKind::Deleted {
                    self.forget(&key);
                    return;
                }
                if self.own_writes.remove(&revision) {
                    return;
                }
                self.enqueue(key);
            }
            Resource::Pods | Resource::WorkflowTaskResults => {
                let Some(wf) = label(object, keys::WORKFLOW) else { return };
                let key = (ns, wf.to_string());
                let name = meta(object, "name").to_string();
                let cache = if resource == Resource::Pods { &mut self.pods } else { &mut self.task_results };
                let gone = kind == ChangeKind::Deleted
                    || (resource == Resource::Pods && label(object, keys::COMPLETED) == Some("true"));
                let entry = cache.entry(key.clone()).or_default();
                let changed = if gone {
                    entry.remove(&name).is_some()
                } else {
                    entry.insert(name, object.clone());
                    true
                };
                if changed {
                    self.enqueue(key);
                }
            }
            _ => {}
        }
    }

    fn forget(&mut self, key: &Key) {
        self.pods.remove(key);
        self.task_results.remove(key);
        self.due.remove(key);
        self.last_operated.remove(key);
        self.started.remove(key);
    }

    /// Operates `key` as soon as the coalescing interval allows.
    fn enqueue(&mut self, key: Key) {
        let now = Instant::now();
        let earliest = self.last_operated.get(&key).map_or(now, |t| (*t + self.settings.min_operate_interval).max(now));
        self.schedule(key, earliest);
    }

    fn schedule(&mut self, key: Key, at: Instant) {
        let entry = self.due.entry(key).or_insert(at);
        if at < *entry {
            *entry = at;
        }
    }

    /// Rebuilds the caches from full lists (at start and after falling behind the history).
    fn resync(&mut self) -> u64 {
        let revision = self.store.revision();
        self.pods.clear();
        self.task_results.clear();
        for resource in [Resource::Pods, Resource::WorkflowTaskResults, Resource::Workflows] {
            let Ok(page) = self.store.list(resource, &ListQuery::default()) else { continue };
            for object in &page.items {
                self.observe(resource, ChangeKind::Added, 0, object);
            }
        }
        revision
    }

    async fn operate(&mut self, key: Key) -> Result<(), ()> {
        let Ok(workflow) = self.store.get(Resource::Workflows, &key.0, &key.1) else {
            self.forget(&key);
            return Ok(());
        };
        let pods: Vec<Arc<Value>> = self.pods.get(&key).map(|m| m.values().cloned().collect()).unwrap_or_default();
        let task_results: Vec<Arc<Value>> =
            self.task_results.get(&key).map(|m| m.values().cloned().collect()).unwrap_or_default();
        let store = self.store.clone();
        let settings = self.settings.clone();
        let started = std::time::Instant::now();
        // A client-side retry resets startedAt: the remembered start only holds while it is the same.
        let started_at = self.started.get(&key).copied().filter(|t| {
            let status = workflow.pointer("/status/startedAt").and_then(Value::as_str).unwrap_or_default();
            crate::naming::rfc3339(*t) == status
        });
        let outcome = tokio::task::spawn_blocking(move || {
            operate::operate(operate::Snapshot {
                store: &store,
                config: &settings,
                workflow,
                pods,
                task_results,
                started_at,
            })
        })
        .await
        .map_err(|_| ())?;
        let now = Instant::now();
        self.last_operated.insert(key.clone(), now);
        self.stats.operations.fetch_add(1, Ordering::Relaxed);
        self.stats.operate_micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        if let Some(rev) = outcome.written_revision {
            self.own_writes.insert(rev);
            self.stats.status_writes.fetch_add(1, Ordering::Relaxed);
        }
        if let Some((bytes, compressed)) = outcome.nodes_bytes {
            *self.stats.last.lock().unwrap_or_else(PoisonError::into_inner) = (bytes as u64, compressed);
        }
        if outcome.deleted {
            self.forget(&key);
            return Ok(());
        }
        if let Some(t) = outcome.started_at {
            self.started.insert(key.clone(), t);
        }
        if outcome.conflicted {
            self.enqueue(key.clone());
        }
        if let Some(after) = outcome.requeue_after {
            let at = now + after.max(Duration::from_millis(1));
            self.schedule(key.clone(), at.max(now + self.settings.min_operate_interval.min(after)));
        }
        for (delay, ns, name) in outcome.delete_pods_after {
            let id = (ns, name);
            if self.pending_deletions.insert(id.clone()) {
                self.deletions.entry(now + delay).or_default().push(id);
            }
        }
        Ok(())
    }

    fn run_deletions(&mut self) {
        let now = Instant::now();
        let due: Vec<Instant> = self.deletions.range(..=now).map(|(at, _)| *at).collect();
        for at in due {
            for (ns, name) in self.deletions.remove(&at).unwrap_or_default() {
                self.pending_deletions.remove(&(ns.clone(), name.clone()));
                let _ = self.store.delete(Resource::Pods, &ns, &name, &DeleteOptions::default());
            }
        }
    }
}
