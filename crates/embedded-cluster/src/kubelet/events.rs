//! Kubernetes Events the scheduler and kubelet record about a pod (`Scheduled`, `Pulled`,
//! `Created`, `Started`, `Killing`, `FailedMount`, `BackOff`, …), so `kubectl describe` and the
//! console show the same story a real cluster tells.

use serde_json::{Value, json};

use crate::store::Store;
use crate::store::resource::Resource;
use kube_grammar::time::now_rfc3339;

/// `Normal` or `Warning`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Routine.
    Normal,
    /// Something needs attention.
    Warning,
}

/// Who records events and on which node.
#[derive(Clone, Debug)]
pub struct Recorder {
    /// The node name (the `source.host`).
    pub node: String,
    /// Whether events are recorded at all (benchmarks switch them off).
    pub enabled: bool,
}

impl Recorder {
    /// Records an event about `pod` (and, with `container`, about one of its containers).
    pub fn record(
        &self,
        store: &Store,
        pod: &Value,
        container: Option<&str>,
        severity: Severity,
        reason: &str,
        message: &str,
    ) {
        if !self.enabled {
            return;
        }
        let meta = |k: &str| pod.pointer(&format!("/metadata/{k}")).cloned().unwrap_or(Value::Null);
        let name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let component = if reason == "Scheduled" { "default-scheduler" } else { "kubelet" };
        let now = now_rfc3339();
        let mut involved = json!({
            "kind": "Pod",
            "namespace": meta("namespace"),
            "name": name,
            "uid": meta("uid"),
            "apiVersion": "v1",
            "resourceVersion": meta("resourceVersion"),
        });
        if let Some(c) = container {
            involved["fieldPath"] = json!(format!("spec.containers{{{c}}}"));
        }
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{name}.{}", &suffix[..16]), "namespace": meta("namespace")},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": {"component": component, "host": self.node},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": match severity { Severity::Normal => "Normal", Severity::Warning => "Warning" },
            "reportingComponent": component,
            "reportingInstance": self.node,
        });
        // An event that cannot be stored (its namespace is going away) is simply not recorded.
        let _ = store.create(Resource::Events, event);
    }
}
