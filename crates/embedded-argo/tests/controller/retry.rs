//! A client-side retry (what `argo retry` does without the Argo server: `FormulateRetryWorkflow`
//! in `workflow/util/util.go`, then a plain update) is continued by the controller: only the
//! failed branches run again.

use std::collections::{BTreeMap, HashMap, HashSet};

use embedded_argo::ControllerConfig;
use embedded_argo::status::{NodePhase, NodeStatus, NodeType};
use kube::api::{DeleteParams, DynamicObject, PostParams};
use serde_json::{Value, json};

use crate::common::{node, nodes, start};

fn group(t: NodeType) -> bool {
    matches!(t, NodeType::Steps | NodeType::StepGroup | NodeType::Dag | NodeType::TaskGroup)
}

/// `FormulateRetryWorkflow` for a failed workflow (no node selector, no onExit): failed pod nodes
/// without a succeeded descendant are deleted with what follows them, the Retry nodes, step groups
/// and steps above them reset to Running; the workflow back to Running. Returns the new workflow
/// and the pods to delete.
fn formulate_retry(wf: &Value) -> (Value, Vec<String>) {
    let name = wf["metadata"]["name"].as_str().expect("name").to_string();
    let old = nodes(wf);
    let parent: HashMap<String, String> =
        old.values().flat_map(|n| n.children.iter().map(|c| (c.clone(), n.id.clone()))).collect();
    let descendants = |id: &str| {
        let mut out = HashSet::new();
        let mut stack = vec![id.to_string()];
        while let Some(x) = stack.pop() {
            for c in old.get(&x).map(|n| n.children.clone()).unwrap_or_default() {
                if out.insert(c.clone()) {
                    stack.push(c);
                }
            }
        }
        out
    };
    let succeeded_below =
        |id: &str| descendants(id).iter().any(|d| old.get(d).is_some_and(|n| n.phase == NodePhase::Succeeded));
    let mut failed: Vec<String> = Vec::new();
    for n in old.values() {
        if n.node_type == NodeType::Pod && n.phase.failed_or_error() {
            let lifted =
                if n.retried() { parent.get(&n.id).cloned().unwrap_or_else(|| n.id.clone()) } else { n.id.clone() };
            if !succeeded_below(&lifted) {
                failed.push(n.id.clone());
            }
        }
    }
    let (mut reset, mut delete): (HashSet<String>, HashSet<String>) = (HashSet::new(), HashSet::new());
    for id in failed {
        if delete.contains(&id) {
            continue;
        }
        delete.insert(id.clone());
        delete.extend(descendants(&id));
        // resetPath: up through parents; a group node resets the boundaries above it.
        let mut curr = parent.get(&id).cloned();
        while let Some(c) = curr {
            let n = &old[&c];
            if n.node_type == NodeType::Retry {
                reset.insert(c.clone());
                curr = parent.get(&c).cloned();
            } else if group(n.node_type) {
                reset.insert(c.clone());
                // resetBoundaries
                let mut b = Some(c.clone());
                let mut next = None;
                while let Some(bc) = b {
                    let mut at = bc.clone();
                    if let Some(p) = parent.get(&at).filter(|p| old[*p].node_type == NodeType::Retry) {
                        reset.insert(p.clone());
                        at = p.clone();
                    }
                    if let Some(p) = parent.get(&at).filter(|p| old[*p].node_type == NodeType::StepGroup) {
                        reset.insert(p.clone());
                    }
                    if old[&at].boundary_id.is_empty() {
                        next = parent.get(&at).cloned();
                        b = None;
                    } else {
                        let boundary = old[&at].boundary_id.clone();
                        reset.insert(boundary.clone());
                        b = Some(boundary);
                    }
                }
                curr = next;
            } else {
                curr = parent.get(&c).cloned();
            }
        }
    }
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut new_nodes: BTreeMap<String, NodeStatus> = BTreeMap::new();
    let mut pods = Vec::new();
    for (id, n) in &old {
        if delete.contains(id) {
            if n.node_type == NodeType::Pod {
                pods.push(embedded_argo::naming::pod_name(&name, &n.name, &n.template_name));
            }
            continue;
        }
        let mut n = n.clone();
        if reset.contains(id) {
            if n.phase != NodePhase::Skipped {
                n.phase = NodePhase::Running;
            }
            n.message.clear();
            n.started_at = Some(now.clone());
            n.finished_at = None;
        }
        n.children.retain(|c| !delete.contains(c));
        n.outbound_nodes.retain(|c| !delete.contains(c));
        new_nodes.insert(id.clone(), n);
    }
    let mut new = wf.clone();
    let labels = new["metadata"]["labels"].as_object_mut().expect("labels");
    labels.remove("workflows.argoproj.io/completed");
    labels.insert("workflows.argoproj.io/phase".into(), json!("Running"));
    let status = new["status"].as_object_mut().expect("status");
    status.insert("phase".into(), json!("Running"));
    status.remove("message");
    status.insert("startedAt".into(), json!(now));
    status.insert("finishedAt".into(), Value::Null);
    status.insert("nodes".into(), serde_json::to_value(&new_nodes).expect("nodes"));
    status.remove("compressedNodes");
    status.insert("conditions".into(), json!([{"type": "Completed", "status": "False"}]));
    if let Some(stored) = status.get_mut("storedWorkflowTemplateSpec").and_then(Value::as_object_mut) {
        stored.remove("shutdown");
    }
    if let Some(spec) = new["spec"].as_object_mut() {
        spec.remove("shutdown");
    }
    (new, pods)
}

