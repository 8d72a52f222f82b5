//! The shipped WorkflowTemplate run for real: discovery's outputs through the executor, a bridge
//! per job, Argo's node tree, labels from `workflowMetadata`, pods as Argo makes them.

use embedded_argo::ControllerConfig;
use embedded_argo::status::{NodePhase, NodeType};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::json;

use crate::common::{Env, id, node, nodes, pod_name, start};

const WF: &str = "tl-fanout";
const JOBS: [(&str, &str); 3] = [("team-a", "account"), ("team-b", "billing (v2)"), ("team-c", "catalog")];

async fn run() -> (Env, serde_json::Value) {
    // Controller delays at real time: the finished workflow (TTL a week) and its pods (pod GC
    // 10 minutes) stay to be inspected.
    let env = start(0.0, ControllerConfig::default().with_time_scale(1.0), Some(&|_| {})).await;
    env.jobs(&JOBS);
    env.submit(WF).await;
    let wf = env.wait_phase(WF, "Succeeded").await;
    (env, wf)
}

#[tokio::test]
async fn a_fan_out_succeeds_with_argos_node_tree() {
    let (_env, wf) = run().await;
    let all = nodes(&wf);
    let b = [
        format!("{WF}[1].bridge(0:name:account,namespace:team-a)"),
        format!("{WF}[1].bridge(1:name:billing v2,namespace:team-b)"),
        format!("{WF}[1].bridge(2:name:catalog,namespace:team-c)"),
    ];
    let mut names: Vec<String> = all.values().map(|n| n.name.clone()).collect();
    names.sort();
    let mut expected = vec![
        WF.to_string(),
        format!("{WF}[0]"),
        format!("{WF}[0].discovery"),
        format!("{WF}[0].discovery(0)"),
        format!("{WF}[1]"),
    ];
    for item in &b {
        expected.push(item.clone());
        expected.push(format!("{item}(0)"));
    }
    expected.sort();
    assert_eq!(names, expected, "the node tree, by name");
    for (node_id, n) in &all {
        assert_eq!(node_id, &id(WF, &n.name), "ids are fnv32a of the names");
        assert_eq!(n.phase, NodePhase::Succeeded, "{}", n.name);
        assert!(n.started_at.is_some() && n.finished_at.is_some(), "{}", n.name);
        assert_eq!(n.template_scope, format!("local/{WF}"));
        assert_eq!(n.boundary_id, if n.name == WF { String::new() } else { WF.to_string() }, "{}", n.name);
    }

    let root = node(&wf, WF);
    assert_eq!(
        (root.node_type, root.template_name.as_str(), root.display_name.as_str()),
        (NodeType::Steps, "lifecycle", WF)
    );
    assert_eq!(root.children, vec![id(WF, &format!("{WF}[0]"))]);
    assert_eq!(root.outbound_nodes, b.iter().map(|i| id(WF, &format!("{i}(0)"))).collect::<Vec<_>>());
    assert_eq!(root.progress, "4/4");

    let g0 = node(&wf, &format!("{WF}[0]"));
    assert_eq!((g0.node_type, g0.display_name.as_str(), g0.template_name.as_str()), (NodeType::StepGroup, "[0]", ""));
    assert_eq!(g0.children, vec![id(WF, &format!("{WF}[0].discovery"))]);

    let retry = node(&wf, &format!("{WF}[0].discovery"));
    assert_eq!((retry.node_type, retry.template_name.as_str()), (NodeType::Retry, "discover"));
    assert!(retry.node_flag.is_none());
    let attempt = node(&wf, &format!("{WF}[0].discovery(0)"));
    assert_eq!((attempt.node_type, attempt.display_name.as_str()), (NodeType::Pod, "discovery(0)"));
    assert!(attempt.retried());
    assert_eq!(attempt.host_node_name, "test-node-1");
    assert_eq!(attempt.children, vec![id(WF, &format!("{WF}[1]"))], "the attempt leads to the next group");
    let outputs = attempt.outputs.clone().expect("outputs");
    assert_eq!(outputs.exit_code.as_deref(), Some("0"));
    let jobs_param = outputs.parameters.iter().find(|p| p.name == "jobs").expect("jobs");
    let jobs: serde_json::Value =
        serde_json::from_str(jobs_param.value.as_deref().expect("value")).expect("a JSON list");
    assert_eq!(jobs.as_array().map(Vec::len), Some(3), "one trailing newline trimmed, the list intact");
    assert_eq!(jobs_param.value_from, Some(json!({"path": "/tmp/tlc/jobs.json"})));
    assert_eq!(retry.outputs, attempt.outputs, "the Retry node copies its last child's outputs");

    let g1 = node(&wf, &format!("{WF}[1]"));
    assert_eq!(g1.children, b.iter().map(|i| id(WF, i)).collect::<Vec<_>>());
    assert_eq!(g1.progress, "3/3");
    for (i, item) in b.iter().enumerate() {
        let retry = node(&wf, item);
        assert_eq!(retry.node_type, NodeType::Retry);
        assert_eq!(retry.display_name, item.trim_start_matches(&format!("{WF}[1].")));
        let (ns, name) = JOBS[i];
        let params = retry.inputs.clone().expect("inputs").parameters;
        assert_eq!(params[0].value.as_deref(), Some(format!("{ns}/{name}").as_str()));
        assert_eq!(params[1].value.as_deref(), Some("0197a0c6-0000-7000-8000-00000000b47c"));
        let attempt = node(&wf, &format!("{item}(0)"));
        assert_eq!(attempt.progress, "1/1");
        assert_eq!(attempt.outputs.and_then(|o| o.exit_code).as_deref(), Some("0"));
    }

    // The workflow.
    let status = &wf["status"];
    assert_eq!(status["progress"], "4/4");
    assert_eq!(status["conditions"][1], json!({"type": "Completed", "status": "True"}));
    assert!(status["finishedAt"].is_string() && status["startedAt"].is_string());
    assert!(status.get("message").is_none());
    assert_eq!(status["storedWorkflowTemplateSpec"]["entrypoint"], "lifecycle");
    assert_eq!(status["taskResultsCompletionStatus"][id(WF, &format!("{WF}[0].discovery(0)"))], true);
}

