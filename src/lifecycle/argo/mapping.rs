//! A Workflow as a batch: a pure function from the Workflow object to a [`WorkflowRun`] — what
//! the console shows for every Workflow, whoever submitted it.
//!
//! # The rule
//!
//! Nodes are grouped into *units*: a Retry node with its attempts, or an execution node (Pod,
//! Container, HTTP, Plugin) that is no Retry's attempt, or a Suspend or Skipped node. Group nodes
//! (Steps, StepGroup, DAG, TaskGroup) only give structure and are not listed.
//!
//! - **Branches** are the units made by a step or DAG task with items (`withParam` or
//!   `withItems`): a node whose display name is an item name, `<step>(<index>:<description>)`
//!   (Argo's `generateNodeName`; for a map item the description is its `key:value` pairs sorted by
//!   key and joined by commas, parentheses stripped). Every such node is a branch, whichever step
//!   made it and however deep; what runs inside it (a nested steps or DAG template) belongs to it.
//!   A branch's Job is its `job` input parameter (`namespace/name`, tlc's template), else the
//!   `namespace` and `name` keys of its item description, else none (a workflow that is not
//!   tlc's). Branches are ordered by their step (earliest start first), then item index.
//! - **Discovery** is the top-level unit whose display name is `discovery` (tlc's template). Its
//!   `jobs` output is the fan-out's list: Jobs it lists that have no node yet (the controller
//!   creates item nodes as parallelism allows) are branches without a unit, so a batch shows all
//!   its branches from the moment discovery ends. A `Skipped` top-level `bridge` unit (`withParam`
//!   over an empty list: `Skipped, empty params`) or an empty `jobs` list means there was nothing
//!   to run.
//! - **Steps** are every other unit (a non-tlc workflow's `generate`, a DAG's `finish`), in the
//!   order they started.
//!
//! [`Stage`] says in one word where the batch is, so the console never shows a batch with nothing
//! to say: not started, discovering, discovery failed, discovered but not fanned out yet, nothing
//! to run, fanned out, or (a workflow without items) no fan-out at all.
//!
//! Phases map to the run model's ([`State::run_phase`]): Pending/Running/Succeeded as such, Failed
//! and Error → failed (the message says which), Skipped and Omitted are their own states. Exit
//! codes come from `outputs.exitCode` only — a Retry node copies its last attempt's outputs, and
//! when it has none the last attempt's code is used — never from messages, whose wording changed
//! across Argo versions.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use jiff::Timestamp;
use kube::api::DynamicObject;
use serde_json::Value;

use super::status::{
    self, DecodedNodes, Node, NodePhase, NodeType, Nodes, NodesEncoding, POD_NAME_FORMAT_ANNOTATION, Parameter,
    PodNameFormat, StatusError, StatusProblem,
};
use crate::contract::JobRef;
use crate::contract::labels::BATCH_ID;
use crate::lifecycle::run::Phase;

/// The display name of tlc's discovery step (`deploy/argo/workflow-template.yaml`).
pub const DISCOVERY_STEP: &str = "discovery";
/// The display name of tlc's fan-out step.
pub const BRIDGE_STEP: &str = "bridge";

/// A Workflow's phase (`status.phase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum WorkflowPhase {
    /// Not picked up by the controller yet (empty phase).
    Unknown,
    /// Accepted, nothing running yet.
    Pending,
    /// Running.
    Running,
    /// Finished, every required node succeeded.
    Succeeded,
    /// Finished with a failure.
    Failed,
    /// Finished with an error (invalid spec, infrastructure).
    Error,
}

