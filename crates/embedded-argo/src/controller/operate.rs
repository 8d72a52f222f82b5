//! One operation on one Workflow (`wfOperationCtx.operate` in `workflow/controller/operator.go`):
//! join the spec with its WorkflowTemplate, validate it once, reconcile task results and pods into
//! the nodes, walk the template tree from the entrypoint — looking every node up by name and
//! creating what is missing — then write the status back in one update. Everything here is
//! synchronous: the controller's loop runs one operation at a time, off the async runtime.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Settings;
use crate::naming::{self, node_id, rfc3339};
use crate::packer::{self, Nodes};
use crate::spec::{Arguments, RetryStrategy, Template, WorkflowSpec};
use crate::status::{Inputs, NodeFlag, NodePhase, NodeStatus, NodeType, Progress};
use crate::template::{self, Params, Scope};
use crate::{subset, validate};
use embedded_cluster::store::resource::Resource;
use embedded_cluster::store::{DeleteOptions, Store, UpdateScope};

/// Label and annotation keys Argo uses.
pub mod keys {
    /// The workflow a pod or task result belongs to.
    pub const WORKFLOW: &str = "workflows.argoproj.io/workflow";
    /// `true` once a workflow (or a pod's node) is done.
    pub const COMPLETED: &str = "workflows.argoproj.io/completed";
    /// The workflow's phase.
    pub const PHASE: &str = "workflows.argoproj.io/phase";
    /// The pod name format version on the workflow.
    pub const POD_NAME_FORMAT: &str = "workflows.argoproj.io/pod-name-format";
    /// A pod's node name.
    pub const NODE_NAME: &str = "workflows.argoproj.io/node-name";
    /// A pod's node id.
    pub const NODE_ID: &str = "workflows.argoproj.io/node-id";
    /// The pod GC strategy and delay on a pod.
    pub const POD_GC_STRATEGY: &str = "workflows.argoproj.io/pod-gc-strategy";
    /// A task result's outputs are all reported.
    pub const REPORT_OUTPUTS_COMPLETED: &str = "workflows.argoproj.io/report-outputs-completed";
    /// The container `kubectl logs` picks.
    pub const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";
}

/// Why a template invocation did not proceed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ExecError {
    /// A parallelism limit is reached: try again later.
    Parallelism,
    /// Anything else, with Argo's message.
    Other(String),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Parallelism => f.write_str("Max parallelism reached"),
            ExecError::Other(m) => f.write_str(m),
        }
    }
}

/// What the controller's loop must do after an operation.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Operate again after this long (a deadline, a TTL, a pending pod GC).
    pub requeue_after: Option<Duration>,
    /// The revision of the status write, if one was made.
    pub written_revision: Option<u64>,
    /// Whether a status write was attempted and conflicted.
    pub conflicted: bool,
    /// Pods to delete, each after a delay (pod GC).
    pub delete_pods_after: Vec<(Duration, String, String)>,
    /// The workflow was deleted (TTL).
    pub deleted: bool,
    /// Size in bytes of the status nodes written (JSON), and whether they were compressed.
    pub nodes_bytes: Option<(usize, bool)>,
    /// When the workflow started, to the nanosecond (status keeps whole seconds).
    pub started_at: Option<Timestamp>,
}

/// The inputs of one operation: the workflow and what the controller's caches hold for it.
pub(crate) struct Snapshot<'a> {
    /// The store, to create and delete pods and write the workflow.
    pub store: &'a Store,
    /// Settings.
    pub config: &'a Settings,
    /// The Workflow as last read.
    pub workflow: Arc<Value>,
    /// Its pods not yet labelled completed.
    pub pods: Vec<Arc<Value>>,
    /// Its task results.
    pub task_results: Vec<Arc<Value>>,
    /// When the workflow started, to the nanosecond, if this controller started it.
    pub started_at: Option<Timestamp>,
}

pub(crate) struct Op<'a> {
    pub store: &'a Store,
    pub config: &'a Settings,
    pub now: Timestamp,
    pub now_str: String,
    /// The workflow object being changed (status without nodes).
    pub wf: Value,
    pub orig: Arc<Value>,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub nodes: Nodes,
    pub updated: bool,
    pub exec: WorkflowSpec,
    pub globals: Params,
    pub pods: HashMap<String, Arc<Value>>,
    pub task_results: Vec<Arc<Value>>,
    pub active_pods: i64,
    pub workflow_deadline: Option<Timestamp>,
    pub requeue_after: Option<Duration>,
    pub task_result_status: BTreeMap<String, bool>,
    pub pod_name_version: String,
    pub outcome: Outcome,
    pub precise_start: Option<Timestamp>,
    /// Templates parsed once per operation, by name.
    pub templates: HashMap<String, Arc<(Value, Template)>>,
}

fn s<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// Runs one operation.
pub(crate) fn operate(snapshot: Snapshot<'_>) -> Outcome {
    let wf = (*snapshot.workflow).clone();
    let now = Timestamp::now();
    let name = s(&wf, "/metadata/name").to_string();
    let namespace = s(&wf, "/metadata/namespace").to_string();
    let uid = s(&wf, "/metadata/uid").to_string();
    let mut op = Op {
        store: snapshot.store,
        config: snapshot.config,
        now,
        now_str: rfc3339(now),
        wf,
        orig: snapshot.workflow.clone(),
        name,
        namespace,
        uid,
        nodes: Nodes::new(),
        updated: false,
        exec: WorkflowSpec::default(),
        globals: Params::new(),
        pods: snapshot
            .pods
            .iter()
            .map(|p| (pod_node_id(p, s(&snapshot.workflow, "/metadata/name")), p.clone()))
            .collect(),
        task_results: snapshot.task_results,
        active_pods: 0,
        workflow_deadline: None,
        requeue_after: None,
        task_result_status: BTreeMap::new(),
        pod_name_version: "v2".into(),
        outcome: Outcome::default(),
        precise_start: snapshot.started_at,
        templates: HashMap::new(),
    };
    if op.wf.pointer("/metadata/labels").and_then(|l| l.get(keys::COMPLETED)).and_then(Value::as_str) == Some("true") {
        op.completed_workflow();
        return op.outcome;
    }
    match packer::hydrate(op.wf.get("status").unwrap_or(&Value::Null)) {
        Ok(nodes) => op.nodes = nodes,
        Err(e) => {
            op.mark_workflow_phase(WorkflowPhase::Error, &e.to_string());
            op.persist();
            return op.outcome;
        }
    }
    op.task_result_status = op
        .wf
        .pointer("/status/taskResultsCompletionStatus")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_bool().unwrap_or(false))).collect())
        .unwrap_or_default();
    if let Some(v) =
        op.wf.pointer("/metadata/annotations").and_then(|a| a.get(keys::POD_NAME_FORMAT)).and_then(Value::as_str)
    {
        op.pod_name_version = v.to_string();
    }
    op.run();
    op.persist();
    op.outcome
}