#[tokio::test]
async fn a_client_side_retry_reruns_only_the_failed_branches() {
    let env = start(0.0, ControllerConfig::default().with_time_scale(1.0), Some(&|_| {})).await;
    env.jobs(&[("team-a", "steady"), ("team-b", "flaky")]);
    env.stub.behaviour.lock().expect("lock").exit_codes.insert("team-b/flaky".into(), 5);
    env.submit("tl-again").await;
    let failed = env.wait_phase("tl-again", "Failed").await;
    let flaky = "tl-again[1].bridge(1:name:flaky,namespace:team-b)";
    assert_eq!(node(&failed, flaky).message, "main: Error (exit code 5)");

    // The team fixed its job; the operator retries the workflow.
    env.stub.behaviour.lock().expect("lock").exit_codes.clear();
    let (retried, pods) = formulate_retry(&failed);
    let retried_nodes = nodes(&retried);
    assert_eq!(retried_nodes[&crate::common::id("tl-again", flaky)].phase, NodePhase::Running, "the Retry node reset");
    assert!(
        !retried_nodes.contains_key(&crate::common::id("tl-again", &format!("{flaky}(0)"))),
        "its failed attempt deleted"
    );
    assert_eq!(pods.len(), 1);
    let object: DynamicObject = serde_json::from_value(retried).expect("object");
    env.workflows().replace("tl-again", &PostParams::default(), &object).await.expect("retry written");
    for pod in &pods {
        env.pods().delete(pod, &DeleteParams::default()).await.expect("failed pod deleted");
    }
    let wf = env.wait_phase("tl-again", "Succeeded").await;
    let attempt = node(&wf, &format!("{flaky}(0)"));
    assert_eq!((attempt.phase, attempt.retried()), (NodePhase::Succeeded, true));
    assert_eq!(node(&wf, flaky).phase, NodePhase::Succeeded);
    let bridges = env.stub.bridges.lock().expect("lock").clone();
    assert_eq!(bridges.get("team-a/steady"), Some(&1), "the succeeded branch did not run again");
    assert_eq!(bridges.get("team-b/flaky"), Some(&2));
    let discoveries = env
        .stub
        .argvs
        .lock()
        .expect("lock")
        .iter()
        .filter(|a| a.get(1).map(String::as_str) == Some("discover"))
        .count();
    assert_eq!(discoveries, 1, "discovery did not run again");
    assert!(wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true");
}