impl WorkflowPhase {
    /// From Argo's word; anything unknown reads as [`WorkflowPhase::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "Pending" => WorkflowPhase::Pending,
            "Running" => WorkflowPhase::Running,
            "Succeeded" => WorkflowPhase::Succeeded,
            "Failed" => WorkflowPhase::Failed,
            "Error" => WorkflowPhase::Error,
            _ => WorkflowPhase::Unknown,
        }
    }

    /// Whether it is over (Argo's `Fulfilled`).
    pub fn is_final(self) -> bool {
        matches!(self, WorkflowPhase::Succeeded | WorkflowPhase::Failed | WorkflowPhase::Error)
    }

    /// Argo's spelling (empty for `Unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowPhase::Unknown => "",
            WorkflowPhase::Pending => "Pending",
            WorkflowPhase::Running => "Running",
            WorkflowPhase::Succeeded => "Succeeded",
            WorkflowPhase::Failed => "Failed",
            WorkflowPhase::Error => "Error",
        }
    }
}

/// A shutdown someone asked for (`spec.shutdown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Shutdown {
    /// Stop: running pods are signalled, exit handlers still run.
    Stop,
    /// Terminate: like Stop, without exit handlers.
    Terminate,
}

impl Shutdown {
    /// Argo's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Shutdown::Stop => "Stop",
            Shutdown::Terminate => "Terminate",
        }
    }
}

/// Where a node is, in the run model's words plus the two Argo states it has no word for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not running yet.
    Pending,
    /// Running.
    Running,
    /// Succeeded.
    Succeeded,
    /// Failed or errored (the message says which and why).
    Failed,
    /// Did not run: its condition was false or it had nothing to do.
    Skipped,
    /// Did not run: a DAG dependency condition was not met.
    Omitted,
}

impl State {
    /// From an Argo node phase: Error is a failure, an unknown phase is pending.
    pub fn from_node(phase: NodePhase) -> Self {
        match phase {
            NodePhase::Pending | NodePhase::Unknown => State::Pending,
            NodePhase::Running => State::Running,
            NodePhase::Succeeded => State::Succeeded,
            NodePhase::Failed | NodePhase::Error => State::Failed,
            NodePhase::Skipped => State::Skipped,
            NodePhase::Omitted => State::Omitted,
        }
    }

    /// The run model's phase; `None` for the states it has no word for (skipped, omitted).
    pub fn run_phase(self) -> Option<Phase> {
        match self {
            State::Pending => Some(Phase::Pending),
            State::Running => Some(Phase::Running),
            State::Succeeded => Some(Phase::Succeeded),
            State::Failed => Some(Phase::Failed),
            State::Skipped | State::Omitted => None,
        }
    }

    /// Whether it is over.
    pub fn is_final(self) -> bool {
        !matches!(self, State::Pending | State::Running)
    }

    /// Lower-case name for tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Skipped => "skipped",
            State::Omitted => "omitted",
        }
    }
}

/// `N/M` pods done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Progress {
    /// Done.
    pub done: u64,
    /// In all.
    pub total: u64,
}

impl Progress {
    /// Parses Argo's `N/M`.
    pub fn parse(s: &str) -> Option<Self> {
        let (done, total) = s.trim().split_once('/')?;
        Some(Progress { done: done.trim().parse().ok()?, total: total.trim().parse().ok()? })
    }
}

/// One attempt of a unit: a Retry node's child, or the unit's own node when it has no retry
/// strategy.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// 1, 2, … (Argo's `(0)` is attempt 1, as the run model counts).
    pub number: u32,
    /// The attempt's node.
    pub node_id: String,
    /// Its pod, for Pod nodes (named as the workflow's pod name format says).
    pub pod_name: Option<String>,
    /// Where it is.
    pub state: State,
    /// Argo's phase (Error and Failed both read as failed).
    pub argo_phase: NodePhase,
    /// Why it is where it is.
    pub message: Option<String>,
    /// The `main` container's exit code.
    pub exit_code: Option<i32>,
    /// Start.
    pub started: Option<Timestamp>,
    /// End.
    pub finished: Option<Timestamp>,
    /// The Kubernetes node its pod ran on.
    pub host_node: Option<String>,
}

