//! A workflow node as Argo writes it into `status.nodes` (`NodeStatus` in
//! `pkg/apis/workflow/v1alpha1/workflow_types.go`): the same field names, the same omissions
//! (`omitempty`), `finishedAt: null` while a node runs, and the phase predicates the controller
//! decides with.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A node's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum NodePhase {
    /// Not yet decided (never written).
    #[default]
    #[serde(rename = "")]
    Unknown,
    /// Waiting to run.
    Pending,
    /// Running.
    Running,
    /// Finished without errors.
    Succeeded,
    /// Skipped (an empty `withParam`, a false `when`).
    Skipped,
    /// A child exited non-zero.
    Failed,
    /// Something other than an exit code went wrong.
    Error,
    /// Omitted (DAG `depends`; never produced here).
    Omitted,
}

impl NodePhase {
    /// Failed or Error.
    pub fn failed_or_error(self) -> bool {
        matches!(self, NodePhase::Failed | NodePhase::Error)
    }

    /// Succeeded, Failed or Error.
    pub fn completed(self) -> bool {
        self.failed_or_error() || self == NodePhase::Succeeded
    }

    /// Completed, skipped or omitted: nothing more will happen to it.
    pub fn fulfilled(self) -> bool {
        self.completed() || matches!(self, NodePhase::Skipped | NodePhase::Omitted)
    }

    /// The phase's name as written in status.
    pub fn as_str(self) -> &'static str {
        match self {
            NodePhase::Unknown => "",
            NodePhase::Pending => "Pending",
            NodePhase::Running => "Running",
            NodePhase::Succeeded => "Succeeded",
            NodePhase::Skipped => "Skipped",
            NodePhase::Failed => "Failed",
            NodePhase::Error => "Error",
            NodePhase::Omitted => "Omitted",
        }
    }
}

/// A node's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeType {
    /// One pod.
    Pod,
    /// A container of a container set (never produced here).
    Container,
    /// A `steps` template invocation.
    Steps,
    /// One group of parallel steps.
    StepGroup,
    /// A DAG template invocation (never produced here).
    #[serde(rename = "DAG")]
    Dag,
    /// A DAG task group (never produced here).
    TaskGroup,
    /// The parent of a retried template's attempts.
    Retry,
    /// A step that did not run.
    Skipped,
    /// A suspend template (never produced here).
    Suspend,
    /// An HTTP template (never produced here).
    #[serde(rename = "HTTP")]
    Http,
    /// A plugin template (never produced here).
    Plugin,
}

/// `nodeFlag`: what happened to a node (`retried` for every attempt of a Retry node).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeFlag {
    /// Part of a lifecycle hook.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hooked: bool,
    /// An attempt of a Retry node.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retried: bool,
}

fn any_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    // `AnyString`: a JSON string, number or boolean, kept as text.
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// A parameter (`wfv1.Parameter`) as it appears in node inputs and outputs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    /// Its name.
    pub name: String,
    /// A default used when no value is supplied.
    #[serde(default, deserialize_with = "any_string", skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The value.
    #[serde(default, deserialize_with = "any_string", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where the value comes from (outputs: `path`, `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<Value>,
    /// Exported to the workflow's outputs under this name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub global_name: String,
    /// The allowed values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#enum: Option<Vec<Value>>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `inputs` of a node: the parameters its template received.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    /// Input parameters with their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
}

/// `outputs` of a node: output parameters (from the executor) and the main container's exit code.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    /// Output parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// Artifacts (reported by executors of other templates; never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Value>,
    /// A script's standard output (never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// `main`'s exit code, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<String>,
}

impl Outputs {
    /// Whether there is anything in it (`Outputs.HasOutputs`).
    pub fn has_outputs(&self) -> bool {
        !self.parameters.is_empty() || self.artifacts.is_some() || self.result.is_some() || self.exit_code.is_some()
    }
}

fn null_time<S: serde::Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(t) => s.serialize_str(t),
        None => s.serialize_none(),
    }
}

/// One node of `status.nodes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Deterministic id (see [`crate::naming::node_id`]).
    pub id: String,
    /// Unique name in the node tree.
    pub name: String,
    /// Name relative to the boundary node.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// The node's type.
    #[serde(rename = "type")]
    pub node_type: NodeType,
    /// The template this node runs (empty for step groups).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub template_name: String,
    /// A template reference (never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_ref: Option<Value>,
    /// Where the template was resolved (`local/<workflow>`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub template_scope: String,
    /// The phase.
    #[serde(default, skip_serializing_if = "is_unknown")]
    pub phase: NodePhase,
    /// The id of the template invocation this node belongs to.
    #[serde(rename = "boundaryID", default, skip_serializing_if = "String::is_empty")]
    pub boundary_id: String,
    /// Why it is in this phase.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// When it started (RFC 3339).
    #[serde(default, serialize_with = "null_time")]
    pub started_at: Option<String>,
    /// When it finished; `null` while it runs.
    #[serde(default, serialize_with = "null_time")]
    pub finished_at: Option<String>,
    /// Estimated duration in seconds (never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_duration: Option<i64>,
    /// `N/M`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub progress: String,
    /// Resource durations (never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_duration: Option<Value>,
    /// A daemoned pod's IP (never produced here).
    #[serde(rename = "podIP", default, skip_serializing_if = "String::is_empty")]
    pub pod_ip: String,
    /// A daemoned node (never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daemoned: Option<bool>,
    /// Hooked / retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_flag: Option<NodeFlag>,
    /// The parameters the template received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Inputs>,
    /// What it produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
    /// Child node ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    /// The nodes that end this invocation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbound_nodes: Vec<String>,
    /// The Kubernetes node its pod ran on.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host_node_name: String,
    /// Memoization (never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memoization_status: Option<Value>,
    /// Synchronization (never produced here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synchronization_status: Option<Value>,
}

