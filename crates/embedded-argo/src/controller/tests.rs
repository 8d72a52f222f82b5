//! The node state machine driven without a kubelet: operations run directly on a store, pod
//! status and task results written into it the way a kubelet and Argo's executor would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::Settings;
use super::operate::{Outcome, Snapshot, operate};
use crate::naming::{fnv32a, node_id};
use crate::status::NodeStatus;
use embedded_cluster::store::resource::Resource;
use embedded_cluster::store::{ListQuery, Store, UpdateScope};
use kube_grammar::selector::LabelSelector;

const TEMPLATE: &str = include_str!("../../../../deploy/argo/workflow-template.yaml");

struct Harness {
    store: Arc<Store>,
    settings: Settings,
    signals: Arc<Mutex<Vec<String>>>,
}

fn harness() -> Harness {
    let store = Arc::new(Store::new(100_000));
    for ns in ["argo", "team-a", "team-b"] {
        store.create(Resource::Namespaces, json!({"metadata": {"name": ns}})).expect("namespace");
    }
    // The template's pods run as this account; admission refuses pods whose account is missing.
    store
        .create(Resource::ServiceAccounts, json!({"metadata": {"name": "tenant-lifecycle", "namespace": "argo"}}))
        .expect("service account");
    let signals = Arc::new(Mutex::new(Vec::new()));
    let sink = signals.clone();
    let settings = Settings {
        min_operate_interval: Duration::from_millis(1),
        max_workflow_size: crate::packer::DEFAULT_MAX_WORKFLOW_SIZE,
        time_scale: 0.0,
        executor_image: "quay.io/argoproj/argoexec:v4.1.0".into(),
        signal: Arc::new(move |ns: &str, pod: &str, c: &str| {
            sink.lock().expect("lock").push(format!("{ns}/{pod}/{c}"))
        }),
    };
    Harness { store, settings, signals }
}

impl Harness {
    fn apply_template(&self, mutate: impl FnOnce(&mut Value)) {
        let mut wft: Value = serde_saphyr::from_str(TEMPLATE).expect("template");
        mutate(&mut wft);
        self.store.create(Resource::WorkflowTemplates, wft).expect("wft");
    }

    fn submit(&self, name: &str) {
        self.store
            .create(
                Resource::Workflows,
                json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                    "metadata": {"name": name, "namespace": "argo"},
                    "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"},
                        "arguments": {"parameters": [{"name": "tenant", "value": "acme"}, {"name": "operation", "value": "lifecycle.upsert"}]}}}),
            )
            .expect("workflow");
    }

    fn submit_inline(&self, wf: Value) {
        self.store.create(Resource::Workflows, wf).expect("workflow");
    }

    fn operate(&self, name: &str) -> Outcome {
        let workflow = self.store.get(Resource::Workflows, "argo", name).expect("workflow");
        let selector = LabelSelector::parse(&format!(
            "workflows.argoproj.io/workflow={name},workflows.argoproj.io/completed!=true"
        ))
        .expect("selector");
        let pods = self
            .store
            .list(Resource::Pods, &ListQuery { namespace: Some("argo"), labels: selector, ..Default::default() })
            .expect("pods")
            .items;
        let selector = LabelSelector::parse(&format!("workflows.argoproj.io/workflow={name}")).expect("selector");
        let task_results = self
            .store
            .list(
                Resource::WorkflowTaskResults,
                &ListQuery { namespace: Some("argo"), labels: selector, ..Default::default() },
            )
            .expect("task results")
            .items;
        operate(Snapshot { store: &self.store, config: &self.settings, workflow, pods, task_results, started_at: None })
    }

    fn workflow(&self, name: &str) -> Value {
        (*self.store.get(Resource::Workflows, "argo", name).expect("workflow")).clone()
    }

    fn node(&self, wf: &str, node_name: &str) -> NodeStatus {
        let w = self.workflow(wf);
        let id = node_id(wf, node_name);
        let nodes = crate::packer::hydrate(&w["status"]).expect("nodes");
        nodes.get(&id).cloned().unwrap_or_else(|| panic!("node {node_name} missing"))
    }

    fn pod_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .store
            .list(Resource::Pods, &ListQuery { namespace: Some("argo"), ..Default::default() })
            .expect("pods")
            .items
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap_or_default().to_string())
            .collect();
        names.sort();
        names
    }

    fn pod(&self, name: &str) -> Value {
        (*self.store.get(Resource::Pods, "argo", name).expect("pod")).clone()
    }

    /// Writes a pod's status as the kubelet would.
    fn set_pod(&self, name: &str, phase: &str, main: Value, wait: Value) {
        self.store
            .modify(Resource::Pods, "argo", name, UpdateScope::Status, |cur| {
                let mut v = cur.clone();
                v["status"] = json!({"phase": phase, "containerStatuses": [
                    {"name": "wait", "state": wait}, {"name": "main", "state": main}]});
                Ok(v)
            })
            .expect("pod status");
    }

    fn run_pod(&self, name: &str, main_code: i64, wait_code: i64) {
        let running = json!({"running": {"startedAt": "2025-01-01T00:00:00Z"}});
        self.set_pod(name, "Running", running.clone(), running.clone());
        let done = |code: i64| {
            json!({"terminated": {"exitCode": code, "reason": if code == 0 { "Completed" } else { "Error" },
                "startedAt": "2025-01-01T00:00:00Z", "finishedAt": "2025-01-01T00:00:05Z"}})
        };
        let phase = if main_code == 0 && wait_code == 0 { "Succeeded" } else { "Failed" };
        self.set_pod(name, phase, done(main_code), done(wait_code));
    }

    /// A task result as the wait container writes it.
    fn report(&self, wf: &str, node_id: &str, outputs: Value, completed: bool) {
        let tr = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTaskResult",
            "metadata": {"name": node_id, "namespace": "argo", "labels": {
                "workflows.argoproj.io/workflow": wf,
                "workflows.argoproj.io/report-outputs-completed": if completed { "true" } else { "false" }}},
            "outputs": outputs});
        let _ = self.store.delete(Resource::WorkflowTaskResults, "argo", node_id, &Default::default());
        self.store.create(Resource::WorkflowTaskResults, tr).expect("task result");
    }
}