/// A unit of work: a Retry node with its attempts, or one execution (or suspend, or skipped) node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Unit {
    /// Its node (the Retry node when it has one).
    pub node_id: String,
    /// Its display name (`discovery`, `bridge(0:…)`, `finish`).
    pub name: String,
    /// The template it runs.
    pub template: String,
    /// The node's type.
    pub node_type: NodeType,
    /// Where it is.
    pub state: State,
    /// Argo's phase.
    pub argo_phase: NodePhase,
    /// Why it is where it is (a Retry's own message, e.g. `No more retries left`).
    pub message: Option<String>,
    /// The exit code: the node's `outputs.exitCode`, else its last attempt's.
    pub exit_code: Option<i32>,
    /// Start.
    pub started: Option<Timestamp>,
    /// End.
    pub finished: Option<Timestamp>,
    /// Pods done.
    pub progress: Option<Progress>,
    /// Its attempts in order (none for a skipped node or a nested template).
    pub attempts: Vec<Attempt>,
}

/// Which item of which step a branch is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Item {
    /// The step (or DAG task) with items.
    pub step: String,
    /// The item's index.
    pub index: usize,
    /// Argo's description of the item (`name:billing-account,namespace:billing`, `foo/script.py`).
    pub description: String,
}

impl Item {
    /// Parses an item node's display name, `<step>(<index>:<description>)`. Attempt names
    /// (`…)(1)`) and other names are not items: Argo strips parentheses from descriptions.
    pub fn parse(display_name: &str) -> Option<Self> {
        let inner = display_name.strip_suffix(')')?;
        let (step, inner) = inner.split_once('(')?;
        let (index, description) = inner.split_once(':')?;
        if step.is_empty() || description.contains(['(', ')']) || index.is_empty() {
            return None;
        }
        Some(Item { step: step.to_string(), index: index.parse().ok()?, description: description.to_string() })
    }

    /// Whether a display name is an item's, without building the item.
    pub fn is_item_name(display_name: &str) -> bool {
        let Some(inner) = display_name.strip_suffix(')') else { return false };
        let Some((step, inner)) = inner.split_once('(') else { return false };
        let Some((index, description)) = inner.split_once(':') else { return false };
        !step.is_empty()
            && !index.is_empty()
            && index.bytes().all(|b| b.is_ascii_digit())
            && !description.contains(['(', ')'])
    }

    /// The `key:value` pairs of a map item's description.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.description.split(',').filter_map(|pair| pair.split_once(':'))
    }

    /// The Job a map item names by its `namespace` and `name` keys (tlc's fan-out items).
    pub fn job(&self) -> Option<JobRef> {
        let (mut namespace, mut name) = (None, None);
        for (k, v) in self.pairs() {
            match k {
                "namespace" => namespace = Some(v),
                "name" => name = Some(v),
                _ => {}
            }
        }
        match (namespace, name) {
            (Some(ns), Some(n)) if !ns.is_empty() && !n.is_empty() => Some(JobRef::new(ns, n)),
            _ => None,
        }
    }

    /// The description Argo gives a `{"name": …, "namespace": …}` item.
    pub fn job_description(job: &JobRef) -> String {
        let strip = |s: &str| s.replace(['(', ')'], "");
        format!("name:{},namespace:{}", strip(&job.name), strip(&job.namespace))
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}:{})", self.step, self.index, self.description)
    }
}

/// One branch of the fan-out.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Branch {
    /// The Job it runs (tlc's template), when it names one.
    pub job: Option<JobRef>,
    /// Which item it is.
    pub item: Item,
    /// Its unit; `None` for a Job discovery listed that has no node yet (waiting for the
    /// workflow's parallelism, or the workflow ended before it ran).
    pub unit: Option<Unit>,
}

impl Branch {
    /// Where it is (pending while it has no node).
    pub fn state(&self) -> State {
        self.unit.as_ref().map_or(State::Pending, |u| u.state)
    }

    /// Its exit code.
    pub fn exit_code(&self) -> Option<i32> {
        self.unit.as_ref()?.exit_code
    }

    /// Its attempts.
    pub fn attempts(&self) -> &[Attempt] {
        self.unit.as_ref().map_or(&[], |u| &u.attempts)
    }

    /// A key that names it in the batch: its Job, else its item.
    pub fn key(&self) -> String {
        match &self.job {
            Some(job) => job.to_string(),
            None => self.item.to_string(),
        }
    }
}

