//! Changing a Workflow the way Argo's own client does, without the Argo server: pure functions
//! that check what Argo checks and return the request bodies.
//!
//! - Stop and Terminate: merge patches `{"spec":{"shutdown":"Stop"}}` / `"Terminate"`, refused on a
//!   completed workflow with Argo's words (`patchShutdownStrategy`, `workflow/util/util.go`).
//! - Suspend and Resume: merge patches of `spec.suspend`. Resume does not touch suspend *nodes*
//!   (tlc's template has none).
//! - Retry: Argo's `FormulateRetryWorkflow` (without `restartSuccessful` and node selectors, which
//!   the `argo retry` defaults leave off): allowed on Failed or Error workflows only. Every failed
//!   execution node whose branch has no succeeded node after it — a failed attempt of a Retry node
//!   is judged by its Retry node, so an attempt that failed before a later one succeeded stays —
//!   is deleted with what follows it; the nodes on its way up (Retry nodes, groups, the boundaries
//!   up to the root) are reset to Running with message and finishedAt cleared; the workflow is
//!   relabelled and its status reset. The result is the whole Workflow for a plain update (the
//!   Workflow CRD has no status subresource), with the pods to delete first (as the Argo server
//!   does) and the branches that will run again.
//!
//! Two choices differ from upstream and are deliberate: where a node has several parents (a DAG
//! join, the step group after a fan-out) upstream picks one in Go's random map order, here the
//! first by node id; and only Pod nodes of an exit handler are listed as pods to delete (upstream
//! also lists names made for its Steps and DAG nodes, which no pod has).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::mapping::{Item, Shutdown, WorkflowPhase, WorkflowRun};
use super::status::{
    self, Node, NodePhase, NodeType, Nodes, NodesEncoding, POD_NAME_FORMAT_ANNOTATION, PodNameFormat, StatusError,
    StatusProblem,
};
use crate::contract::JobRef;

/// The workflow label that says a workflow is over.
pub const COMPLETED_LABEL: &str = "workflows.argoproj.io/completed";
/// The workflow label with its phase.
pub const PHASE_LABEL: &str = "workflows.argoproj.io/phase";
/// The workflow label the archive writes.
pub const ARCHIVING_STATUS_LABEL: &str = "workflows.argoproj.io/workflow-archiving-status";

/// Why an action is refused, or cannot be formulated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// Stop or Terminate on a finished workflow (Argo's `AlreadyShutdownError`).
    #[error("cannot shutdown a completed workflow: workflow: {name:?}, namespace: {namespace:?}")]
    CompletedShutdown {
        /// The workflow.
        name: String,
        /// Its namespace.
        namespace: String,
    },
    /// Suspend on a finished workflow.
    #[error("cannot suspend completed workflows")]
    CompletedSuspend,
    /// Retry on a workflow that is not Failed or Error.
    #[error("Cannot retry a workflow in phase {phase}")]
    RetryPhase {
        /// Its phase, as Argo spells it.
        phase: String,
    },
    /// Retry on a succeeded workflow (Argo's words; tlc does not restart successful nodes).
    #[error("To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector")]
    RetrySucceeded,
    /// The node status cannot be read (offloaded, malformed).
    #[error("cannot retry: {0}")]
    Unreadable(StatusError),
    /// The node graph is not one Argo would have written.
    #[error("cannot retry workflow {workflow}: {detail}")]
    Graph {
        /// `namespace/name`.
        workflow: String,
        /// What is wrong.
        detail: String,
    },
    /// The nodes could not be written back.
    #[error("cannot retry workflow {workflow}: {detail}")]
    Encode {
        /// `namespace/name`.
        workflow: String,
        /// What failed.
        detail: String,
    },
}

fn meta_str<'a>(workflow: &'a Value, key: &str) -> &'a str {
    workflow.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_str).unwrap_or("")
}

fn phase_of(workflow: &Value) -> &str {
    workflow.get("status").and_then(|s| s.get("phase")).and_then(Value::as_str).unwrap_or("")
}

/// The merge patch that asks Argo to stop or terminate a workflow; refused when it is over.
pub fn shutdown_patch(workflow: &Value, strategy: Shutdown) -> Result<Value, ActionError> {
    if WorkflowPhase::parse(phase_of(workflow)).is_final() {
        return Err(ActionError::CompletedShutdown {
            name: meta_str(workflow, "name").to_string(),
            namespace: meta_str(workflow, "namespace").to_string(),
        });
    }
    Ok(json!({"spec": {"shutdown": strategy.as_str()}}))
}