fn pod_node_id(pod: &Value, workflow: &str) -> String {
    match pod.pointer("/metadata/annotations").and_then(|a| a.get(keys::NODE_ID)).and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => node_id(workflow, s(pod, "/metadata/annotations/workflows.argoproj.io~1node-name")),
    }
}

/// A workflow's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WorkflowPhase {
    Unknown,
    Pending,
    Running,
    Succeeded,
    Failed,
    Error,
}

impl WorkflowPhase {
    fn parse(text: &str) -> Self {
        match text {
            "Pending" => WorkflowPhase::Pending,
            "Running" => WorkflowPhase::Running,
            "Succeeded" => WorkflowPhase::Succeeded,
            "Failed" => WorkflowPhase::Failed,
            "Error" => WorkflowPhase::Error,
            _ => WorkflowPhase::Unknown,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            WorkflowPhase::Unknown => "",
            WorkflowPhase::Pending => "Pending",
            WorkflowPhase::Running => "Running",
            WorkflowPhase::Succeeded => "Succeeded",
            WorkflowPhase::Failed => "Failed",
            WorkflowPhase::Error => "Error",
        }
    }

    fn completed(self) -> bool {
        matches!(self, WorkflowPhase::Succeeded | WorkflowPhase::Failed | WorkflowPhase::Error)
    }
}