/// tlc's discovery step.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Discovery {
    /// The step.
    pub unit: Unit,
    /// The Jobs its `jobs` output lists (`None` until it has one).
    pub jobs: Option<Vec<JobRef>>,
    /// Why `jobs` could not be read, when it could not.
    pub jobs_problem: Option<String>,
    /// Its `batch` output.
    pub batch: Option<String>,
}

/// The workflow parameters tlc's template takes, from `spec.arguments.parameters` falling back to
/// the stored template's (`status.storedWorkflowTemplateSpec`); empty values read as `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunParameters {
    /// The tenant (id or name).
    pub tenant: Option<String>,
    /// The operation.
    pub operation: Option<String>,
    /// The batch id the submitter gave.
    pub batch: Option<String>,
    /// The changeset YAML.
    pub changeset: Option<String>,
    /// Only these Jobs (comma-separated `namespace/name`).
    pub jobs: Option<String>,
    /// The migration this is half of.
    pub migration: Option<String>,
    /// The migration's target region.
    pub migration_target: Option<String>,
}

/// Where the batch id came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchIdSource {
    /// The workflow's `tlc.dev/batch-id` label.
    Label,
    /// Discovery's `batch` output.
    Discovery,
    /// The `batch` parameter.
    Parameter,
}

/// The batch id and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BatchId {
    /// The id.
    pub id: String,
    /// Its source.
    pub source: BatchIdSource,
}

/// Where the batch is, in one word (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "stage")]
pub enum Stage {
    /// No node yet.
    NotStarted,
    /// Discovery is pending or running (or retrying).
    Discovering,
    /// Discovery failed: no branch will run (see [`WorkflowRun::discovery`]).
    DiscoveryFailed,
    /// Discovery succeeded; the fan-out has not started (or its list could not be read).
    AwaitingFanOut,
    /// There was nothing to run (discovery found no Job; the fan-out was skipped).
    NothingToRun {
        /// Argo's or tlc's words for it.
        message: String,
    },
    /// Branches exist.
    FannedOut,
    /// A workflow without items: its steps are all there is.
    NoFanOut,
}

/// Everything the console shows about one Workflow.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WorkflowRun {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The WorkflowTemplate it was made from (`spec.workflowTemplateRef.name`).
    pub template: Option<String>,
    /// Its phase.
    pub phase: WorkflowPhase,
    /// A shutdown someone asked for.
    pub shutdown: Option<Shutdown>,
    /// `spec.suspend`.
    pub suspended: bool,
    /// The workflow's message.
    pub message: Option<String>,
    /// Start.
    pub started: Option<Timestamp>,
    /// End.
    pub finished: Option<Timestamp>,
    /// Pods done.
    pub progress: Option<Progress>,
    /// tlc's parameters.
    pub parameters: RunParameters,
    /// The batch id, once known.
    pub batch_id: Option<BatchId>,
    /// Where the batch is.
    pub stage: Stage,
    /// tlc's discovery step, when the workflow has one.
    pub discovery: Option<Discovery>,
    /// The branches.
    pub branches: Vec<Branch>,
    /// Every other unit.
    pub steps: Vec<Unit>,
    /// How its pods are named.
    pub pod_name_format: PodNameFormat,
    /// How its nodes were stored.
    pub nodes_encoding: NodesEncoding,
}

/// The parts of a Workflow object the mapping reads.
struct Object<'a> {
    name: &'a str,
    namespace: &'a str,
    uid: &'a str,
    labels: BTreeMap<&'a str, &'a str>,
    annotations: BTreeMap<&'a str, &'a str>,
    spec: Option<&'a Value>,
    status: Option<&'a Value>,
}

fn str_map(value: Option<&Value>) -> BTreeMap<&str, &str> {
    match value {
        Some(Value::Object(map)) => map.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect(),
        _ => BTreeMap::new(),
    }
}