/// `argo stop`: running pods are signalled, exit handlers still run.
pub fn stop_patch(workflow: &Value) -> Result<Value, ActionError> {
    shutdown_patch(workflow, Shutdown::Stop)
}

/// `argo terminate`: like stop, without exit handlers.
pub fn terminate_patch(workflow: &Value) -> Result<Value, ActionError> {
    shutdown_patch(workflow, Shutdown::Terminate)
}

/// `argo suspend`: refused once the workflow carries `workflows.argoproj.io/completed: "true"`.
pub fn suspend_patch(workflow: &Value) -> Result<Value, ActionError> {
    let completed = workflow
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(COMPLETED_LABEL))
        .and_then(Value::as_str)
        == Some("true");
    if completed {
        return Err(ActionError::CompletedSuspend);
    }
    Ok(json!({"spec": {"suspend": true}}))
}

/// `argo resume` of a suspended workflow: clears `spec.suspend`.
pub fn resume_patch() -> Value {
    json!({"spec": {"suspend": null}})
}

/// A branch a retry runs again (or runs for the first time).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rerun {
    /// Its Job, when it names one.
    pub job: Option<JobRef>,
    /// Its item.
    pub item: Item,
    /// Its node (reset, or deleted to be made again); `None` for a Job discovery listed that never
    /// got a node: the fan-out step, reset, starts it.
    pub node_id: Option<String>,
}

/// What a retry does, before it is done.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RetryPlan {
    /// The whole Workflow to write with a plain update (its `resourceVersion` kept, so a
    /// concurrent change is a conflict, not a lost update).
    pub workflow: Value,
    /// Pods to delete in the workflow's namespace before the update (not found is fine).
    pub pods_to_delete: Vec<String>,
    /// Nodes removed from the status (they run again as new nodes).
    pub deleted_nodes: Vec<String>,
    /// Nodes reset to Running.
    pub reset_nodes: Vec<String>,
    /// The branches that will run again (for the confirmation).
    pub rerun: Vec<Rerun>,
    /// Whether discovery runs again.
    pub discovery_reruns: bool,
}

