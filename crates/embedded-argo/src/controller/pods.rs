//! Pods the way Argo makes and reads them (`workflowpod.go`, `podReconciliation`,
//! `assessNodeStatus`, `inferFailedReason`, `exec_control.go`, `pod_cleanup.go`): one pod per
//! container node with a `wait` and a `main` container, the node's phase and message from the
//! pod's status, task results merged into outputs, shutdown and deadlines applied to running pods,
//! finished pods labelled completed or garbage-collected.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::operate::{ExecError, Op, WorkflowPhase, keys};
use crate::naming;
use crate::spec::Template;
use crate::status::{NodeFlag, NodePhase, NodeStatus, NodeType, Outputs, Progress};
use embedded_cluster::store::resource::Resource;
use embedded_cluster::store::{DeleteOptions, UpdateScope};

const VAR_RUN_ARGO: &str = "/var/run/argo";
const LOG_OPTS: [&str; 6] = ["--loglevel", "info", "--log-format", "text", "--gloglevel", "0"];

fn s<'v>(v: &'v Value, pointer: &str) -> &'v str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn container_statuses(pod: &Value) -> Vec<Value> {
    pod.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default()
}

impl Op<'_> {
    /// `executeContainer`.
    pub(crate) fn execute_container(
        &mut self,
        node_name: &str,
        tmpl: &Template,
        raw: &Value,
        step_template: &str,
        boundary_id: &str,
        flag: Option<NodeFlag>,
    ) -> Result<(), ExecError> {
        if self.node_by_name(node_name).is_none() {
            self.initialize_executable_node(
                node_name,
                NodeType::Pod,
                tmpl,
                step_template,
                boundary_id,
                NodePhase::Pending,
                flag,
            );
        }
        self.create_workflow_pod(node_name, tmpl, raw).map_err(ExecError::Other)
    }

    /// `createWorkflowPod`.
    fn create_workflow_pod(&mut self, node_name: &str, tmpl: &Template, raw: &Value) -> Result<(), String> {
        let id = self.id_of(node_name);
        if self.pods.contains_key(&id) {
            return Ok(());
        }
        if !self.shutdown().is_empty() {
            let message = format!("workflow shutdown with strategy: {}", self.shutdown());
            self.mark_node_phase(node_name, NodePhase::Failed, Some(&message));
            return Ok(());
        }
        let template_deadline = tmpl.active_deadline_seconds();
        let active_deadline = match self.workflow_deadline {
            None => template_deadline,
            Some(deadline) => {
                let remaining_real = (deadline.as_nanosecond() - self.now.as_nanosecond()) as f64 / 1e9;
                let remaining = (remaining_real / self.config.time_scale.max(f64::MIN_POSITIVE)) as i64;
                if remaining <= 0 {
                    return Ok(());
                }
                match template_deadline {
                    Some(t) if t <= remaining => Some(t),
                    _ => Some(remaining),
                }
            }
        };
        let pod = self.build_pod(node_name, &id, tmpl, raw, active_deadline)?;
        match self.store.create(Resource::Pods, pod) {
            Ok(created) => {
                self.pods.insert(id, created);
                self.active_pods += 1;
                Ok(())
            }
            Err(e) if e.code == 409 => Ok(()),
            Err(e) => Err(e.message),
        }
    }

    fn build_pod(
        &self,
        node_name: &str,
        id: &str,
        tmpl: &Template,
        raw: &Value,
        active_deadline: Option<i64>,
    ) -> Result<Value, String> {
        let pod_name = self.pod_name_for(node_name, &tmpl.name);
        let mut labels = serde_json::Map::new();
        labels.insert(keys::WORKFLOW.into(), json!(self.name));
        labels.insert(keys::COMPLETED.into(), json!("false"));
        let mut annotations = serde_json::Map::new();
        annotations.insert(keys::NODE_NAME.into(), json!(node_name));
        annotations.insert(keys::NODE_ID.into(), json!(id));
        annotations.insert(keys::DEFAULT_CONTAINER.into(), json!("main"));
        if let Some(gc) = &self.exec.pod_gc {
            let strategy = gc.strategy.clone();
            let delay = self.pod_gc_delay();
            annotations.insert(
                keys::POD_GC_STRATEGY.into(),
                json!(format!("{strategy}/{}", naming::go_duration(delay.as_nanos() as i128))),
            );
        }
        for md in [self.exec.pod_metadata.as_ref(), Some(&tmpl.metadata)].into_iter().flatten() {
            for (k, v) in &md.annotations {
                annotations.insert(k.clone(), json!(v));
            }
            for (k, v) in &md.labels {
                labels.insert(k.clone(), json!(v));
            }
        }
        // The template as the executor reads it: inputs reduced to artifacts (none here).
        let mut simplified = raw.clone();
        simplified["inputs"] = json!({});
        let template_json = serde_json::to_string(&simplified).map_err(|e| e.to_string())?;
        let deadline = self.workflow_deadline.map(naming::rfc3339).unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
        let argo_env = |container: &str| {
            vec![
                env("ARGO_CONTAINER_NAME", container),
                env("ARGO_TEMPLATE", &template_json),
                env("ARGO_NODE_ID", id),
                env("ARGO_INCLUDE_SCRIPT_OUTPUT", "false"),
                env("ARGO_DEADLINE", &deadline),
            ]
        };
        let mut main = tmpl.container.clone().unwrap_or(json!({}));
        main["name"] = json!("main");
        let original: Vec<Value> = main.get("command").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut command: Vec<Value> = vec![json!(format!("{VAR_RUN_ARGO}/argoexec")), json!("emissary")];
        command.extend(LOG_OPTS.iter().map(|o| json!(o)));
        command.push(json!("--"));
        command.extend(original);
        main["command"] = Value::Array(command);
        let mut main_env = main.get("env").and_then(Value::as_array).cloned().unwrap_or_default();
        main_env.extend(argo_env("main"));
        main["env"] = Value::Array(main_env);
        let main_mounts = main.get("volumeMounts").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut mounts = main_mounts.clone();
        mounts.push(json!({"name": "var-run-argo", "mountPath": VAR_RUN_ARGO}));
        main["volumeMounts"] = Value::Array(mounts);

        let mut wait_env = vec![
            json!({"name": "ARGO_POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}),
            json!({"name": "ARGO_POD_UID", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.uid"}}}),
            env("ARGO_WORKFLOW_NAME", &self.name),
            env("ARGO_WORKFLOW_UID", &self.uid),
        ];
        wait_env.extend(argo_env("wait"));
        let mut wait_mounts: Vec<Value> = main_mounts
            .iter()
            .map(|m| {
                let mut m = m.clone();
                let path = s(&m, "/mountPath").to_string();
                m["mountPath"] = json!(format!("/mainctrfs{path}"));
                if let Some(o) = m.as_object_mut() {
                    o.remove("readOnly");
                }
                m
            })
            .collect();
        wait_mounts.push(json!({"name": "tmp-dir-argo", "mountPath": "/tmp", "subPath": "0"}));
        wait_mounts.push(json!({"name": "var-run-argo", "mountPath": VAR_RUN_ARGO}));
        let mut wait_command = vec![json!("argoexec"), json!("wait")];
        wait_command.extend(LOG_OPTS.iter().map(|o| json!(o)));
        let wait = json!({
            "name": "wait",
            "image": self.config.executor_image,
            "command": wait_command,
            "env": wait_env,
            "resources": {},
            "volumeMounts": wait_mounts,
        });

        let mut volumes =
            vec![json!({"name": "var-run-argo", "emptyDir": {}}), json!({"name": "tmp-dir-argo", "emptyDir": {}})];
        volumes.extend(tmpl.volumes.iter().cloned());
        for m in &main_mounts {
            let name = s(m, "/name");
            if volumes.iter().any(|v| s(v, "/name") == name) {
                continue;
            }
            let found = self.exec.volumes.iter().find(|v| s(v, "/name") == name).cloned();
            match found {
                Some(v) => volumes.push(v),
                None => return Err(format!("volume '{name}' not found in workflow spec")),
            }
        }
        let mut spec = json!({
            "restartPolicy": "Never",
            "volumes": volumes,
            "containers": [wait, main],
        });
        if let Some(d) = active_deadline {
            spec["activeDeadlineSeconds"] = json!(d);
        }
        let sa = tmpl
            .service_account_name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.exec.service_account_name.clone());
        if !sa.is_empty() {
            spec["serviceAccountName"] = json!(sa);
        }
        for (key, tmpl_value, wf_value) in [
            ("nodeSelector", &tmpl.node_selector, &self.exec.node_selector),
            ("tolerations", &tmpl.tolerations, &self.exec.tolerations),
            ("affinity", &tmpl.affinity, &self.exec.affinity),
        ] {
            if let Some(v) = tmpl_value.as_ref().or(wf_value.as_ref()) {
                spec[key] = v.clone();
            }
        }
        Ok(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": self.namespace,
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [{
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Workflow",
                    "name": self.name,
                    "uid": self.uid,
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": spec,
        }))
    }

    /// `getPodGCDelay`: `deleteDelayDuration`, else the controller's default (5s).
    pub(crate) fn pod_gc_delay(&self) -> Duration {
        self.exec
            .pod_gc
            .as_ref()
            .and_then(|gc| gc.delete_delay_duration.as_deref())
            .and_then(naming::parse_go_duration)
            .unwrap_or(Duration::from_secs(5))
    }

    // ----- reading pods back -----

    /// `taskResultReconciliation`: completion states and reported outputs into the nodes.
    pub(crate) fn task_result_reconciliation(&mut self) {
        let results = self.task_results.clone();
        for tr in results {
            let name = s(&tr, "/metadata/name").to_string();
            let label = tr
                .pointer("/metadata/labels")
                .and_then(|l| l.get(keys::REPORT_OUTPUTS_COMPLETED))
                .and_then(Value::as_str)
                .unwrap_or_default();
            match label {
                "true" => {
                    self.task_result_status.insert(name.clone(), true);
                }
                "false" => {
                    self.task_result_status.insert(name.clone(), false);
                }
                _ => {}
            }
            let Some(old) = self.nodes.get(&name).cloned() else { continue };
            if label == "false" && old.phase.completed() && !self.pods.contains_key(&name) {
                // Its pod is gone: the result will never be completed.
                self.task_result_status.insert(name.clone(), true);
            }
            let mut new = old.clone();
            if let Some(outputs) = tr.get("outputs").and_then(|o| serde_json::from_value::<Outputs>(o.clone()).ok())
                && outputs.has_outputs()
            {
                let mut merged = new.outputs.clone().unwrap_or_default();
                if !outputs.parameters.is_empty() {
                    merged.parameters = outputs.parameters.clone();
                }
                if outputs.artifacts.is_some() {
                    merged.artifacts = outputs.artifacts.clone();
                }
                if outputs.result.is_some() {
                    merged.result = outputs.result.clone();
                }
                if outputs.exit_code.is_some() {
                    merged.exit_code = outputs.exit_code.clone();
                }
                new.outputs = Some(merged);
            }
            if let Some(p) = tr.get("progress").and_then(Value::as_str).and_then(Progress::parse)
                && p.is_valid()
            {
                new.progress = p.to_string();
            }
            if new != old {
                self.nodes.insert(name, new);
                self.updated = true;
            }
        }
    }

    /// `podReconciliation`; false when a node waits for its task result (operate again later).
    pub(crate) fn pod_reconciliation(&mut self) -> bool {
        self.mark_failed_wait_results();
        let mut running = false;
        let mut incomplete = false;
        let pods: Vec<(String, Arc<Value>)> = self.pods.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (id, pod) in &pods {
            let Some(old) = self.nodes.get(id).cloned() else { continue };
            if let Some(new) = self.assess_node_status(pod, &old) {
                if new.phase == NodePhase::Succeeded && self.task_result_status.get(id) == Some(&false) {
                    incomplete = true;
                    continue;
                }
                if new.phase == NodePhase::Running {
                    running = true;
                }
                self.nodes.insert(id.clone(), new);
                self.updated = true;
            }
            self.apply_execution_control(pod, id);
        }
        if incomplete {
            return false;
        }
        self.upsert_condition("PodRunning", if running { "True" } else { "False" });
        let recently = self.scaled(Duration::from_secs(10));
        let missing: Vec<NodeStatus> = self
            .nodes
            .values()
            .filter(|n| {
                n.node_type == NodeType::Pod
                    && !n.fulfilled()
                    && n.started_at.is_some()
                    && !self.pods.contains_key(&n.id)
            })
            .cloned()
            .collect();
        for node in missing {
            if node.phase == NodePhase::Pending {
                continue;
            }
            let started = node.started_at.as_deref().and_then(naming::parse_time);
            let age = started.map(|t| (self.now.as_nanosecond() - t.as_nanosecond()).max(0) as u128).unwrap_or(0);
            if age <= recently.as_nanos() {
                self.requeue_after(
                    Duration::from_nanos(u64::try_from(recently.as_nanos() - age).unwrap_or(0))
                        .max(self.config.min_operate_interval),
                );
                continue;
            }
            self.mark_node_error(&node.name, "pod deleted");
        }
        true
    }

    fn node_template(&self, node: &NodeStatus) -> Option<Template> {
        self.exec.template(&node.template_name).and_then(|t| serde_json::from_value(t.clone()).ok())
    }

    /// `assessNodeStatus`: the node as the pod says it is; `None` when nothing changed.
    fn assess_node_status(&self, pod: &Value, old: &NodeStatus) -> Option<NodeStatus> {
        let tmpl = self.node_template(old);
        let mut new = old.clone();
        let phase = s(pod, "/status/phase");
        match phase {
            "Pending" => {
                new.phase = NodePhase::Pending;
                new.message = pending_reason(pod);
                new.daemoned = None;
            }
            "Succeeded" => {
                new.phase = NodePhase::Succeeded;
                new.daemoned = None;
            }
            "Failed" => {
                let (p, m) = infer_failed_reason(pod);
                new.phase = p;
                new.message = m;
                new.daemoned = None;
            }
            "Running" => new.phase = NodePhase::Running,
            other => {
                new.phase = NodePhase::Error;
                new.message = format!("Unexpected pod phase for {}: {other}", s(pod, "/metadata/name"));
            }
        }
        new.host_node_name = s(pod, "/spec/nodeName").to_string();
        if !Progress::parse(&new.progress).is_some_and(Progress::is_valid) {
            new.progress = Progress::DEFAULT.to_string();
        }
        let statuses = container_statuses(pod);
        if let Some(code) = statuses
            .iter()
            .find(|c| s(c, "/name") == "main")
            .and_then(|c| c.pointer("/state/terminated/exitCode"))
            .and_then(Value::as_i64)
        {
            new.outputs.get_or_insert_with(Outputs::default).exit_code = Some(code.to_string());
        }
        for c in &statuses {
            if s(c, "/name") != "wait" {
                continue;
            }
            if c.pointer("/state/running").is_some() && new.phase.completed() && phase != "Failed" {
                new.phase = old.phase;
            }
        }
        if let Some(t) = &tmpl
            && !t.outputs.parameters.is_empty()
            && new.phase == NodePhase::Succeeded
            && new.outputs.as_ref().is_some_and(|o| o.parameters.is_empty())
        {
            new.phase = old.phase;
        }
        if old.phase == NodePhase::Pending
            && !matches!(new.phase, NodePhase::Pending | NodePhase::Failed | NodePhase::Error)
            && old.message == new.message
        {
            new.message = String::new();
        }
        if new.fulfilled() && new.finished_at.is_none() {
            new.finished_at = Some(latest_finished_at(pod).unwrap_or_else(|| self.now_str.clone()));
        }
        (new != *old).then_some(new)
    }

    /// The wait container exited non-zero: its task result will never complete.
    fn mark_failed_wait_results(&mut self) {
        let ids: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, pod)| {
                container_statuses(pod).iter().any(|c| {
                    s(c, "/name") == "wait"
                        && c.pointer("/state/terminated/exitCode").and_then(Value::as_i64).is_some_and(|x| x != 0)
                })
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            if self.task_result_status.get(&id) == Some(&false) {
                self.task_result_status.insert(id, true);
            }
        }
    }

    /// `applyExecutionControl`: a shutdown or a passed deadline stops the pod of an unfinished node.
    fn apply_execution_control(&mut self, pod: &Value, id: &str) {
        let Some(node) = self.nodes.get(id).cloned() else { return };
        if node.fulfilled() {
            return;
        }
        let phase = s(pod, "/status/phase");
        if !matches!(phase, "Pending" | "Running") {
            return;
        }
        let message = if !self.shutdown().is_empty() {
            format!("workflow shutdown with strategy:  {}", self.shutdown())
        } else if self.deadline_exceeded() {
            "Step exceeded its deadline".to_string()
        } else {
            return;
        };
        self.terminate_pod(pod);
        self.mark_node_phase(&node.name, NodePhase::Failed, Some(&message));
    }

    /// Stops a pod: a pending one is deleted, a running one's `main` gets SIGTERM (a `main` that
    /// already exited needs nothing: the `wait` container finishes by itself).
    fn terminate_pod(&mut self, pod: &Value) {
        let name = s(pod, "/metadata/name").to_string();
        if s(pod, "/status/phase") == "Pending" {
            let _ = self.store.delete(Resource::Pods, &self.namespace, &name, &DeleteOptions::default());
            return;
        }
        let running_main =
            container_statuses(pod).iter().any(|c| s(c, "/name") == "main" && c.pointer("/state/running").is_some());
        if running_main {
            (self.config.signal)(&self.namespace, &name, "main");
        }
    }

    /// `failNodesWithoutCreatedPodsAfterDeadlineOrShutdown`: past the deadline, pending nodes fail.
    pub(crate) fn fail_nodes_without_pods_after_deadline_or_shutdown(&mut self) {
        if !self.deadline_exceeded() {
            return;
        }
        let pending: Vec<String> = self
            .nodes
            .values()
            .filter(|n| !n.fulfilled() && n.phase == NodePhase::Pending)
            .map(|n| n.name.clone())
            .collect();
        for name in pending {
            self.mark_node_phase(&name, NodePhase::Failed, Some("Step exceeded its deadline"));
        }
    }

    /// `queuePodsForCleanup`: pods of finished nodes are labelled completed, or deleted (after the
    /// pod GC delay) per the pod GC strategy.
    pub(crate) fn queue_pods_for_cleanup(&mut self) {
        let strategy = self.exec.pod_gc.as_ref().map(|g| g.strategy.clone()).unwrap_or_default();
        let delay = self.scaled(self.pod_gc_delay());
        let wf_phase = match s(&self.wf, "/status/phase") {
            "Succeeded" => WorkflowPhase::Succeeded,
            "Failed" => WorkflowPhase::Failed,
            "Error" => WorkflowPhase::Error,
            _ => WorkflowPhase::Running,
        };
        let wf_completed = matches!(wf_phase, WorkflowPhase::Succeeded | WorkflowPhase::Failed | WorkflowPhase::Error);
        let pods: Vec<(String, Arc<Value>)> = self.pods.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (id, pod) in pods {
            let Some(node) = self.nodes.get(&id) else { continue };
            if !node.fulfilled() {
                continue;
            }
            let pod_phase = s(&pod, "/status/phase");
            let delete = match strategy.as_str() {
                "" => false,
                "OnWorkflowCompletion" if wf_completed => true,
                "OnWorkflowSuccess" if wf_phase == WorkflowPhase::Succeeded => true,
                "OnPodCompletion" => true,
                "OnPodSuccess" if pod_phase == "Succeeded" => true,
                "OnPodSuccess" if pod_phase == "Failed" => false,
                _ if wf_completed => false,
                _ => continue,
            };
            let name = s(&pod, "/metadata/name").to_string();
            if delete {
                self.outcome.delete_pods_after.push((delay, self.namespace.clone(), name));
            } else {
                let _ = self.store.modify(Resource::Pods, &self.namespace, &name, UpdateScope::Main, |cur| {
                    let mut v = cur.clone();
                    v["metadata"]["labels"][keys::COMPLETED] = json!("true");
                    Ok(v)
                });
            }
        }
    }
}

/// `getPendingReason`.
fn pending_reason(pod: &Value) -> String {
    for c in container_statuses(pod) {
        if let Some(w) = c.pointer("/state/waiting") {
            let reason = s(w, "/reason");
            let message = s(w, "/message");
            return if message.is_empty() { reason.to_string() } else { format!("{reason}: {message}") };
        }
    }
    for cond in pod.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten() {
        if s(cond, "/reason") == "Unschedulable" {
            let m = s(cond, "/message");
            return if m.is_empty() { "Unschedulable".into() } else { format!("Unschedulable: {m}") };
        }
    }
    String::new()
}

/// `getLatestFinishedAt`: the latest container finish (now for a container still running).
fn latest_finished_at(pod: &Value) -> Option<String> {
    let mut latest: Option<jiff::Timestamp> = None;
    let init = pod.pointer("/status/initContainerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    for c in init.iter().chain(container_statuses(pod).iter()) {
        let t = if c.pointer("/state/running").is_some() {
            Some(jiff::Timestamp::now())
        } else {
            c.pointer("/state/terminated/finishedAt").and_then(Value::as_str).and_then(naming::parse_time)
        };
        if let Some(t) = t
            && latest.is_none_or(|l| t > l)
        {
            latest = Some(t);
        }
    }
    latest.map(naming::rfc3339)
}

/// `inferFailedReason`: the phase and message of a failed pod's node.
pub(crate) fn infer_failed_reason(pod: &Value) -> (NodePhase, String) {
    let message = s(pod, "/status/message");
    if !message.is_empty() {
        return (NodePhase::Failed, message.to_string());
    }
    let order = |name: &str| match name {
        "main" => 1,
        "wait" => 2,
        _ => 3,
    };
    let mut ctrs = container_statuses(pod);
    ctrs.sort_by_key(|c| order(s(c, "/name")));
    let mut all: Vec<Value> =
        pod.pointer("/status/initContainerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    all.extend(ctrs);
    if all.is_empty() {
        return (
            NodePhase::Failed,
            format!(
                "can't find failed message for pod {} namespace {}",
                s(pod, "/metadata/name"),
                s(pod, "/metadata/namespace")
            ),
        );
    }
    let (mut main_ok, mut wait_ok) = (false, false);
    for c in &all {
        let name = s(c, "/name");
        if let Some(w) = c.pointer("/state/waiting") {
            return (
                NodePhase::Error,
                format!("Pod failed before {name} container starts due to {}: {}", s(w, "/reason"), s(w, "/message")),
            );
        }
        let Some(t) = c.pointer("/state/terminated") else { continue };
        let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
        if code == 0 {
            match name {
                "main" => main_ok = true,
                "wait" => wait_ok = true,
                _ => {}
            }
            continue;
        }
        let mut msg = format!("{} (exit code {code})", s(t, "/reason"));
        let tm = s(t, "/message");
        if !tm.is_empty() {
            msg = format!("{msg}: {tm}");
        }
        let msg = format!("{name}: {msg}");
        match name {
            "init" => return (NodePhase::Error, msg),
            "main" => return (NodePhase::Failed, msg),
            "wait" => return (NodePhase::Error, msg),
            _ if code == 137 || code == 143 => {}
            _ => return (NodePhase::Failed, msg),
        }
    }
    match (main_ok, wait_ok) {
        (true, true) => (NodePhase::Succeeded, String::new()),
        (true, false) => (NodePhase::Failed, "pod failed: wait container did not complete successfully".into()),
        (false, true) => (NodePhase::Failed, "pod failed: main container did not complete successfully".into()),
        (false, false) => {
            (NodePhase::Failed, "pod failed: neither main nor wait container completed successfully".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(phase: &str, containers: Value) -> Value {
        json!({"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": phase, "containerStatuses": containers}})
    }

    #[test]
    fn failed_pods_read_like_argo() {
        let failed = pod(
            "Failed",
            json!([
                {"name": "wait", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "main", "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}
            ]),
        );
        assert_eq!(infer_failed_reason(&failed), (NodePhase::Failed, "main: Error (exit code 3)".into()));
        let wait_failed = pod(
            "Failed",
            json!([
                {"name": "wait", "state": {"terminated": {"exitCode": 1, "reason": "Error", "message": "open /var/run/argo/outputs/parameters/tmp/x: no such file or directory"}}},
                {"name": "main", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ]),
        );
        assert_eq!(
            infer_failed_reason(&wait_failed),
            (
                NodePhase::Error,
                "wait: Error (exit code 1): open /var/run/argo/outputs/parameters/tmp/x: no such file or directory"
                    .into()
            )
        );
        let mut deadline = failed.clone();
        deadline["status"]["message"] = json!("Pod was active on the node longer than the specified deadline");
        assert_eq!(infer_failed_reason(&deadline).1, "Pod was active on the node longer than the specified deadline");
        let waiting = pod("Failed", json!([{"name": "main", "state": {"waiting": {"reason": "ContainerCreating"}}}]));
        assert_eq!(
            infer_failed_reason(&waiting),
            (NodePhase::Error, "Pod failed before main container starts due to ContainerCreating: ".into())
        );
    }

    #[test]
    fn pending_reasons() {
        let p = pod("Pending", json!([{"name": "wait", "state": {"waiting": {"reason": "ContainerCreating"}}}]));
        assert_eq!(pending_reason(&p), "ContainerCreating");
        let p = pod(
            "Pending",
            json!([{"name": "wait", "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "configmap \"tlc\" not found"}}}]),
        );
        assert_eq!(pending_reason(&p), "CreateContainerConfigError: configmap \"tlc\" not found");
    }
}