impl WorkflowRun {
    /// Maps a Workflow object (JSON, as listed or watched).
    pub fn from_value(workflow: &Value) -> Result<Self, StatusError> {
        let meta = workflow.get("metadata");
        let text = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or("");
        let object = Object {
            name: text("name"),
            namespace: text("namespace"),
            uid: text("uid"),
            labels: str_map(meta.and_then(|m| m.get("labels"))),
            annotations: str_map(meta.and_then(|m| m.get("annotations"))),
            spec: workflow.get("spec"),
            status: workflow.get("status"),
        };
        map(&object)
    }

    /// Maps a Workflow read as a kube `DynamicObject`.
    pub fn from_dynamic(workflow: &DynamicObject) -> Result<Self, StatusError> {
        let m = &workflow.metadata;
        let object = Object {
            name: m.name.as_deref().unwrap_or(""),
            namespace: m.namespace.as_deref().unwrap_or(""),
            uid: m.uid.as_deref().unwrap_or(""),
            labels: m.labels.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            annotations: m.annotations.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            spec: workflow.data.get("spec"),
            status: workflow.data.get("status"),
        };
        map(&object)
    }

    /// The branch of a Job.
    pub fn branch(&self, job: &JobRef) -> Option<&Branch> {
        self.branches.iter().find(|b| b.job.as_ref() == Some(job))
    }

    /// How many branches are in each state.
    pub fn counts(&self) -> BTreeMap<State, usize> {
        let mut counts = BTreeMap::new();
        for b in &self.branches {
            *counts.entry(b.state()).or_insert(0) += 1;
        }
        counts
    }
}

fn map(object: &Object<'_>) -> Result<WorkflowRun, StatusError> {
    let workflow_ref = format!("{}/{}", object.namespace, object.name);
    let err = |problem| StatusError { workflow: workflow_ref.clone(), problem };
    let status = object.status.filter(|s| !s.is_null());
    if object.spec.is_some_and(|s| !s.is_null() && !s.is_object()) {
        return Err(err(StatusProblem::Shape { field: "spec".into(), expected: "an object" }));
    }
    match status {
        None => Ok(build(object, None, DecodedNodes { nodes: Nodes::new(), encoding: NodesEncoding::Plain })),
        Some(s) if !s.is_object() => Err(err(StatusProblem::Shape { field: "status".into(), expected: "an object" })),
        Some(s) => status::with_status_nodes(s, |decoded| build(object, status, decoded)).map_err(err),
    }
}