/// Formulates Argo's retry of a Failed or Error workflow at `now` (which becomes the workflow's
/// and every reset node's start).
pub fn retry(workflow: &Value, now: Timestamp) -> Result<RetryPlan, ActionError> {
    match WorkflowPhase::parse(phase_of(workflow)) {
        WorkflowPhase::Failed | WorkflowPhase::Error => {}
        WorkflowPhase::Succeeded => return Err(ActionError::RetrySucceeded),
        _ => return Err(ActionError::RetryPhase { phase: phase_of(workflow).to_string() }),
    }
    let name = meta_str(workflow, "name");
    let workflow_ref = status::workflow_ref(workflow);
    let unreadable = |problem| ActionError::Unreadable(StatusError { workflow: workflow_ref.clone(), problem });
    let graph_error = |detail: String| ActionError::Graph { workflow: workflow_ref.clone(), detail };
    let status = match workflow.get("status") {
        Some(s @ Value::Object(_)) => s,
        _ => return Err(unreadable(StatusProblem::Shape { field: "status".into(), expected: "an object" })),
    };
    let (raw, encoding) = status::decode_status_raw(status).map_err(unreadable)?;
    let field = match encoding {
        NodesEncoding::Plain => "status.nodes".to_string(),
        codec => format!("status.compressedNodes ({codec})"),
    };
    let nodes = status::nodes_from_map(&raw, &field).map_err(unreadable)?;

    let dag = Dag::new(name, &nodes).map_err(graph_error)?;
    let (to_delete, to_reset) = dag.plan().map_err(graph_error)?;

    let format = PodNameFormat::from_annotation(
        workflow
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(POD_NAME_FORMAT_ANNOTATION))
            .and_then(Value::as_str),
    );
    let pod_of = |n: &Node| status::pod_name(name, &n.name, n.pod_template_name(), &n.id, format);
    let mut pods: BTreeSet<String> = to_delete
        .iter()
        .filter_map(|id| nodes.get(id.as_str()))
        .filter(|n| n.node_type == NodeType::Pod)
        .map(pod_of)
        .collect();

    // The exit handler runs again from scratch: its nodes go, and its pods.
    let on_exit = format!("{name}.onExit");
    let mut dropped: HashSet<&str> = to_delete.iter().map(|c| &**c).collect();
    for node in nodes.values() {
        if node.name.starts_with(&on_exit) {
            dropped.insert(&node.id);
        }
        if node.name == on_exit {
            let mut queue = VecDeque::from([node]);
            let mut seen = HashSet::new();
            while let Some(n) = queue.pop_front() {
                if !seen.insert(&*n.id) {
                    continue;
                }
                if n.node_type == NodeType::Pod {
                    pods.insert(pod_of(n));
                }
                queue.extend(n.children.iter().filter_map(|c| nodes.get(c)));
            }
        }
    }

    let started = now_text(now);
    let mut new_nodes = Map::new();
    for (id, value) in &raw {
        if dropped.contains(id.as_str()) {
            continue;
        }
        let mut value = value.clone();
        if let Value::Object(node) = &mut value {
            if to_reset.contains(id) {
                reset_node(node, &started);
            }
            for field in ["children", "outboundNodes"] {
                let kept: Option<Vec<Value>> = node.get(field).and_then(Value::as_array).map(|list| {
                    list.iter().filter(|c| !c.as_str().is_some_and(|c| to_delete.contains(c))).cloned().collect()
                });
                match kept {
                    Some(list) if list.is_empty() => {
                        node.remove(field);
                    }
                    Some(list) => {
                        node.insert(field.into(), Value::Array(list));
                    }
                    None => {}
                }
            }
        }
        new_nodes.insert(id.clone(), value);
    }

    let mut new_workflow = workflow.clone();
    reset_workflow(&mut new_workflow, &started);
    write_nodes(&mut new_workflow, new_nodes, encoding)
        .map_err(|detail| ActionError::Encode { workflow: workflow_ref.clone(), detail })?;

    // What the confirmation lists: the branches whose node is reset or deleted.
    let touched = |id: &str| to_delete.contains(id) || to_reset.contains(id);
    let run = WorkflowRun::from_value(workflow).map_err(ActionError::Unreadable)?;
    let discovery_reruns = run
        .discovery
        .as_ref()
        .is_some_and(|d| touched(&d.unit.node_id) || d.unit.attempts.iter().any(|a| touched(&a.node_id)));
    let rerun = run
        .branches
        .iter()
        .filter_map(|b| {
            let again = match &b.unit {
                Some(unit) => touched(&unit.node_id) || unit.attempts.iter().any(|a| touched(&a.node_id)),
                // Listed by a discovery that stays: the reset fan-out starts it. (A discovery that
                // runs again lists its Jobs anew.)
                None => !discovery_reruns,
            };
            again.then(|| Rerun {
                job: b.job.clone(),
                item: b.item.clone(),
                node_id: b.unit.as_ref().map(|u| u.node_id.clone()),
            })
        })
        .collect();

    let mut reset_nodes: Vec<String> = to_reset.iter().filter(|id| !to_delete.contains(*id)).cloned().collect();
    reset_nodes.sort();
    let mut deleted_nodes: Vec<String> = dropped.iter().map(|s| s.to_string()).collect();
    deleted_nodes.sort();
    Ok(RetryPlan {
        workflow: new_workflow,
        pods_to_delete: pods.into_iter().collect(),
        deleted_nodes,
        reset_nodes,
        rerun,
        discovery_reruns,
    })
}

/// `metav1.Time` as Go marshals it: RFC 3339, whole seconds, UTC.
fn now_text(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Argo's `resetNode` on a raw node.
fn reset_node(node: &mut Map<String, Value>, started: &str) {
    if node.get("type").and_then(Value::as_str) == Some("Suspend")
        && let Some(Value::Array(params)) = node.get_mut("outputs").and_then(|o| o.get_mut("parameters"))
    {
        for p in params.iter_mut() {
            let name = p.get("name").cloned().unwrap_or(Value::Null);
            *p = json!({"name": name, "valueFrom": {"supplied": {}}});
        }
    }
    if node.get("phase").and_then(Value::as_str) != Some(NodePhase::Skipped.as_str()) {
        node.insert("phase".into(), Value::String(NodePhase::Running.as_str().into()));
    }
    node.remove("message");
    node.insert("startedAt".into(), Value::String(started.into()));
    node.insert("finishedAt".into(), Value::Null);
}

/// Argo's `createNewRetryWorkflow` on the raw object (the nodes are written separately).
fn reset_workflow(workflow: &mut Value, started: &str) {
    if let Some(meta) = workflow.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        if let Some(labels) = labels.as_object_mut() {
            labels.remove(COMPLETED_LABEL);
            labels.remove(ARCHIVING_STATUS_LABEL);
            labels.insert(PHASE_LABEL.into(), Value::String("Running".into()));
        }
    }
    if let Some(spec) = workflow.get_mut("spec").and_then(Value::as_object_mut) {
        spec.remove("shutdown");
        if spec.get("activeDeadlineSeconds").and_then(Value::as_i64) == Some(0) {
            spec.remove("activeDeadlineSeconds");
        }
    }
    if let Some(status) = workflow.get_mut("status").and_then(Value::as_object_mut) {
        let completed = json!({"type": "Completed", "status": "False"});
        match status.get_mut("conditions") {
            Some(Value::Array(conditions)) => {
                match conditions.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some("Completed")) {
                    Some(c) => *c = completed,
                    None => conditions.push(completed),
                }
            }
            _ => {
                status.insert("conditions".into(), json!([completed]));
            }
        }
        status.insert("phase".into(), Value::String("Running".into()));
        status.remove("message");
        status.insert("startedAt".into(), Value::String(started.into()));
        status.insert("finishedAt".into(), Value::Null);
        status.remove("persistentVolumeClaims");
        if let Some(stored) = status.get_mut("storedWorkflowTemplateSpec").and_then(Value::as_object_mut) {
            stored.remove("shutdown");
        }
    }
}