impl Op<'_> {
    pub fn phase(&self) -> WorkflowPhase {
        WorkflowPhase::parse(s(&self.wf, "/status/phase"))
    }

    fn status_mut(&mut self) -> &mut serde_json::Map<String, Value> {
        if !self.wf.get("status").is_some_and(Value::is_object) {
            self.wf["status"] = json!({});
        }
        match self.wf.get_mut("status") {
            Some(Value::Object(m)) => m,
            _ => unreachable!("status was just made an object"),
        }
    }

    fn set_label(&mut self, key: &str, value: &str) {
        if !self.wf.pointer("/metadata/labels").is_some_and(Value::is_object) {
            self.wf["metadata"]["labels"] = json!({});
        }
        self.wf["metadata"]["labels"][key] = json!(value);
    }

    fn label(&self, key: &str) -> Option<&str> {
        self.wf.pointer("/metadata/labels").and_then(|l| l.get(key)).and_then(Value::as_str)
    }

    /// Scales a controller duration by the cluster's time scale.
    pub fn scaled(&self, d: Duration) -> Duration {
        let scale = self.config.time_scale.max(0.0);
        Duration::from_secs_f64((d.as_secs_f64() * scale).min(1.0e9))
    }

    pub fn requeue_after(&mut self, d: Duration) {
        self.requeue_after = Some(self.requeue_after.map_or(d, |r| r.min(d)));
    }

    pub fn shutdown(&self) -> &str {
        &self.exec.shutdown
    }

    // ----- the operation -----

    fn run(&mut self) {
        if let Err(message) = self.set_exec_workflow() {
            if !message.is_empty() {
                self.mark_workflow_phase(WorkflowPhase::Error, &message);
            }
            return;
        }
        if self.phase().completed() {
            return;
        }
        self.task_result_reconciliation();
        if self.phase() == WorkflowPhase::Unknown {
            self.mark_workflow_phase(WorkflowPhase::Running, "");
            if !self.wf.pointer("/metadata/annotations").is_some_and(Value::is_object) {
                self.wf["metadata"]["annotations"] = json!({});
            }
            self.wf["metadata"]["annotations"][keys::POD_NAME_FORMAT] = json!("v2");
            self.pod_name_version = "v2".into();
            self.workflow_deadline = self.get_workflow_deadline();
            if let Some(d) = self.workflow_deadline {
                self.requeue_until(d);
            }
        } else {
            self.workflow_deadline = self.get_workflow_deadline();
            let completed = self.pod_reconciliation();
            self.fail_nodes_without_pods_after_deadline_or_shutdown();
            if !completed {
                self.requeue_after(self.config.min_operate_interval);
                return;
            }
        }
        if self.exec.suspend == Some(true) {
            return;
        }
        if self.exec.parallelism.is_some() {
            self.active_pods = self.count_active_pods("");
        }
        let entry = self.exec.entrypoint.clone();
        let args = self.exec.arguments.clone();
        let wf_name = self.name.clone();
        let (node, err) = self.execute_template(&wf_name, &entry, None, &args, "", None);
        if let Some(err) = err {
            match err {
                ExecError::Parallelism => {}
                ExecError::Other(m) => {
                    if !self.phase().completed() {
                        self.mark_workflow_phase(
                            WorkflowPhase::Error,
                            &format!("error in entry template execution: {m}"),
                        );
                    }
                }
            }
            return;
        }
        let Some(node) = node.and_then(|id| self.nodes.get(&id).cloned()) else { return };
        if !node.fulfilled() {
            return;
        }
        let phase = match node.phase {
            NodePhase::Failed => WorkflowPhase::Failed,
            NodePhase::Error => WorkflowPhase::Error,
            _ => WorkflowPhase::Succeeded,
        };
        let message = if node.phase.failed_or_error() && !self.shutdown().is_empty() {
            format!("Stopped with strategy '{}'", self.shutdown())
        } else {
            node.message.clone()
        };
        self.mark_workflow_phase(phase, if phase == WorkflowPhase::Succeeded { "" } else { &message });
    }

    fn requeue_until(&mut self, t: Timestamp) {
        let wait = t.as_nanosecond().saturating_sub(self.now.as_nanosecond()).max(0);
        self.requeue_after(Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX)));
    }

    /// The workflow deadline on the controller's clock: `startedAt` plus the scaled
    /// `activeDeadlineSeconds`. Argo counts from `startedAt` truncated to the second; with scaled
    /// time a lost fraction of a second would be many simulated seconds, so the exact start is used
    /// when this controller saw it. At time scale 0 no simulated time passes, so there is no
    /// deadline (as for the kubelet's pod deadlines).
    fn get_workflow_deadline(&self) -> Option<Timestamp> {
        let seconds = self.exec.active_deadline_seconds?;
        if self.config.time_scale <= 0.0 {
            return None;
        }
        let started = self.precise_start.or_else(|| naming::parse_time(s(&self.wf, "/status/startedAt")))?;
        let offset = self.scaled(Duration::from_secs(u64::try_from(seconds.max(0)).unwrap_or(0)));
        started.checked_add(jiff::SignedDuration::try_from(offset).ok()?).ok()
    }

    pub fn deadline_exceeded(&self) -> bool {
        self.workflow_deadline.is_some_and(|d| self.now > d)
    }

    // ----- the executed spec -----

    /// `setExecWorkflow`: the stored spec for a `workflowTemplateRef` (joined once, rejoined when
    /// `suspend` or `shutdown` change), validation on the first operation, global parameters,
    /// substitution of the spec, and the workflow's labels and annotations. An `Err` has already
    /// been recorded on the workflow when its message is empty.
    fn set_exec_workflow(&mut self) -> Result<(), String> {
        let first = self.phase() == WorkflowPhase::Unknown;
        let spec = self.wf.get("spec").cloned().unwrap_or(json!({}));
        let mut exec_raw = if let Some(tref) = spec.get("workflowTemplateRef") {
            if tref.get("clusterScope").and_then(Value::as_bool) == Some(true) {
                let m = subset::unsupported("ClusterWorkflowTemplates", "spec.workflowTemplateRef.clusterScope");
                self.mark_workflow_phase(WorkflowPhase::Failed, &format!("invalid spec: {m}"));
                return Err(String::new());
            }
            if spec.get("templates").and_then(Value::as_array).is_some_and(|t| !t.is_empty()) {
                self.mark_workflow_phase(
                    WorkflowPhase::Failed,
                    "invalid spec: Templates is invalid field in spec if workflow referred WorkflowTemplate reference",
                );
                return Err(String::new());
            }
            self.stored_spec(&spec, tref)?
        } else {
            spec.clone()
        };
        if first && let Err(m) = subset::check_spec(&exec_raw) {
            self.mark_workflow_phase(WorkflowPhase::Failed, &m);
            return Err(String::new());
        }
        let exec: WorkflowSpec = match serde_json::from_value(exec_raw.clone()) {
            Ok(e) => e,
            Err(e) => {
                self.mark_workflow_phase(WorkflowPhase::Failed, &format!("invalid spec: {e}"));
                return Err(String::new());
            }
        };
        if first {
            let mut label_keys: Vec<String> = self
                .wf
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let mut annotation_keys: Vec<String> = self
                .wf
                .pointer("/metadata/annotations")
                .and_then(Value::as_object)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            if let Some(md) = &exec.workflow_metadata {
                label_keys.extend(md.labels.keys().cloned());
                annotation_keys.extend(md.annotations.keys().cloned());
            }
            let ctx = validate::Context { name: &self.name, label_keys, annotation_keys };
            if let Err(m) = validate::validate(&exec, &ctx) {
                self.mark_workflow_phase(WorkflowPhase::Failed, &format!("invalid spec: {m}"));
                return Err(String::new());
            }
        }
        self.exec = exec;
        self.set_global_parameters();
        // substituteGlobalVariables: the spec except its templates.
        let templates = exec_raw.as_object_mut().and_then(|o| o.remove("templates"));
        let substituted =
            template::replace_value(&exec_raw, &Scope::new(&[&self.globals]), true).map_err(|e| e.to_string())?;
        let mut exec: WorkflowSpec = serde_json::from_value(substituted).map_err(|e| e.to_string())?;
        exec.templates = templates.and_then(|t| t.as_array().cloned()).unwrap_or_default();
        self.exec = exec;
        if first {
            self.update_workflow_metadata()?;
        }
        self.globals.insert("workflow.status".into(), s(&self.wf, "/status/phase").to_string());
        let duration = naming::parse_time(s(&self.wf, "/status/startedAt"))
            .map(|t| (self.now.as_nanosecond() - t.as_nanosecond()) as f64 / 1e9)
            .unwrap_or(0.0);
        self.globals.insert("workflow.duration".into(), format!("{duration:.6}"));
        Ok(())
    }

    /// `setStoredWfSpec`: the WorkflowTemplate's spec joined with the workflow's (`JoinWorkflowSpec`),
    /// kept in `status.storedWorkflowTemplateSpec`.
    fn stored_spec(&mut self, spec: &Value, tref: &Value) -> Result<Value, String> {
        let stored = self.wf.pointer("/status/storedWorkflowTemplateSpec").cloned();
        let needs_update = match &stored {
            None => true,
            Some(st) => {
                (spec.get("entrypoint").is_some_and(|e| e != "") && st.get("entrypoint").is_none_or(|e| e == ""))
                    || spec.get("suspend") != st.get("suspend")
                    || spec.get("shutdown") != st.get("shutdown")
            }
        };
        if !needs_update {
            return stored.ok_or_default();
        }
        let base = match &stored {
            Some(st) => st.clone(),
            None => {
                let name = tref.get("name").and_then(Value::as_str).unwrap_or_default();
                match self.store.get(Resource::WorkflowTemplates, &self.namespace, name) {
                    Ok(t) => t.get("spec").cloned().unwrap_or(json!({})),
                    Err(_) => {
                        let m = format!("workflowtemplates.argoproj.io \"{name}\" not found");
                        self.mark_workflow_phase(WorkflowPhase::Error, &m);
                        return Err(String::new());
                    }
                }
            }
        };
        let joined = join_workflow_spec(spec, &base);
        self.status_mut().insert("storedWorkflowTemplateSpec".into(), joined.clone());
        self.updated = true;
        Ok(joined)
    }

    fn set_global_parameters(&mut self) {
        let mut g = Params::new();
        g.insert("workflow.name".into(), self.name.clone());
        g.insert("workflow.namespace".into(), self.namespace.clone());
        g.insert("workflow.mainEntrypoint".into(), self.exec.entrypoint.clone());
        g.insert("workflow.serviceAccountName".into(), self.exec.service_account_name.clone());
        g.insert("workflow.uid".into(), self.uid.clone());
        let created = s(&self.wf, "/metadata/creationTimestamp").to_string();
        if let Some(t) = naming::parse_time(&created) {
            g.insert("workflow.creationTimestamp".into(), rfc3339(t));
            g.insert("workflow.creationTimestamp.RFC3339".into(), rfc3339(t));
            g.insert("workflow.creationTimestamp.s".into(), t.as_second().to_string());
        }
        let params = serde_json::to_value(&self.exec.arguments.parameters).unwrap_or(json!([]));
        let params_json = crate::gojson::marshal(&params, true);
        g.insert("workflow.parameters".into(), params_json.clone());
        g.insert("workflow.parameters.json".into(), params_json);
        for p in &self.exec.arguments.parameters {
            if let Some(v) = &p.value {
                g.insert(format!("workflow.parameters.{}", p.name), v.clone());
            }
        }
        for (prefix, pointer) in
            [("workflow.annotations", "/metadata/annotations"), ("workflow.labels", "/metadata/labels")]
        {
            let map = self.wf.pointer(pointer).cloned().unwrap_or(json!({}));
            let text = crate::gojson::marshal(&map, true);
            g.insert(prefix.to_string(), text.clone());
            g.insert(format!("{prefix}.json"), text);
            for (k, v) in map.as_object().into_iter().flatten() {
                g.insert(format!("{prefix}.{k}"), v.as_str().unwrap_or_default().to_string());
            }
        }
        self.globals = g;
        // workflowMetadata values, substituted, are what the workflow will carry.
        if let Some(md) = self.exec.workflow_metadata.clone() {
            for (prefix, map) in [("workflow.labels", &md.labels), ("workflow.annotations", &md.annotations)] {
                for (k, v) in map {
                    let value =
                        template::replace_str(v, &Scope::new(&[&self.globals]), true).unwrap_or_else(|_| v.clone());
                    self.globals.insert(format!("{prefix}.{k}"), value);
                }
            }
        }
    }

    /// `updateWorkflowMetadata`: `workflowMetadata` labels and annotations onto the workflow.
    fn update_workflow_metadata(&mut self) -> Result<(), String> {
        let Some(md) = self.exec.workflow_metadata.clone() else { return Ok(()) };
        for (k, v) in &md.labels {
            if let Err(e) = label_value_errors(v) {
                let m = format!("invalid label value {v:?} for label {k:?}: {e}");
                self.mark_workflow_phase(WorkflowPhase::Error, &m);
                return Err(String::new());
            }
            self.set_label(k, v);
            self.globals.insert(format!("workflow.labels.{k}"), v.clone());
        }
        if !md.annotations.is_empty() && !self.wf.pointer("/metadata/annotations").is_some_and(Value::is_object) {
            self.wf["metadata"]["annotations"] = json!({});
        }
        for (k, v) in &md.annotations {
            self.wf["metadata"]["annotations"][k] = json!(v);
            self.globals.insert(format!("workflow.annotations.{k}"), v.clone());
        }
        self.updated = true;
        Ok(())
    }

    // ----- the workflow's phase -----

    /// `markWorkflowPhase`.
    pub fn mark_workflow_phase(&mut self, phase: WorkflowPhase, message: &str) {
        if phase.completed() && self.task_results_in_progress() {
            return;
        }
        if self.phase() != phase {
            self.updated = true;
            self.status_mut().insert("phase".into(), json!(phase.as_str()));
            self.set_label(keys::PHASE, phase.as_str());
            if self.label(keys::COMPLETED).is_none() {
                self.set_label(keys::COMPLETED, "false");
            }
        }
        if s(&self.wf, "/status/startedAt").is_empty() && phase != WorkflowPhase::Pending {
            self.updated = true;
            let now = self.now_str.clone();
            self.status_mut().insert("startedAt".into(), json!(now));
            self.precise_start = Some(self.now);
            self.outcome.started_at = Some(self.now);
        }
        if s(&self.wf, "/status/message") != message {
            self.updated = true;
            if message.is_empty() {
                self.status_mut().remove("message");
            } else {
                self.status_mut().insert("message".into(), json!(message));
            }
        }
        if phase == WorkflowPhase::Error {
            let root = self.name.clone();
            if let Some(entry) = self.nodes.get_mut(&root)
                && entry.phase == NodePhase::Running
            {
                entry.phase = NodePhase::Error;
                entry.message = "Workflow operation error".into();
                self.updated = true;
            }
        }
        if phase.completed() {
            let now = self.now_str.clone();
            self.status_mut().insert("finishedAt".into(), json!(now));
            self.set_label(keys::COMPLETED, "true");
            self.upsert_condition("Completed", "True");
            self.updated = true;
        }
    }

    fn task_results_in_progress(&self) -> bool {
        self.task_result_status.values().any(|done| !done)
    }

    pub fn upsert_condition(&mut self, kind: &str, status: &str) {
        let condition = json!({"type": kind, "status": status});
        let status_map = self.status_mut();
        let list = status_map.entry("conditions").or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        let Some(items) = list.as_array_mut() else { return };
        match items.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some(kind)) {
            Some(c) => {
                if *c != condition {
                    *c = condition;
                    self.updated = true;
                }
            }
            None => {
                items.push(condition);
                self.updated = true;
            }
        }
    }

    // ----- nodes -----

    pub fn node_by_name(&self, name: &str) -> Option<&NodeStatus> {
        self.nodes.get(&node_id(&self.name, name))
    }

    pub fn id_of(&self, name: &str) -> String {
        node_id(&self.name, name)
    }

    pub fn template_scope(&self) -> String {
        format!("local/{}", self.name)
    }

    /// `initializeNode`.
    #[allow(clippy::too_many_arguments)]
    pub fn initialize_node(
        &mut self,
        name: &str,
        node_type: NodeType,
        template_name: &str,
        boundary_id: &str,
        phase: NodePhase,
        flag: Option<NodeFlag>,
        message: Option<&str>,
    ) -> String {
        let id = self.id_of(name);
        let mut node = NodeStatus::new(id.clone(), name.to_string(), node_type);
        node.template_name = template_name.to_string();
        node.template_scope = self.template_scope();
        node.boundary_id = boundary_id.to_string();
        node.phase = phase;
        node.node_flag = flag;
        node.started_at = Some(self.now_str.clone());
        let boundary_name = self.nodes.get(boundary_id).map(|b| b.name.clone());
        node.display_name = naming::display_name(name, boundary_name.as_deref());
        if node.phase.fulfilled() {
            node.finished_at = node.started_at.clone();
        }
        if let Some(m) = message {
            node.message = m.to_string();
        }
        self.nodes.insert(id.clone(), node);
        self.updated = true;
        id
    }

    /// `initializeExecutableNode`: a node with its template's inputs.
    #[allow(clippy::too_many_arguments)]
    pub fn initialize_executable_node(
        &mut self,
        name: &str,
        node_type: NodeType,
        tmpl: &Template,
        step_template: &str,
        boundary_id: &str,
        phase: NodePhase,
        flag: Option<NodeFlag>,
    ) -> String {
        let id = self.initialize_node(name, node_type, step_template, boundary_id, phase, flag, None);
        if !tmpl.inputs.parameters.is_empty()
            && let Some(node) = self.nodes.get_mut(&id)
        {
            node.inputs = Some(Inputs { parameters: tmpl.inputs.parameters.clone() });
        }
        id
    }

    /// `markNodePhase`.
    pub fn mark_node_phase(&mut self, name: &str, phase: NodePhase, message: Option<&str>) -> String {
        let id = self.id_of(name);
        let now = self.now_str.clone();
        let node =
            self.nodes.entry(id.clone()).or_insert_with(|| NodeStatus::new(id.clone(), String::new(), NodeType::Pod));
        let mut changed = false;
        if node.phase != phase {
            node.phase = phase;
            changed = true;
        }
        if let Some(m) = message
            && node.message != m
        {
            node.message = m.to_string();
            changed = true;
        }
        if node.fulfilled() && node.finished_at.is_none() {
            node.finished_at = Some(now);
            changed = true;
        }
        if changed {
            self.updated = true;
        }
        id
    }

    pub fn mark_node_error(&mut self, name: &str, message: &str) -> String {
        self.mark_node_phase(name, NodePhase::Error, Some(message))
    }

    /// `initializeNodeOrMarkError`.
    pub fn initialize_node_or_mark_error(
        &mut self,
        existing: bool,
        name: &str,
        template_name: &str,
        boundary_id: &str,
        flag: Option<NodeFlag>,
        message: &str,
    ) -> String {
        if existing {
            return self.mark_node_error(name, message);
        }
        self.initialize_node(name, NodeType::Skipped, template_name, boundary_id, NodePhase::Error, flag, Some(message))
    }

    /// `addChildNode`.
    pub fn add_child(&mut self, parent: &str, child: &str) {
        let child_id = self.id_of(child);
        let parent_id = self.id_of(parent);
        if let Some(p) = self.nodes.get_mut(&parent_id)
            && !p.children.contains(&child_id)
        {
            p.children.push(child_id);
            self.updated = true;
        }
    }

    /// Pods, Steps and DAG nodes of a boundary that are Pending or Running (`getActiveChildren`).
    pub fn count_active_children(&self, boundary_id: &str) -> i64 {
        self.nodes
            .values()
            .filter(|n| {
                n.boundary_id == boundary_id
                    && matches!(n.node_type, NodeType::Pod | NodeType::Steps | NodeType::Dag)
                    && matches!(n.phase, NodePhase::Pending | NodePhase::Running)
            })
            .count() as i64
    }

    /// Pod nodes (of a boundary, or all) Pending or Running whose pod exists (`getActivePods`).
    pub fn count_active_pods(&self, boundary_id: &str) -> i64 {
        self.nodes
            .values()
            .filter(|n| {
                n.node_type == NodeType::Pod
                    && (boundary_id.is_empty() || n.boundary_id == boundary_id)
                    && matches!(n.phase, NodePhase::Pending | NodePhase::Running)
                    && self.pods.contains_key(&n.id)
            })
            .count() as i64
    }

    /// Whether every node below (and including) this one is fulfilled.
    pub fn children_fulfilled(&self, id: &str) -> bool {
        let mut stack = vec![id.to_string()];
        let mut seen = std::collections::HashSet::new();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let Some(node) = self.nodes.get(&id) else { continue };
            if node.children.is_empty() {
                if !node.fulfilled() {
                    return false;
                }
            } else {
                stack.extend(node.children.iter().cloned());
            }
        }
        true
    }

    /// The attempts of a Retry node (`getChildNodeIdsRetried`) and the last one.
    pub fn retry_children(&self, retry_id: &str) -> (Vec<String>, Option<NodeStatus>) {
        let Some(node) = self.nodes.get(retry_id) else { return (Vec::new(), None) };
        let ids: Vec<String> =
            node.children.iter().filter(|c| self.nodes.get(*c).is_some_and(NodeStatus::retried)).cloned().collect();
        let last = ids.last().and_then(|id| self.nodes.get(id)).cloned();
        (ids, last)
    }

    /// `woc.retryStrategy`: the template's, else the workflow's.
    pub fn retry_strategy(&self, tmpl: &Template) -> Option<RetryStrategy> {
        tmpl.retry_strategy.clone().or_else(|| self.exec.retry_strategy.clone())
    }

    // ----- templates -----

    /// `executeTemplate`.
    pub fn execute_template(
        &mut self,
        node_name: &str,
        template_name: &str,
        step_name: Option<&str>,
        args: &Arguments,
        boundary_id: &str,
        flag: Option<NodeFlag>,
    ) -> (Option<String>, Option<ExecError>) {
        let existing = self.node_by_name(node_name).is_some();
        let parsed = match self.parsed_template(template_name) {
            Ok(p) => p,
            Err(m) => {
                let id = self.initialize_node_or_mark_error(existing, node_name, template_name, boundary_id, flag, &m);
                return (Some(id), Some(ExecError::Other(m)));
            }
        };
        let (raw, resolved) = (&parsed.0, &parsed.1);
        // A fulfilled node is done, and a node that cannot start for parallelism waits: neither needs
        // its template processed (Argo processes it first; the outcome is the same).
        if let Some(node) = self.node_by_name(node_name)
            && node.fulfilled()
        {
            return (Some(node.id.clone()), None);
        }
        let node_id_opt = self.node_by_name(node_name).map(|n| n.id.clone());
        if let Err(e) = self.check_parallelism(resolved, node_id_opt.as_deref(), boundary_id) {
            return (node_id_opt, Some(e));
        }
        let mut locals = Params::new();
        if resolved.is_pod_type() && self.retry_strategy(resolved).is_none() {
            locals.insert("pod.name".into(), self.pod_name_for(node_name, &resolved.name));
        }
        if let Some(step) = step_name {
            locals.insert("steps.name".into(), step.to_string());
        }
        locals.insert("node.name".into(), node_name.to_string());
        let mut processed_raw = match validate::process_args(raw, resolved, args, &self.globals, &locals) {
            Ok(v) => v,
            Err(m) => {
                let id = self.initialize_node_or_mark_error(existing, node_name, template_name, boundary_id, flag, &m);
                return (Some(id), Some(ExecError::Other(m)));
            }
        };
        let mut processed: Template = match serde_json::from_value(processed_raw.clone()) {
            Ok(t) => t,
            Err(e) => return (None, Some(ExecError::Other(e.to_string()))),
        };
        let mut node_name = node_name.to_string();
        let mut flag = flag;
        let mut retry_name: Option<String> = None;
        if let Some(strategy) = self.retry_strategy(&processed) {
            let rname = node_name.clone();
            let retry_id = match self.node_by_name(&rname) {
                Some(n) => n.id.clone(),
                None => self.initialize_executable_node(
                    &rname,
                    NodeType::Retry,
                    &processed,
                    template_name,
                    boundary_id,
                    NodePhase::Running,
                    flag.clone(),
                ),
            };
            let mut attempt_flag = flag.clone().unwrap_or_default();
            attempt_flag.retried = true;
            flag = Some(attempt_flag);
            match self.process_node_retries(&retry_id, &strategy) {
                Err(m) => {
                    let id = self.mark_node_error(&rname, &m);
                    return (Some(id), Some(ExecError::Other(m)));
                }
                Ok(false) => return (Some(retry_id), None),
                Ok(true) => {}
            }
            let (child_ids, last_child) = self.retry_children(&retry_id);
            if self.nodes.get(&retry_id).is_some_and(NodeStatus::fulfilled) && self.children_fulfilled(&retry_id) {
                if let Some(last) = &last_child {
                    let outputs = last.outputs.clone();
                    if let Some(r) = self.nodes.get_mut(&retry_id)
                        && r.outputs != outputs
                    {
                        r.outputs = outputs;
                        self.updated = true;
                    }
                }
                return (Some(retry_id), None);
            }
            let retry_num = match &last_child {
                Some(last) if !last.fulfilled() => {
                    node_name = last.name.clone();
                    child_ids.len() - 1
                }
                _ => {
                    let n = child_ids.len();
                    node_name = format!("{rname}({n})");
                    self.add_child(&rname, &node_name);
                    n
                }
            };
            let mut locals = Params::new();
            locals.insert("pod.name".into(), self.pod_name_for(&node_name, &processed.name));
            locals.insert("retries".into(), retry_num.to_string());
            let (exit, duration, status, message) = match &last_child {
                Some(l) => (
                    l.outputs.as_ref().and_then(|o| o.exit_code.clone()).unwrap_or_else(|| "0".into()),
                    node_duration(l),
                    l.phase.as_str().to_string(),
                    l.message.clone(),
                ),
                None => ("0".into(), "0".into(), String::new(), String::new()),
            };
            locals.insert("retries.lastExitCode".into(), exit);
            locals.insert("retries.lastDuration".into(), duration);
            locals.insert("retries.lastStatus".into(), status);
            locals.insert("retries.lastMessage".into(), message);
            processed_raw = match template::replace_value(&processed_raw, &Scope::new(&[&self.globals, &locals]), true)
            {
                Ok(v) => v,
                Err(e) => {
                    let m = e.to_string();
                    let existing = self.node_by_name(&node_name).is_some();
                    let id =
                        self.initialize_node_or_mark_error(existing, &node_name, template_name, boundary_id, flag, &m);
                    return (Some(id), Some(ExecError::Other(m)));
                }
            };
            processed = match serde_json::from_value(processed_raw.clone()) {
                Ok(t) => t,
                Err(e) => return (None, Some(ExecError::Other(e.to_string()))),
            };
            retry_name = Some(rname);
        }
        let result = if processed.steps.is_some() {
            self.execute_steps(&node_name, &processed, template_name, boundary_id, flag)
        } else {
            self.execute_container(&node_name, &processed, &processed_raw, template_name, boundary_id, flag)
        };
        if let Err(err) = result {
            let id = self.mark_node_error(&node_name, &err.to_string());
            let retried_on_error = self
                .retry_strategy(&processed)
                .is_some_and(|r| matches!(r.policy(), "Always" | "OnError" | "OnTransientError"));
            if !retried_on_error {
                return (Some(id), Some(err));
            }
        }
        let Some(node) = self.node_by_name(&node_name).cloned() else {
            return (None, None);
        };
        if let Some(rname) = retry_name {
            let retry = self.node_by_name(&rname).cloned();
            if let Some(retry) = retry {
                if !retry.fulfilled() && node.fulfilled() {
                    let (id, err) = self.execute_template(&rname, template_name, step_name, args, boundary_id, None);
                    if let Some(err) = err {
                        let id = self.mark_node_error(&node.name, &err.to_string());
                        return (Some(id), Some(err));
                    }
                    return (id, None);
                }
                return (Some(retry.id), None);
            }
        }
        (Some(node.id), None)
    }

    /// A template by name, parsed once per operation.
    fn parsed_template(&mut self, name: &str) -> Result<Arc<(Value, Template)>, String> {
        if let Some(t) = self.templates.get(name) {
            return Ok(t.clone());
        }
        let raw = self.exec.template(name).cloned().ok_or_else(|| format!("template {name} not found"))?;
        let parsed: Template = serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
        let entry = Arc::new((raw, parsed));
        self.templates.insert(name.to_string(), entry.clone());
        Ok(entry)
    }

    pub fn pod_name_for(&self, node_name: &str, template_name: &str) -> String {
        if self.pod_name_version == "v1" {
            return self.id_of(node_name);
        }
        naming::pod_name(&self.name, node_name, template_name)
    }

    /// `checkParallelism` for the workflow, the template and the boundary.
    fn check_parallelism(
        &mut self,
        tmpl: &Template,
        node_id: Option<&str>,
        boundary_id: &str,
    ) -> Result<(), ExecError> {
        if let Some(p) = self.exec.parallelism
            && self.active_pods >= p
        {
            return Err(ExecError::Parallelism);
        }
        if let Some(id) = node_id
            && tmpl.steps.is_some()
            && let Some(p) = tmpl.parallelism
            && self.count_active_pods(id) >= p
        {
            return Err(ExecError::Parallelism);
        }
        let unstarted = node_id
            .and_then(|id| self.nodes.get(id))
            .is_none_or(|n| !matches!(n.phase, NodePhase::Pending | NodePhase::Running));
        if !boundary_id.is_empty() && unstarted {
            let Some(boundary) = self.nodes.get(boundary_id) else { return Ok(()) };
            let boundary_template = boundary.template_name.clone();
            let parallelism =
                self.exec.template(&boundary_template).and_then(|t| t.get("parallelism")).and_then(Value::as_i64);
            if let Some(p) = parallelism
                && self.count_active_children(boundary_id) >= p
            {
                return Err(ExecError::Parallelism);
            }
        }
        Ok(())
    }

    /// `processNodeRetries`: decides a Retry node from its last attempt. `Ok(true)`: carry on (a
    /// new attempt may be needed), `Ok(false)`: wait.
    fn process_node_retries(&mut self, retry_id: &str, strategy: &RetryStrategy) -> Result<bool, String> {
        let Some(node) = self.nodes.get(retry_id).cloned() else { return Ok(true) };
        if node.fulfilled() {
            return Ok(true);
        }
        let (child_ids, last) = self.retry_children(retry_id);
        let Some(last) = last else { return Ok(true) };
        if !last.fulfilled() {
            return Ok(true);
        }
        if !last.phase.failed_or_error() {
            if let Some(r) = self.nodes.get_mut(retry_id) {
                r.outputs = last.outputs.clone();
            }
            self.mark_node_phase(&node.name, NodePhase::Succeeded, None);
            return Ok(true);
        }
        if !self.shutdown().is_empty() || self.deadline_exceeded() {
            let message = if !self.shutdown().is_empty() {
                format!("Stopped with strategy '{}'", self.shutdown())
            } else {
                let d = self.workflow_deadline.map(naming::go_time_string).unwrap_or_default();
                format!("retry exceeded workflow deadline {d}")
            };
            self.mark_node_phase(&node.name, last.phase, Some(&message));
            return Ok(true);
        }
        let (on_failed, on_error) = match strategy.policy() {
            "Always" => (true, true),
            "OnError" => (false, true),
            "OnFailure" => (true, false),
            "OnTransientError" => {
                // Argo retries only errors it classifies as transient (network, API server
                // throttling): no such error is produced here.
                (false, false)
            }
            other => return Err(format!("{other} is not a valid RetryPolicy")),
        };
        if (last.phase == NodePhase::Failed && !on_failed) || (last.phase == NodePhase::Error && !on_error) {
            self.mark_node_phase(&node.name, last.phase, Some(&last.message));
            return Ok(true);
        }
        if let Some(limit) = strategy.limit()
            && child_ids.len() as i64 > limit
        {
            self.mark_node_phase(&node.name, last.phase, Some("No more retries left"));
            return Ok(true);
        }
        Ok(true)
    }

    // ----- persistence -----

    /// `persistUpdates`: progress, compression, one update with the read resourceVersion.
    fn persist(&mut self) {
        if self.task_result_status_changed() {
            self.updated = true;
        }
        if !self.updated {
            self.outcome.requeue_after = self.requeue_after;
            return;
        }
        update_progress(&mut self.nodes);
        let workflow_progress = workflow_progress(&self.nodes);
        let status_keys: Vec<(&str, Value)> = vec![
            ("progress", json!(workflow_progress)),
            ("taskResultsCompletionStatus", serde_json::to_value(&self.task_result_status).unwrap_or(json!({}))),
        ];
        for (k, v) in status_keys {
            if v == json!("") || v == json!({}) {
                self.status_mut().remove(k);
            } else {
                self.status_mut().insert(k.to_string(), v);
            }
        }
        if self.wf.pointer("/status/finishedAt").is_none() {
            self.status_mut().insert("finishedAt".into(), Value::Null);
        }
        self.status_mut()
            .entry("artifactRepositoryRef")
            .or_insert_with(|| json!({"default": true, "artifactRepository": {}}));
        self.status_mut().entry("artifactGCStatus").or_insert_with(|| json!({"notSpecified": true}));
        // The workflow's JSON size as Argo measures it (`json.Marshal(wf)`): the status without
        // nodes, plus `,"nodes":` and the nodes — serialised once.
        self.status_mut().remove("compressedNodes");
        self.status_mut().remove("nodes");
        let nodes_raw = serde_json::to_vec(&self.nodes).unwrap_or_default();
        let node_bytes = nodes_raw.len();
        let base = serde_json::to_vec(&self.wf).map(|b| b.len()).unwrap_or(0);
        let mut compressed = false;
        if !self.nodes.is_empty() {
            if base + ",\"nodes\":".len() + node_bytes > self.config.max_workflow_size {
                match packer::compress_encode(&nodes_raw) {
                    Ok(text) => {
                        let size = base + ",\"compressedNodes\":\"\"".len() + text.len();
                        if size > self.config.max_workflow_size {
                            let err = packer::PackError::TooLarge { size, max: self.config.max_workflow_size };
                            self.persist_size_error(&err.to_string());
                            return;
                        }
                        self.status_mut().insert("compressedNodes".into(), json!(text));
                        compressed = true;
                    }
                    Err(e) => {
                        self.persist_size_error(&e.to_string());
                        return;
                    }
                }
            } else {
                let nodes_json = serde_json::to_value(&self.nodes).unwrap_or(json!({}));
                self.status_mut().insert("nodes".into(), nodes_json);
            }
        }
        self.outcome.nodes_bytes = Some((node_bytes, compressed));
        let rv = s(&self.orig, "/metadata/resourceVersion").to_string();
        self.wf["metadata"]["resourceVersion"] = json!(rv);
        let result =
            self.store.update(Resource::Workflows, &self.namespace, &self.name, self.wf.clone(), UpdateScope::Main);
        match result {
            Ok(written) => {
                self.outcome.written_revision =
                    written.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|v| v.parse().ok());
                self.after_persist();
            }
            Err(e) if e.code == 409 => self.outcome.conflicted = true,
            Err(_) => {}
        }
        self.outcome.requeue_after = self.requeue_after;
    }

    /// `persistWorkflowSizeLimitErr`: the workflow as read, marked Error with the size message.
    fn persist_size_error(&mut self, message: &str) {
        let mut wf = (*self.orig).clone();
        std::mem::swap(&mut self.wf, &mut wf);
        match packer::hydrate(self.wf.get("status").unwrap_or(&Value::Null)) {
            Ok(nodes) => self.nodes = nodes,
            Err(_) => self.nodes.clear(),
        }
        self.task_result_status.clear();
        self.mark_workflow_phase(WorkflowPhase::Error, message);
        let result =
            self.store.update(Resource::Workflows, &self.namespace, &self.name, self.wf.clone(), UpdateScope::Main);
        if let Ok(written) = result {
            self.outcome.written_revision =
                written.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|v| v.parse().ok());
        }
    }

    fn task_result_status_changed(&self) -> bool {
        let old: BTreeMap<String, bool> = self
            .orig
            .pointer("/status/taskResultsCompletionStatus")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_bool().unwrap_or(false))).collect())
            .unwrap_or_default();
        old != self.task_result_status
    }

    /// After a successful write: task results of a finished workflow go, pods are labelled
    /// completed or garbage-collected.
    fn after_persist(&mut self) {
        let completed = self.phase().completed();
        if completed {
            for tr in &self.task_results {
                let name = s(tr, "/metadata/name").to_string();
                let _ =
                    self.store.delete(Resource::WorkflowTaskResults, &self.namespace, &name, &DeleteOptions::default());
            }
            if let Some(d) = self.ttl_remaining() {
                self.requeue_after(d);
            }
        }
        self.queue_pods_for_cleanup();
    }

    /// TTL: how long until the finished workflow is deleted.
    fn ttl_remaining(&self) -> Option<Duration> {
        let ttl =
            self.exec.ttl_strategy.clone().or_else(|| {
                self.wf.pointer("/spec/ttlStrategy").and_then(|v| serde_json::from_value(v.clone()).ok())
            })?;
        let phase = self.phase();
        let seconds = if phase == WorkflowPhase::Failed && ttl.seconds_after_failure.is_some() {
            ttl.seconds_after_failure
        } else if phase == WorkflowPhase::Succeeded && ttl.seconds_after_success.is_some() {
            ttl.seconds_after_success
        } else {
            ttl.seconds_after_completion
        }?;
        let finished = naming::parse_time(s(&self.wf, "/status/finishedAt"))?;
        let ttl = self.scaled(Duration::from_secs(u64::try_from(seconds.max(0)).unwrap_or(0)));
        let expiry = finished.as_nanosecond() + i128::try_from(ttl.as_nanos()).unwrap_or(i128::MAX / 2);
        let wait = (expiry - self.now.as_nanosecond()).max(0);
        Some(Duration::from_nanos(u64::try_from(wait).unwrap_or(u64::MAX)))
    }

    /// A completed workflow: only its TTL and its pods' garbage collection remain.
    fn completed_workflow(&mut self) {
        if let Ok(spec) = serde_json::from_value::<WorkflowSpec>(
            self.wf
                .pointer("/status/storedWorkflowTemplateSpec")
                .or_else(|| self.wf.get("spec"))
                .cloned()
                .unwrap_or(json!({})),
        ) {
            self.exec = spec;
        }
        if let Some(remaining) = self.ttl_remaining() {
            if remaining.is_zero() {
                let deleted = self.store.delete(
                    Resource::Workflows,
                    &self.namespace,
                    &self.name,
                    &DeleteOptions {
                        propagation: Some(embedded_cluster::store::Propagation::Background),
                        ..Default::default()
                    },
                );
                self.outcome.deleted = deleted.is_ok();
                return;
            }
            self.requeue_after(remaining);
        }
        if let Ok(nodes) = packer::hydrate(self.wf.get("status").unwrap_or(&Value::Null)) {
            self.nodes = nodes;
        }
        self.queue_pods_for_cleanup();
        self.outcome.requeue_after = self.requeue_after;
    }
}