/// The mapping proper, on nodes lent for the call.
fn build(object: &Object<'_>, status: Option<&Value>, decoded: DecodedNodes<'_>) -> WorkflowRun {
    let spec_str = |path: &[&str]| get_path(object.spec, path).and_then(Value::as_str).filter(|s| !s.is_empty());
    let status_str = |path: &[&str]| get_path(status, path).and_then(Value::as_str).filter(|s| !s.is_empty());

    let pod_name_format = PodNameFormat::from_annotation(object.annotations.get(POD_NAME_FORMAT_ANNOTATION).copied());
    let graph = Graph::new(object.name, pod_name_format, &decoded.nodes);
    let (mut branches, steps) = graph.units();
    let mut steps = steps;

    let discovery_at = steps.iter().position(|u| {
        u.name == DISCOVERY_STEP
            && decoded.nodes.get(u.node_id.as_str()).is_some_and(|n| n.boundary_id == object.name || !graph.has_root())
    });
    let discovery = discovery_at.map(|i| {
        let unit = steps.remove(i);
        graph.discovery(unit)
    });
    let skipped_fan_out = match discovery {
        Some(_) => steps
            .iter()
            .position(|u| u.name == BRIDGE_STEP && u.state == State::Skipped)
            .map(|i| steps.remove(i).message.unwrap_or_else(|| "Skipped".into())),
        None => None,
    };

    // Jobs discovery listed that have no node yet are branches too.
    if let Some(jobs) = discovery.as_ref().and_then(|d| d.jobs.as_ref()) {
        // Item i of the fan-out is the list's Job i.
        let mut present = vec![false; jobs.len()];
        for b in branches.iter().filter(|b| b.item.step == BRIDGE_STEP) {
            if let Some(p) = present.get_mut(b.item.index) {
                *p = true;
            }
        }
        let missing: Vec<Branch> = jobs
            .iter()
            .enumerate()
            .filter(|(i, _)| !present[*i])
            .map(|(index, job)| Branch {
                job: Some(job.clone()),
                item: Item { step: BRIDGE_STEP.into(), index, description: Item::job_description(job) },
                unit: None,
            })
            .collect();
        if !missing.is_empty() {
            branches.extend(missing);
            sort_branches(&mut branches);
        }
    }

    let stage = match &discovery {
        _ if decoded.nodes.is_empty() => Stage::NotStarted,
        Some(d) => match d.unit.state {
            State::Pending | State::Running => Stage::Discovering,
            State::Failed | State::Omitted => Stage::DiscoveryFailed,
            State::Succeeded | State::Skipped => {
                if !branches.is_empty() {
                    Stage::FannedOut
                } else if let Some(message) = skipped_fan_out {
                    Stage::NothingToRun { message }
                } else if d.jobs.as_ref().is_some_and(Vec::is_empty) {
                    Stage::NothingToRun { message: "discovery found no lifecycle Job to run".into() }
                } else {
                    Stage::AwaitingFanOut
                }
            }
        },
        None if !branches.is_empty() => Stage::FannedOut,
        None => Stage::NoFanOut,
    };

    let parameters = RunParameters {
        tenant: param(object.spec, status, "tenant"),
        operation: param(object.spec, status, "operation"),
        batch: param(object.spec, status, "batch"),
        changeset: param(object.spec, status, "changeset"),
        jobs: param(object.spec, status, "jobs"),
        migration: param(object.spec, status, "migration"),
        migration_target: param(object.spec, status, "migration-target"),
    };
    let batch_id = object
        .labels
        .get(BATCH_ID)
        .filter(|s| !s.is_empty())
        .map(|id| BatchId { id: id.to_string(), source: BatchIdSource::Label })
        .or_else(|| {
            let id = discovery.as_ref()?.batch.clone()?;
            Some(BatchId { id, source: BatchIdSource::Discovery })
        })
        .or_else(|| parameters.batch.clone().map(|id| BatchId { id, source: BatchIdSource::Parameter }));

    WorkflowRun {
        namespace: object.namespace.to_string(),
        name: object.name.to_string(),
        uid: object.uid.to_string(),
        template: spec_str(&["workflowTemplateRef", "name"]).map(str::to_string),
        phase: WorkflowPhase::parse(status_str(&["phase"]).unwrap_or("")),
        shutdown: match spec_str(&["shutdown"]) {
            Some("Stop") => Some(Shutdown::Stop),
            Some("Terminate") => Some(Shutdown::Terminate),
            _ => None,
        },
        suspended: get_path(object.spec, &["suspend"]).and_then(Value::as_bool).unwrap_or(false),
        message: status_str(&["message"]).map(str::to_string),
        started: status_str(&["startedAt"]).and_then(|s| s.parse().ok()),
        finished: status_str(&["finishedAt"]).and_then(|s| s.parse().ok()),
        progress: status_str(&["progress"]).and_then(Progress::parse),
        parameters,
        batch_id,
        stage,
        discovery,
        branches,
        steps,
        pod_name_format,
        nodes_encoding: decoded.encoding,
    }
}

fn get_path<'a>(root: Option<&'a Value>, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(root?, |v, k| v.get(k))
}

fn parameters_at<'a>(root: Option<&'a Value>, path: &[&str]) -> Vec<Parameter<'a>> {
    get_path(root, path).and_then(|v| serde::Deserialize::deserialize(v).ok()).unwrap_or_default()
}