fn is_unknown(p: &NodePhase) -> bool {
    *p == NodePhase::Unknown
}

impl NodeStatus {
    /// A fresh node with everything else empty.
    pub fn new(id: String, name: String, node_type: NodeType) -> Self {
        NodeStatus {
            id,
            name,
            display_name: String::new(),
            node_type,
            template_name: String::new(),
            template_ref: None,
            template_scope: String::new(),
            phase: NodePhase::Unknown,
            boundary_id: String::new(),
            message: String::new(),
            started_at: None,
            finished_at: None,
            estimated_duration: None,
            progress: String::new(),
            resources_duration: None,
            pod_ip: String::new(),
            daemoned: None,
            node_flag: None,
            inputs: None,
            outputs: None,
            children: Vec::new(),
            outbound_nodes: Vec::new(),
            host_node_name: String::new(),
            memoization_status: None,
            synchronization_status: None,
        }
    }

    /// Nothing more will happen to it.
    pub fn fulfilled(&self) -> bool {
        self.phase.fulfilled()
    }

    /// An attempt of a Retry node.
    pub fn retried(&self) -> bool {
        self.node_flag.as_ref().is_some_and(|f| f.retried)
    }
}

/// Progress `N/M` (`wfv1.Progress`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Done.
    pub n: i64,
    /// Total.
    pub m: i64,
}

impl Progress {
    /// `0/0`, the neutral element.
    pub const ZERO: Progress = Progress { n: 0, m: 0 };
    /// `0/1`, a pod's progress until it finishes.
    pub const DEFAULT: Progress = Progress { n: 0, m: 1 };

    /// Parses `N/M`.
    pub fn parse(text: &str) -> Option<Progress> {
        let (n, m) = text.split_once('/')?;
        Some(Progress { n: n.parse().ok()?, m: m.parse().ok()? })
    }

    /// `0 <= N <= M`, `M > 0`.
    pub fn is_valid(self) -> bool {
        self.n >= 0 && self.n <= self.m && self.m > 0
    }

    /// `M/M`.
    pub fn complete(self) -> Progress {
        Progress { n: self.m, m: self.m }
    }

    /// Sums two progresses.
    pub fn plus(self, other: Progress) -> Progress {
        Progress { n: self.n + other.n, m: self.m + other.m }
    }
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.n, self.m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fixture_nodes_round_trip() {
        let text = include_str!("../../../tests/fixtures/argo/semaphore-tmpl-withparam-running.yaml");
        let wf: Value = serde_saphyr::from_str(text).expect("fixture");
        for (id, node) in wf["status"]["nodes"].as_object().expect("nodes") {
            let parsed: NodeStatus = serde_json::from_value(node.clone()).expect("node parses");
            assert_eq!(&parsed.id, id);
            let back = serde_json::to_value(&parsed).expect("json");
            assert_eq!(&back, node, "node {id} round-trips field for field");
        }
        let text = include_str!("../../../tests/fixtures/argo/fails-with-param-dag.yaml");
        let wf: Value = serde_saphyr::from_str(text).expect("fixture");
        for (id, node) in wf["status"]["nodes"].as_object().expect("nodes") {
            let parsed: NodeStatus = serde_json::from_value(node.clone()).expect("node parses");
            assert_eq!(&serde_json::to_value(&parsed).expect("json"), node, "node {id}");
        }
    }

    #[test]
    fn running_nodes_write_finished_at_null() {
        let mut n = NodeStatus::new("wf".into(), "wf".into(), NodeType::Steps);
        n.phase = NodePhase::Running;
        n.started_at = Some("2020-06-04T19:55:11Z".into());
        let v = serde_json::to_value(&n).expect("json");
        assert_eq!(
            v,
            json!({"id": "wf", "name": "wf", "type": "Steps", "phase": "Running", "startedAt": "2020-06-04T19:55:11Z", "finishedAt": null})
        );
    }

    #[test]
    fn progress_arithmetic() {
        let p = Progress::parse("0/1").expect("p");
        assert!(p.is_valid());
        assert!(!Progress::ZERO.is_valid());
        assert_eq!(p.complete().to_string(), "1/1");
        assert_eq!(p.plus(Progress::parse("1/1").expect("q")).to_string(), "1/2");
    }
}
