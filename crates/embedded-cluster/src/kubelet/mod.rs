//! The simulated kubelet: binds every new pod to the virtual node and runs it — never anything on
//! the host: containers are interpreted (see the `sim-shell` crate) or run a registered binary in
//! process (see [`binaries`]), and their output becomes the pod's log.

pub mod binaries;
pub mod events;
pub mod pod;
pub mod podfs;
pub mod setup;
pub mod status;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::store::history::ChangeKind;
use crate::store::resource::Resource;
use crate::store::{ListQuery, is_deleting};
pub use binaries::{ApiAccess, Binaries, Binary, Clock, Invocation, Output, PodInfo};
pub use pod::{ApiEndpoint, KubeletConfig, Node, NodeServices, Signal, SignalError};
pub use podfs::{FsError, FsErrorKind, PodFs};

fn is_terminal(pod: &Value) -> bool {
    matches!(pod.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed"))
}

fn uid_of(pod: &Value) -> String {
    pod.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default().to_string()
}

/// What the dispatcher tells a pod's worker: deletion, and the pod's current deadline.
struct WorkerHandle {
    signal: watch::Sender<Signal>,
    deadline_secs: watch::Sender<Option<i64>>,
}

fn deadline_of(pod: &Value) -> Option<i64> {
    pod.pointer("/spec/activeDeadlineSeconds").and_then(Value::as_i64)
}

struct Dispatcher {
    node: Arc<Node>,
    workers: HashMap<String, WorkerHandle>,
}

impl Dispatcher {
    fn observe(&mut self, kind: ChangeKind, pod: &Arc<Value>) {
        let uid = uid_of(pod);
        if kind == ChangeKind::Deleted {
            if let Some(w) = self.workers.remove(&uid) {
                w.signal.send_replace(Signal::Gone);
            }
            self.node.logs.forget_pod(&uid);
            return;
        }
        if let Some(w) = self.workers.get(&uid) {
            if is_deleting(pod) && *w.signal.borrow() == Signal::Live {
                w.signal.send_replace(Signal::Delete);
            }
            let secs = deadline_of(pod);
            w.deadline_secs.send_if_modified(|current| std::mem::replace(current, secs) != secs);
            return;
        }
        let node_name = pod.pointer("/spec/nodeName").and_then(Value::as_str);
        let ours = node_name.is_none_or(|n| n == self.node.config.node_name);
        if !ours || is_terminal(pod) || is_deleting(pod) {
            return;
        }
        let (signal, rx) = watch::channel(Signal::Live);
        let (deadline_secs, deadline_rx) = watch::channel(deadline_of(pod));
        self.workers.insert(uid, WorkerHandle { signal, deadline_secs });
        tokio::spawn(pod::run_pod(self.node.clone(), pod.clone(), rx, deadline_rx));
    }

    /// Reconciles with a full list (at start, and after falling behind the store's history).
    fn resync(&mut self) -> u64 {
        let Ok(page) = self.node.store.list(Resource::Pods, &ListQuery::default()) else {
            return self.node.store.revision();
        };
        let present: std::collections::HashSet<String> = page.items.iter().map(|p| uid_of(p)).collect();
        let gone: Vec<String> = self.workers.keys().filter(|u| !present.contains(*u)).cloned().collect();
        for uid in gone {
            if let Some(w) = self.workers.remove(&uid) {
                w.signal.send_replace(Signal::Gone);
            }
            self.node.logs.forget_pod(&uid);
        }
        for pod in &page.items {
            self.observe(ChangeKind::Modified, pod);
        }
        page.revision
    }
}

/// Runs the kubelet until `shutdown`: follows the store's pod changes and starts a worker per pod.
pub async fn run(node: Arc<Node>, shutdown: CancellationToken) {
    let mut dispatcher = Dispatcher { node: node.clone(), workers: HashMap::new() };
    let mut revisions = node.store.subscribe();
    revisions.borrow_and_update();
    let mut cursor = dispatcher.resync();
    loop {
        loop {
            revisions.borrow_and_update();
            match node.store.changes_since(cursor, 1024) {
                Err(_) => cursor = dispatcher.resync(),
                Ok(changes) => {
                    let Some(last) = changes.last() else { break };
                    cursor = last.revision;
                    for change in changes.iter().filter(|c| c.resource == Resource::Pods) {
                        dispatcher.observe(change.kind, &change.object);
                    }
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            changed = revisions.changed() => if changed.is_err() { break },
        }
    }
    for w in dispatcher.workers.values() {
        w.signal.send_replace(Signal::Gone);
    }
}