fn node_duration(node: &NodeStatus) -> String {
    let (Some(a), Some(b)) = (
        node.started_at.as_deref().and_then(naming::parse_time),
        node.finished_at.as_deref().and_then(naming::parse_time),
    ) else {
        return "0".into();
    };
    let secs = (b.as_nanosecond() - a.as_nanosecond()) as f64 / 1e9;
    format!("{secs}")
}

trait OkOrDefault {
    fn ok_or_default(self) -> Result<Value, String>;
}

impl OkOrDefault for Option<Value> {
    fn ok_or_default(self) -> Result<Value, String> {
        Ok(self.unwrap_or(json!({})))
    }
}

fn label_value_errors(value: &str) -> Result<(), String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !value.is_empty() && kube_grammar::selector::validate_label_value(&value[..value.len().min(63)]).is_err()
        || (!value.is_empty() && {
            let b = value.as_bytes();
            !(b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')))
        })
    {
        errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_string());
    }
    if errs.is_empty() { Ok(()) } else { Err(errs.join(";")) }
}

/// `JoinWorkflowSpec`: the template's spec with the workflow's fields over it (templates and
/// volumes merged by name), arguments merged by name (the workflow's first), `suspend` and
/// `shutdown` from the workflow.
pub fn join_workflow_spec(wf_spec: &Value, template_spec: &Value) -> Value {
    let mut out = template_spec.clone();
    if !out.is_object() {
        out = json!({});
    }
    for (k, v) in wf_spec.as_object().into_iter().flatten() {
        match k.as_str() {
            "arguments" => {}
            "templates" | "volumes" => {
                let merged = merge_by_name(out.get(k.as_str()), v);
                out[k.as_str()] = merged;
            }
            _ => {
                out[k.as_str()] = v.clone();
            }
        }
    }
    let mut params: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for list in [wf_spec.pointer("/arguments/parameters"), template_spec.pointer("/arguments/parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            if seen.insert(name) {
                params.push(p.clone());
            }
        }
    }
    if !params.is_empty() {
        out["arguments"] = json!({"parameters": params});
    }
    for key in ["suspend", "shutdown"] {
        match wf_spec.get(key) {
            Some(v) => out[key] = v.clone(),
            None => {
                if let Some(o) = out.as_object_mut() {
                    o.remove(key);
                }
            }
        }
    }
    out
}