/// A workflow parameter: the submitted arguments, then the stored template's.
fn param(spec: Option<&Value>, status: Option<&Value>, name: &str) -> Option<String> {
    let submitted = parameters_at(spec, &["arguments", "parameters"]);
    let stored = parameters_at(status, &["storedWorkflowTemplateSpec", "arguments", "parameters"]);
    status::parameter(&submitted, name)
        .or_else(|| status::parameter(&stored, name))
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn sort_branches(branches: &mut Vec<Branch>) {
    // Steps in the order they started (a step's earliest unit), then item index. A workflow has a
    // handful of steps with items and thousands of branches: steps are found by a scan, and each
    // branch's key is computed once.
    let mut steps: Vec<(bool, Option<Timestamp>, &str)> = Vec::new();
    for b in branches.iter() {
        let started = b.unit.as_ref().and_then(|u| u.started);
        match steps.iter_mut().find(|(_, _, s)| *s == b.item.step) {
            Some((_, first, _)) => {
                *first = match (*first, started) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            None => steps.push((false, started, &b.item.step)),
        }
    }
    for step in &mut steps {
        step.0 = step.1.is_none();
    }
    steps.sort();
    let rank = |step: &str| steps.iter().position(|(_, _, s)| *s == step).unwrap_or(0);
    let mut keyed: Vec<(usize, usize, usize)> =
        branches.iter().enumerate().map(|(i, b)| (rank(&b.item.step), b.item.index, i)).collect();
    drop(steps);
    keyed.sort_unstable();
    let mut slots: Vec<Option<Branch>> = std::mem::take(branches).into_iter().map(Some).collect();
    branches.extend(keyed.into_iter().filter_map(|(_, _, i)| slots[i].take()));
}

/// The node graph of one workflow, with the lookups the mapping needs.
struct Graph<'a> {
    workflow: &'a str,
    format: PodNameFormat,
    nodes: &'a Nodes<'a>,
    /// Attempts of Retry nodes (their Retry node is their unit).
    attempts: HashSet<&'a str>,
    /// Containers of container-set pods (they belong to their pod).
    pod_containers: HashSet<&'a str>,
}

impl<'a> Graph<'a> {
    fn new(workflow: &'a str, format: PodNameFormat, nodes: &'a Nodes) -> Self {
        let mut attempts = HashSet::new();
        let mut pod_containers = HashSet::new();
        for node in nodes.values() {
            match node.node_type {
                NodeType::Retry => attempts.extend(node.children.iter().map(|c| &**c)),
                NodeType::Pod => pod_containers.extend(node.children.iter().map(|c| &**c)),
                _ => {}
            }
        }
        Graph { workflow, format, nodes, attempts, pod_containers }
    }

    fn has_root(&self) -> bool {
        self.nodes.contains_key(self.workflow)
    }

    /// Whether a node is an item of a step with items (and not an attempt of one).
    fn is_item(&self, node: &Node) -> bool {
        Item::is_item_name(&node.display_name) && !self.attempts.contains(&*node.id)
    }

    /// Whether a node that is no attempt is a unit of its own (see the module doc).
    fn is_unit(&self, node: &Node) -> bool {
        match node.node_type {
            NodeType::Retry | NodeType::Pod | NodeType::Http | NodeType::Plugin | NodeType::Suspend => true,
            NodeType::Skipped => true,
            // A container of a container set belongs to its pod.
            NodeType::Container => {
                !self.pod_containers.contains(&*node.id)
                    && !self.nodes.get(&node.boundary_id).is_some_and(|b| b.node_type == NodeType::Pod)
            }
            _ => false,
        }
    }

    /// Branches (units made by items) and steps (every other unit).
    fn units(&self) -> (Vec<Branch>, Vec<Unit>) {
        let mut branches = Vec::new();
        let mut steps = Vec::new();
        for node in self.nodes.values() {
            if self.attempts.contains(&*node.id) {
                continue;
            }
            if let Some(item) = Item::parse(&node.display_name) {
                let job = node.input("job").and_then(JobRef::parse).or_else(|| item.job());
                branches.push(Branch { job, item, unit: Some(self.unit(node)) });
            } else if self.is_unit(node) && !self.inside_item(&node.boundary_id) {
                steps.push(self.unit(node));
            }
        }
        sort_branches(&mut branches);
        steps.sort_by(|a, b| {
            (a.started.is_none(), a.started, &a.name, &a.node_id).cmp(&(
                b.started.is_none(),
                b.started,
                &b.name,
                &b.node_id,
            ))
        });
        (branches, steps)
    }

    /// Whether the boundary chain from `boundary` reaches an item node.
    fn inside_item(&self, mut boundary: &'a str) -> bool {
        for _ in 0..=self.nodes.len() {
            if boundary.is_empty() || boundary == self.workflow {
                return false;
            }
            match self.nodes.get(boundary) {
                Some(node) if self.is_item(node) => return true,
                Some(node) => boundary = &node.boundary_id,
                None => return false,
            }
        }
        false
    }

    fn attempt(&self, node: &Node, number: u32) -> Attempt {
        Attempt {
            number,
            node_id: node.id.to_string(),
            pod_name: (node.node_type == NodeType::Pod)
                .then(|| status::pod_name(self.workflow, &node.name, node.pod_template_name(), &node.id, self.format)),
            state: State::from_node(node.phase),
            argo_phase: node.phase,
            message: non_empty(&node.message),
            exit_code: node.exit_code(),
            started: node.started_at,
            finished: node.finished_at,
            host_node: non_empty(&node.host_node_name),
        }
    }

    fn unit(&self, node: &Node) -> Unit {
        let attempts: Vec<Attempt> = if node.node_type == NodeType::Retry {
            let mut attempts: Vec<Attempt> = node
                .children
                .iter()
                .filter_map(|c| self.nodes.get(c))
                .filter(|c| !c.is_hook())
                .enumerate()
                .map(|(i, c)| {
                    let number = attempt_index(&c.display_name).unwrap_or(i as u32) + 1;
                    self.attempt(c, number)
                })
                .collect();
            attempts.sort_by_key(|a| a.number);
            attempts
        } else if node.node_type.is_execution() {
            vec![self.attempt(node, 1)]
        } else {
            Vec::new()
        };
        Unit {
            node_id: node.id.to_string(),
            name: node.display_name.to_string(),
            template: node.pod_template_name().to_string(),
            node_type: node.node_type,
            state: State::from_node(node.phase),
            argo_phase: node.phase,
            message: non_empty(&node.message),
            exit_code: node.exit_code().or_else(|| attempts.last().and_then(|a| a.exit_code)),
            started: node.started_at,
            finished: node.finished_at,
            progress: Progress::parse(&node.progress),
            attempts,
        }
    }

    fn discovery(&self, unit: Unit) -> Discovery {
        // A Retry node copies its last attempt's outputs; read the attempt when it has not yet.
        let node = self.nodes.get(unit.node_id.as_str());
        let last = unit.attempts.last().and_then(|a| self.nodes.get(a.node_id.as_str()));
        let output = |name: &str| -> Option<&str> {
            node.and_then(|n| n.output(name)).or_else(|| last.and_then(|n| n.output(name)))
        };
        let (jobs, jobs_problem) = match output("jobs") {
            None => (None, None),
            Some(text) => match parse_jobs(text) {
                Ok(jobs) => (Some(jobs), None),
                Err(problem) => (None, Some(problem)),
            },
        };
        let batch = output("batch").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        Discovery { unit, jobs, jobs_problem, batch }
    }
}

/// The `(N)` at the end of an attempt's display name.
fn attempt_index(display_name: &str) -> Option<u32> {
    let inner = display_name.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    inner[open + 1..].parse().ok()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Discovery's `jobs` output: the `withParam` list `[{"name": …, "namespace": …}, …]`.
pub fn parse_jobs(text: &str) -> Result<Vec<JobRef>, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        name: String,
        namespace: String,
    }
    let entries: Vec<Entry> = serde_json::from_str(text)
        .map_err(|e| format!("discovery's jobs output is not a list of {{name, namespace}}: {e}"))?;
    entries
        .into_iter()
        .map(|e| {
            if e.name.is_empty() || e.namespace.is_empty() {
                Err(format!(
                    "discovery's jobs output lists a Job without a name or namespace: {:?}/{:?}",
                    e.namespace, e.name
                ))
            } else {
                Ok(JobRef::new(&e.namespace, &e.name))
            }
        })
        .collect()
}