fn discovery_outputs(jobs: &str) -> Value {
    json!({"parameters": [
        {"name": "jobs", "value": jobs, "valueFrom": {"path": "/tmp/tlc/jobs.json"}},
        {"name": "batch", "value": "0197a0c6-0000-7000-8000-000000000001", "valueFrom": {"path": "/tmp/tlc/batch"}}]})
}

const JOBS: &str = r#"[{"name":"account","namespace":"team-a"},{"name":"billing","namespace":"team-b"}]"#;

/// Runs discovery to success with `jobs` as its output; returns the discovery attempt's pod name.
fn discover(h: &Harness, wf: &str, jobs: &str) -> String {
    h.operate(wf);
    let attempt = format!("{wf}[0].discovery(0)");
    let pod = format!("{wf}-discover-{}", fnv32a(&attempt));
    assert_eq!(h.pod_names(), vec![pod.clone()], "one discovery pod, named as Argo names it");
    let running = json!({"running": {"startedAt": "2025-01-01T00:00:00Z"}});
    h.set_pod(&pod, "Running", running.clone(), running);
    h.operate(wf);
    assert_eq!(h.node(wf, &attempt).phase.as_str(), "Running");
    h.run_pod(&pod, 0, 0);
    h.operate(wf);
    assert_eq!(h.node(wf, &attempt).phase.as_str(), "Running", "held until its declared outputs arrive");
    h.report(wf, &node_id(wf, &attempt), discovery_outputs(jobs), true);
    h.operate(wf);
    pod
}