fn merge_by_name(base: Option<&Value>, over: &Value) -> Value {
    let mut list: Vec<Value> = base.and_then(Value::as_array).cloned().unwrap_or_default();
    for item in over.as_array().into_iter().flatten() {
        let name = item.get("name");
        match list.iter_mut().find(|x| x.get("name") == name) {
            Some(existing) => *existing = item.clone(),
            None => list.push(item.clone()),
        }
    }
    Value::Array(list)
}

/// `progress.UpdateProgress` for the nodes: pods default to `0/1` and complete when done; other
/// nodes sum their children's pods.
pub fn update_progress(nodes: &mut Nodes) {
    let executable = |t: NodeType| {
        matches!(t, NodeType::Pod | NodeType::Http | NodeType::Plugin | NodeType::Container | NodeType::Suspend)
    };
    for node in nodes.values_mut() {
        if !executable(node.node_type) {
            continue;
        }
        if node.progress.is_empty() {
            node.progress = Progress::DEFAULT.to_string();
        }
        let Some(p) = Progress::parse(&node.progress) else { continue };
        if !p.is_valid() {
            continue;
        }
        if matches!(node.phase, NodePhase::Succeeded | NodePhase::Skipped | NodePhase::Omitted) {
            node.progress = p.complete().to_string();
        }
    }
    // Memoised sums: a child's subtree progress is the same whoever asks.
    let ids: Vec<String> = nodes.keys().cloned().collect();
    let mut sums: HashMap<String, Progress> = HashMap::new();
    for id in &ids {
        let Some(node) = nodes.get(id) else { continue };
        if executable(node.node_type) {
            continue;
        }
        let mut visited = std::collections::HashSet::new();
        let p = sum_progress(nodes, id, &mut visited, &executable);
        sums.insert(id.clone(), p);
    }
    for (id, p) in sums {
        if p.is_valid()
            && let Some(node) = nodes.get_mut(&id)
        {
            node.progress = p.to_string();
        }
    }
}