/// Puts the node map back where it came from: `status.nodes`, or `status.compressedNodes`
/// compressed with the same algorithm.
fn write_nodes(workflow: &mut Value, nodes: Map<String, Value>, encoding: NodesEncoding) -> Result<(), String> {
    let Some(status) = workflow.get_mut("status").and_then(Value::as_object_mut) else {
        return Err("the workflow has no status object".into());
    };
    match encoding {
        NodesEncoding::Plain => {
            status.insert("nodes".into(), Value::Object(nodes));
        }
        codec => {
            let json = serde_json::to_vec(&Value::Object(nodes)).map_err(|e| format!("encoding the nodes: {e}"))?;
            let compressed = status::compress_nodes(&json, codec)?;
            status.remove("nodes");
            status.insert("compressedNodes".into(), Value::String(compressed));
        }
    }
    Ok(())
}

/// The node tree as Argo's retry sees it: every node's parent is the (first) node that lists it
/// as a child.
struct Dag<'a> {
    workflow: &'a str,
    nodes: &'a Nodes<'a>,
    parent: HashMap<&'a str, &'a str>,
}

impl<'a> Dag<'a> {
    fn new(workflow: &'a str, nodes: &'a Nodes) -> Result<Self, String> {
        let mut parent = HashMap::new();
        for node in nodes.values() {
            for child in &node.children {
                if !nodes.contains_key(child) {
                    return Err(format!("node {:?} lists a child {child:?} that is not in the status", node.id));
                }
                parent.entry(&**child).or_insert(&*node.id);
            }
        }
        let on_exit = format!("{workflow}.onExit");
        for node in nodes.values() {
            if !parent.contains_key(&*node.id) && node.name != workflow && !node.name.starts_with(&on_exit) {
                return Err(format!("node {:?} ({}) has no parent and is not the root", node.id, node.name));
            }
        }
        Ok(Dag { workflow, nodes, parent })
    }

    fn node(&self, id: &str) -> Result<&'a Node<'a>, String> {
        self.nodes.get(id).ok_or_else(|| format!("node {id:?} is not in the status"))
    }