#[test]
fn the_shipped_template_runs_to_success_with_argos_node_tree() {
    let h = harness();
    h.apply_template(|_| {});
    h.submit("tl-1");
    discover(&h, "tl-1", JOBS);
    let wf = h.workflow("tl-1");
    // workflowMetadata, parameters expanded.
    assert_eq!(wf["metadata"]["labels"]["tlc.dev/operation"], "lifecycle.upsert");
    assert_eq!(wf["metadata"]["labels"]["tlc.dev/batch-id"], "");
    assert_eq!(wf["metadata"]["labels"]["app.kubernetes.io/managed-by"], "tlc");
    assert_eq!(wf["metadata"]["labels"]["workflows.argoproj.io/phase"], "Running");
    assert_eq!(wf["metadata"]["labels"]["workflows.argoproj.io/completed"], "false");
    assert_eq!(wf["metadata"]["annotations"]["tlc.dev/tenant"], "acme");
    assert_eq!(wf["metadata"]["annotations"]["workflows.argoproj.io/pod-name-format"], "v2");
    // The stored spec: the template's, with the workflow's arguments first.
    let stored = &wf["status"]["storedWorkflowTemplateSpec"];
    assert_eq!(stored["workflowTemplateRef"]["name"], "tenant-lifecycle");
    assert_eq!(stored["arguments"]["parameters"][0], json!({"name": "tenant", "value": "acme"}));
    assert_eq!(stored["arguments"]["parameters"][2], json!({"name": "batch", "value": ""}));
    assert_eq!(stored["workflowMetadata"]["labels"]["tlc.dev/operation"], "{{workflow.parameters.operation}}");

    let retry = h.node("tl-1", "tl-1[0].discovery");
    assert_eq!(retry.node_type, crate::status::NodeType::Retry);
    assert_eq!(retry.phase.as_str(), "Succeeded");
    assert_eq!(retry.outputs.as_ref().and_then(|o| o.exit_code.as_deref()), Some("0"));
    assert_eq!(
        retry.outputs.as_ref().map(|o| o.parameters.len()),
        Some(2),
        "the Retry node copies its last child's outputs"
    );
    let attempt = h.node("tl-1", "tl-1[0].discovery(0)");
    assert!(attempt.retried());
    assert_eq!(attempt.display_name, "discovery(0)");
    assert_eq!(attempt.children, vec![node_id("tl-1", "tl-1[1]")], "the attempt leads to the next step group");

    // Two bridges, items named as Argo names them.
    let b0 = "tl-1[1].bridge(0:name:account,namespace:team-a)";
    let b1 = "tl-1[1].bridge(1:name:billing,namespace:team-b)";
    let bridge0 = h.node("tl-1", b0);
    assert_eq!(bridge0.display_name, "bridge(0:name:account,namespace:team-a)");
    assert_eq!(
        serde_json::to_value(&bridge0.inputs).expect("inputs"),
        json!({"parameters": [{"name": "job", "value": "team-a/account"}, {"name": "batch", "value": "0197a0c6-0000-7000-8000-000000000001"}]})
    );
    let pod0 = format!("tl-1-bridge-{}", fnv32a(&format!("{b0}(0)")));
    let pod1 = format!("tl-1-bridge-{}", fnv32a(&format!("{b1}(0)")));
    let pod = h.pod(&pod0);
    let main = &pod["spec"]["containers"][1];
    assert_eq!(main["name"], "main");
    assert_eq!(
        main["command"],
        json!([
            "/var/run/argo/argoexec",
            "emissary",
            "--loglevel",
            "info",
            "--log-format",
            "text",
            "--gloglevel",
            "0",
            "--",
            "tlc"
        ])
    );
    assert_eq!(main["args"][1], "--job=team-a/account");
    assert_eq!(main["args"][4], "--batch=0197a0c6-0000-7000-8000-000000000001");
    assert_eq!(pod["spec"]["containers"][0]["name"], "wait");
    assert_eq!(pod["spec"]["serviceAccountName"], "tenant-lifecycle");
    assert_eq!(pod["metadata"]["annotations"]["workflows.argoproj.io/node-name"], format!("{b0}(0)"));
    assert_eq!(pod["metadata"]["annotations"]["workflows.argoproj.io/pod-gc-strategy"], "OnPodSuccess/10m0s");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "Workflow");
    assert!(pod["spec"]["volumes"].as_array().expect("volumes").iter().any(|v| v["name"] == "tlc-config"));

    h.run_pod(&pod0, 0, 0);
    h.run_pod(&pod1, 0, 0);
    let outcome = h.operate("tl-1");
    let wf = h.workflow("tl-1");
    assert_eq!(wf["status"]["phase"], "Succeeded");
    assert!(wf["status"].get("message").is_none());
    assert_eq!(wf["status"]["progress"], "3/3");
    assert_eq!(wf["metadata"]["labels"]["workflows.argoproj.io/completed"], "true");
    assert_eq!(
        wf["status"]["conditions"],
        json!([{"type": "PodRunning", "status": "False"}, {"type": "Completed", "status": "True"}])
    );
    let root = h.node("tl-1", "tl-1");
    assert_eq!(root.progress, "3/3");
    assert_eq!(
        root.outbound_nodes,
        vec![node_id("tl-1", &format!("{b0}(0)")), node_id("tl-1", &format!("{b1}(0)"))],
        "outbound nodes are the last attempts"
    );
    // Pod GC: succeeded bridge pods go after the (scaled) delay.
    assert_eq!(outcome.delete_pods_after.len(), 3);
    assert!(h.signals.lock().expect("lock").is_empty());
}