fn sum_progress(
    nodes: &Nodes,
    id: &str,
    visited: &mut std::collections::HashSet<String>,
    executable: &dyn Fn(NodeType) -> bool,
) -> Progress {
    let mut total = Progress::ZERO;
    let mut stack: Vec<String> = nodes.get(id).map(|n| n.children.clone()).unwrap_or_default();
    stack.reverse();
    while let Some(child_id) = stack.pop() {
        if !visited.insert(child_id.clone()) {
            continue;
        }
        let Some(child) = nodes.get(&child_id) else { continue };
        if executable(child.node_type)
            && let Some(p) = Progress::parse(&child.progress)
            && p.is_valid()
        {
            total = total.plus(p);
        }
        for c in child.children.iter().rev() {
            stack.push(c.clone());
        }
    }
    total
}

/// The workflow's progress: the sum of its pods'.
pub fn workflow_progress(nodes: &Nodes) -> String {
    let mut total = Progress::ZERO;
    for node in nodes.values() {
        if matches!(
            node.node_type,
            NodeType::Pod | NodeType::Http | NodeType::Plugin | NodeType::Container | NodeType::Suspend
        ) && let Some(p) = Progress::parse(&node.progress)
            && p.is_valid()
        {
            total = total.plus(p);
        }
    }
    total.to_string()
}