    fn parent_of(&self, id: &str) -> Option<&'a str> {
        self.parent.get(id).copied()
    }

    /// Whether a node has a succeeded node after it (Argo's `isDescendantNodeSucceeded`).
    fn descendant_succeeded(&self, node: &Node) -> bool {
        let mut stack: Vec<&str> = node.children.iter().map(|c| &**c).collect();
        let mut seen = HashSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(child) = self.nodes.get(id) {
                if child.phase == NodePhase::Succeeded {
                    return true;
                }
                stack.extend(child.children.iter().map(|c| &**c));
            }
        }
        false
    }

    /// Every node after `id` by children (Argo's `getChildren`).
    fn descendants(&self, id: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut queue = VecDeque::from([id]);
        while let Some(current) = queue.pop_front() {
            for child in self.nodes.get(current).map(|n| n.children.as_slice()).unwrap_or_default() {
                if out.insert(child.to_string()) {
                    queue.push_back(child);
                }
            }
        }
        out
    }

    /// Nodes to delete and nodes to reset.
    fn plan(&self) -> Result<(BTreeSet<String>, BTreeSet<String>), String> {
        let root = self.nodes.get(self.workflow).ok_or_else(|| format!("no root node {:?}", self.workflow))?;
        // Failed execution nodes whose branch (a retried attempt's Retry node) has no success after it.
        let mut failed = HashSet::new();
        for node in self.nodes.values() {
            if !(node.phase.failed_or_error() && node.node_type.is_execution()) {
                continue;
            }
            let judged = if node.is_retried_attempt() {
                self.parent_of(&node.id).and_then(|p| self.nodes.get(p)).unwrap_or(node)
            } else {
                node
            };
            if !self.descendant_succeeded(judged) {
                failed.insert(&*node.id);
            }
        }
        // Breadth first from the root: nodes higher up take precedence.
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([&*root.id]);
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            order.push(id);
            if let Some(n) = self.nodes.get(id) {
                queue.extend(n.children.iter().map(|c| &**c));
            }
        }
        let mut to_delete = BTreeSet::new();
        let mut to_reset = BTreeSet::new();
        for id in order.into_iter().filter(|id| failed.contains(id)) {
            if to_delete.contains(id) {
                continue;
            }
            self.reset_path(id, &mut to_reset, &mut to_delete)?;
        }
        Ok((to_delete, to_reset))
    }

    /// Argo's `resetPath`: delete the node and what follows it; reset the Retry nodes, groups and
    /// boundaries between it and the root.
    fn reset_path(
        &self,
        start: &str,
        reset: &mut BTreeSet<String>,
        delete: &mut BTreeSet<String>,
    ) -> Result<(), String> {
        // The node must hang from the root.
        let mut steps = 0;
        let mut current = start;
        while current != self.workflow {
            current = self.parent_of(current).ok_or_else(|| format!("node {current:?} does not lead to the root"))?;
            steps += 1;
            if steps > self.nodes.len() {
                return Err(format!("the parents of node {start:?} form a loop"));
            }
        }
        delete.extend(self.descendants(start));
        delete.insert(start.to_string());
        if start == self.workflow {
            return Ok(());
        }
        let mut guard = 0;
        let mut current = Some(start);
        while let Some(id) = current {
            guard += 1;
            if guard > 4 * self.nodes.len() + 4 {
                return Err(format!("walking up from node {start:?} does not end"));
            }
            let node = self.node(id)?;
            if node.node_type.is_group() {
                reset.insert(id.to_string());
                current = self.reset_boundaries(id, reset)?;
                continue;
            }
            match node.node_type {
                NodeType::Retry => {
                    reset.insert(id.to_string());
                }
                NodeType::Container => {
                    // A container of a container set: its pod goes, and what follows it.
                    let pod = self.reset_until(id, |n| n.node_type == NodeType::Pod, reset)?;
                    delete.insert(pod.to_string());
                    delete.extend(self.descendants(pod));
                    current = Some(pod);
                    continue;
                }
                _ => {}
            }
            current = self.parent_of(id);
        }
        Ok(())
    }

    /// Argo's `resetBoundaries`: from a group node up through its boundaries to the root.
    fn reset_boundaries(&self, from: &'a str, reset: &mut BTreeSet<String>) -> Result<Option<&'a str>, String> {
        let mut current = from;
        for _ in 0..=self.nodes.len() {
            if let Some(parent) = self.parent_of(current).and_then(|p| self.nodes.get(p))
                && parent.node_type == NodeType::Retry
            {
                reset.insert(parent.id.to_string());
                current = &*parent.id;
            }
            if let Some(parent) = self.parent_of(current).and_then(|p| self.nodes.get(p))
                && parent.node_type == NodeType::StepGroup
            {
                reset.insert(parent.id.to_string());
            }
            let boundary = &*self.node(current)?.boundary_id;
            if boundary.is_empty() {
                return Ok(self.parent_of(current));
            }
            let next = self.reset_until(current, |n| n.id == boundary, reset)?;
            if next == current {
                return Err(format!("node {current:?} is its own boundary"));
            }
            current = next;
        }
        Err(format!("the boundaries above node {from:?} form a loop"))
    }

    /// Argo's `resetUntil`: up the parents to the first match, which is reset.
    fn reset_until(
        &self,
        from: &'a str,
        matches: impl Fn(&Node) -> bool,
        reset: &mut BTreeSet<String>,
    ) -> Result<&'a str, String> {
        let mut current = Some(from);
        let mut steps = 0;
        while let Some(id) = current {
            let node = self.node(id)?;
            if matches(node) {
                reset.insert(node.id.to_string());
                return Ok(&*node.id);
            }
            steps += 1;
            if steps > self.nodes.len() {
                break;
            }
            current = self.parent_of(id);
        }
        Err(format!("walking up from node {from:?} found no node it was looking for"))
    }
}