#[tokio::test]
async fn a_workflow_with_only_a_template_ref_carries_the_templates_labels_and_pods_are_argos() {
    let (env, wf) = run().await;
    let labels = &wf["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "tlc");
    assert_eq!(labels["tlc.dev/engine"], "argo");
    assert_eq!(labels["tlc.dev/template"], "tenant-lifecycle");
    assert_eq!(labels["tlc.dev/operation"], "lifecycle.upsert");
    assert_eq!(labels["tlc.dev/batch-id"], "");
    assert_eq!(labels["workflows.argoproj.io/phase"], "Succeeded");
    assert_eq!(labels["workflows.argoproj.io/completed"], "true");
    assert_eq!(wf["metadata"]["annotations"]["tlc.dev/tenant"], "globex-prod");
    assert_eq!(wf["metadata"]["annotations"]["workflows.argoproj.io/pod-name-format"], "v2");

    let item = format!("{WF}[1].bridge(0:name:account,namespace:team-a)(0)");
    let name = pod_name(WF, &item, "bridge");
    let pods: Api<Pod> = env.pods();
    let pod = serde_json::to_value(pods.get(&name).await.expect("bridge pod")).expect("json");
    assert_eq!(pod["metadata"]["labels"]["workflows.argoproj.io/workflow"], WF);
    assert_eq!(pod["metadata"]["annotations"]["workflows.argoproj.io/node-name"], item);
    assert_eq!(pod["metadata"]["annotations"]["workflows.argoproj.io/node-id"], id(WF, &item));
    assert_eq!(pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"], "main");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "Workflow");
    assert_eq!(pod["metadata"]["ownerReferences"][0]["uid"], wf["metadata"]["uid"]);
    assert_eq!(pod["spec"]["serviceAccountName"], "tenant-lifecycle");
    let containers: Vec<&str> = pod["spec"]["containers"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(containers, ["wait", "main"]);
    let main = &pod["spec"]["containers"][1];
    assert_eq!(main["command"][0], "/var/run/argo/argoexec");
    assert_eq!(main["args"][1], "--job=team-a/account");
    let env_names: Vec<&str> =
        main["env"].as_array().expect("env").iter().map(|e| e["name"].as_str().unwrap_or_default()).collect();
    assert_eq!(
        env_names,
        [
            "TLC_CONFIG",
            "TLC_REGION",
            "ARGO_CONTAINER_NAME",
            "ARGO_TEMPLATE",
            "ARGO_NODE_ID",
            "ARGO_INCLUDE_SCRIPT_OUTPUT",
            "ARGO_DEADLINE"
        ]
    );
    // The bridge's output is the step's log; its exit code the step's.
    let log = env.log(&name, "main").await;
    assert!(log.contains("bridge team-a/account started"), "{log}");
    assert_eq!(env.stub.bridges.lock().expect("lock").get("team-a/account"), Some(&1));
    // The finished workflow's task results are gone.
    let trs: Api<DynamicObject> = Api::namespaced_with(
        env.client.clone(),
        "argo",
        &ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "WorkflowTaskResult")),
    );
    embedded_cluster::testing::eventually("the task results deleted", || {
        let trs = trs.clone();
        async move { trs.list(&ListParams::default()).await.expect("list").items.is_empty().then_some(()) }
    })
    .await;
}