#[test]
fn a_failing_bridge_is_not_retried_on_error_policy_and_fails_the_workflow() {
    let h = harness();
    h.apply_template(|_| {});
    h.submit("tl-2");
    discover(&h, "tl-2", r#"[{"name":"a","namespace":"team-a"}]"#);
    let item = "tl-2[1].bridge(0:name:a,namespace:team-a)";
    let pod = format!("tl-2-bridge-{}", fnv32a(&format!("{item}(0)")));
    h.run_pod(&pod, 3, 0);
    h.operate("tl-2");
    let attempt = h.node("tl-2", &format!("{item}(0)"));
    assert_eq!(attempt.phase.as_str(), "Failed");
    assert_eq!(attempt.message, "main: Error (exit code 3)");
    assert_eq!(attempt.outputs.as_ref().and_then(|o| o.exit_code.as_deref()), Some("3"));
    let retry = h.node("tl-2", item);
    assert_eq!((retry.phase.as_str(), retry.message.as_str()), ("Failed", "main: Error (exit code 3)"));
    assert_eq!(retry.children.len(), 1, "OnError does not retry a failure");
    let wf = h.workflow("tl-2");
    let expected = format!("child '{}' failed", node_id("tl-2", item));
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(wf["status"]["message"], json!(expected));
    assert_eq!(h.node("tl-2", "tl-2[1]").message, expected);
}

#[test]
fn on_failure_retries_until_the_limit() {
    let h = harness();
    h.apply_template(|t| t["spec"]["templates"][2]["retryStrategy"] = json!({"limit": 2}));
    h.submit("tl-3");
    discover(&h, "tl-3", r#"[{"name":"a","namespace":"team-a"}]"#);
    let item = "tl-3[1].bridge(0:name:a,namespace:team-a)";
    for attempt in 0..3 {
        let name = format!("{item}({attempt})");
        let pod = format!("tl-3-bridge-{}", fnv32a(&name));
        h.run_pod(&pod, 1, 0);
        h.operate("tl-3");
        let node = h.node("tl-3", &name);
        assert!(node.retried());
        assert_eq!(node.phase.as_str(), "Failed");
    }
    let retry = h.node("tl-3", item);
    assert_eq!((retry.phase.as_str(), retry.message.as_str()), ("Failed", "No more retries left"));
    assert_eq!(retry.children.len(), 3);
    assert_eq!(h.workflow("tl-3")["status"]["phase"], "Failed");
}

#[test]
fn an_empty_with_param_is_a_skipped_node() {
    let h = harness();
    h.apply_template(|_| {});
    h.submit("tl-4");
    discover(&h, "tl-4", "[]");
    let skipped = h.node("tl-4", "tl-4[1].bridge");
    assert_eq!(skipped.node_type, crate::status::NodeType::Skipped);
    assert_eq!((skipped.phase.as_str(), skipped.message.as_str()), ("Skipped", "Skipped, empty params"));
    assert_eq!(h.workflow("tl-4")["status"]["phase"], "Succeeded");
}

#[test]
fn a_with_param_that_is_not_a_list_fails_with_argos_message() {
    let h = harness();
    h.apply_template(|_| {});
    h.submit("tl-5");
    discover(&h, "tl-5", r#"{"name":"a"}"#);
    let wf = h.workflow("tl-5");
    let expected = r#"withParam value could not be parsed as a JSON list: {"name":"a"}: json: cannot unmarshal object into Go value of type []v1alpha1.Item"#;
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(wf["status"]["message"], expected);
    let group = h.node("tl-5", "tl-5[1]");
    assert_eq!((group.phase.as_str(), group.message.as_str()), ("Error", expected));
}

#[test]
fn a_missing_parameter_is_an_invalid_spec() {
    let h = harness();
    h.apply_template(|_| {});
    h.submit_inline(json!({"metadata": {"name": "tl-6", "namespace": "argo"},
        "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"}, "arguments": {"parameters": [{"name": "tenant", "value": "x"}]}}}));
    h.operate("tl-6");
    let wf = h.workflow("tl-6");
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(
        wf["status"]["message"],
        "invalid spec: spec.arguments.operation.value or spec.arguments.operation.valueFrom is required"
    );
    assert!(h.pod_names().is_empty());
}

#[test]
fn shutdown_fails_running_and_unstarted_nodes_with_argos_messages() {
    let h = harness();
    h.apply_template(|t| t["spec"]["parallelism"] = json!(1));
    h.submit("tl-7");
    discover(&h, "tl-7", r#"[{"name":"a","namespace":"team-a"},{"name":"b","namespace":"team-b"}]"#);
    let b0 = "tl-7[1].bridge(0:name:a,namespace:team-a)";
    let pod0 = format!("tl-7-bridge-{}", fnv32a(&format!("{b0}(0)")));
    assert_eq!(h.pod_names().len(), 2, "parallelism 1: one bridge pod besides discovery's");
    let running = json!({"running": {"startedAt": "2025-01-01T00:00:00Z"}});
    h.set_pod(&pod0, "Running", running.clone(), running);
    h.operate("tl-7");
    h.store
        .modify(Resource::Workflows, "argo", "tl-7", UpdateScope::Main, |cur| {
            let mut v = cur.clone();
            v["spec"]["shutdown"] = json!("Stop");
            Ok(v)
        })
        .expect("stop");
    h.operate("tl-7");
    assert_eq!(
        h.signals.lock().expect("lock").as_slice(),
        [format!("argo/{pod0}/main")],
        "the running main is signalled"
    );
    let attempt = h.node("tl-7", &format!("{b0}(0)"));
    assert_eq!(
        (attempt.phase.as_str(), attempt.message.as_str()),
        ("Failed", "workflow shutdown with strategy:  Stop")
    );
    let retry = h.node("tl-7", b0);
    assert_eq!(retry.message, "Stopped with strategy 'Stop'");
    let wf = h.workflow("tl-7");
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(wf["status"]["message"], "Stopped with strategy 'Stop'");
    assert_eq!(h.pod_names().len(), 2, "no pod for the second bridge");
}

#[test]
fn unsupported_features_fail_the_workflow_naming_them() {
    let h = harness();
    h.submit_inline(json!({"metadata": {"name": "dag-1", "namespace": "argo"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": [{"name": "a", "template": "x"}]}}]}}));
    h.operate("dag-1");
    let wf = h.workflow("dag-1");
    assert_eq!(wf["status"]["phase"], "Failed");
    assert_eq!(
        wf["status"]["message"],
        "unsupported by the embedded Argo controller: DAG templates (templates.main.dag)"
    );
}

#[test]
fn large_statuses_are_compressed_like_the_packer() {
    let mut h = harness();
    h.settings.max_workflow_size = 20_000;
    h.apply_template(|_| {});
    h.submit("tl-8");
    let jobs: Vec<Value> = (0..60).map(|i| json!({"name": format!("job-{i}"), "namespace": "team-a"})).collect();
    discover(&h, "tl-8", &serde_json::to_string(&jobs).expect("jobs"));
    let wf = h.workflow("tl-8");
    assert!(wf["status"].get("nodes").is_none(), "nodes moved out");
    let nodes = crate::packer::hydrate(&wf["status"]).expect("compressed nodes decode");
    // parallelism 50: 50 of the 60 items have started (a Retry node and its first attempt each).
    assert_eq!(nodes.len(), 5 + 2 * 50);
    assert!(nodes.contains_key(&node_id("tl-8", "tl-8[1].bridge(49:name:job-49,namespace:team-a)(0)")));
    assert!(!nodes.contains_key(&node_id("tl-8", "tl-8[1].bridge(50:name:job-50,namespace:team-a)")));
    let plain = serde_json::to_vec(&nodes).expect("json").len();
    assert!(plain > 20_000, "uncompressed nodes ({plain} bytes) are above the limit");
    assert!(serde_json::to_vec(&wf).expect("json").len() <= 20_000, "the written workflow is within it");
}
