//! Failures as Argo reports them: retries and their attempts, OnError against OnFailure, an empty
//! and a malformed `withParam`, unsupported features, invalid specs.

use embedded_argo::ControllerConfig;
use embedded_argo::status::{NodePhase, NodeType};
use serde_json::json;

use crate::common::{id, node, nodes, start};

#[tokio::test]
async fn a_failing_item_is_retried_up_to_the_limit_on_failure() {
    // OnFailure (the default policy) with limit 2 on the bridge.
    let env = start(
        0.0,
        ControllerConfig::default(),
        Some(&|t| t["spec"]["templates"][2]["retryStrategy"] = json!({"limit": 2})),
    )
    .await;
    env.jobs(&[("team-a", "good"), ("team-b", "bad")]);
    env.stub.behaviour.lock().expect("lock").exit_codes.insert("team-b/bad".into(), 3);
    env.submit("tl-retry").await;
    let wf = env.wait_phase("tl-retry", "Failed").await;
    let bad = "tl-retry[1].bridge(1:name:bad,namespace:team-b)";
    let retry = node(&wf, bad);
    assert_eq!(
        (retry.node_type, retry.phase, retry.message.as_str()),
        (NodeType::Retry, NodePhase::Failed, "No more retries left")
    );
    assert_eq!(retry.children, (0..3).map(|i| id("tl-retry", &format!("{bad}({i})"))).collect::<Vec<_>>());
    for i in 0..3 {
        let attempt = node(&wf, &format!("{bad}({i})"));
        assert!(attempt.retried());
        assert_eq!((attempt.phase, attempt.message.as_str()), (NodePhase::Failed, "main: Error (exit code 3)"));
        assert_eq!(attempt.outputs.and_then(|o| o.exit_code).as_deref(), Some("3"));
        assert_eq!(attempt.display_name, format!("bridge(1:name:bad,namespace:team-b)({i})"));
    }
    assert_eq!(retry.outputs.and_then(|o| o.exit_code).as_deref(), Some("3"), "the last attempt's outputs");
    let good = node(&wf, "tl-retry[1].bridge(0:name:good,namespace:team-a)");
    assert_eq!((good.phase, good.children.len()), (NodePhase::Succeeded, 1));
    assert_eq!(env.stub.bridges.lock().expect("lock").get("team-b/bad"), Some(&3));
    let expected = format!("child '{}' failed", id("tl-retry", bad));
    assert_eq!(wf["status"]["message"], json!(expected));
    assert_eq!(node(&wf, "tl-retry[1]").message, expected);
    assert_eq!(node(&wf, "tl-retry").phase, NodePhase::Failed);
    assert_eq!(wf["status"]["progress"], "2/5");
}

#[tokio::test]
async fn on_error_retries_errors_but_not_failures() {
    // The shipped template: both steps retry OnError.
    let env = start(0.0, ControllerConfig::default(), Some(&|_| {})).await;
    env.jobs(&[("team-a", "bad")]);
    env.stub.behaviour.lock().expect("lock").exit_codes.insert("team-a/bad".into(), 4);
    env.submit("tl-fail").await;
    let wf = env.wait_phase("tl-fail", "Failed").await;
    let bad = "tl-fail[1].bridge(0:name:bad,namespace:team-a)";
    let retry = node(&wf, bad);
    assert_eq!((retry.phase, retry.message.as_str()), (NodePhase::Failed, "main: Error (exit code 4)"));
    assert_eq!(retry.children.len(), 1, "a failure is not an error: no retry");

    // A missing output file without default is an error of the wait container: retried.
    let env = start(0.0, ControllerConfig::default(), Some(&|_| {})).await;
    env.jobs(&[("team-a", "x")]);
    env.stub.behaviour.lock().expect("lock").no_batch_file = true;
    env.submit("tl-error").await;
    let wf = env.wait_phase("tl-error", "Failed").await;
    let discovery = node(&wf, "tl-error[0].discovery");
    assert_eq!((discovery.phase, discovery.message.as_str()), (NodePhase::Error, "No more retries left"));
    assert_eq!(discovery.children.len(), 4, "limit 3: four attempts");
    let attempt = node(&wf, "tl-error[0].discovery(3)");
    assert_eq!(attempt.phase, NodePhase::Error);
    assert_eq!(
        attempt.message,
        "wait: Error (exit code 1): open /var/run/argo/outputs/parameters/tmp/tlc/batch: no such file or directory"
    );
    assert!(nodes(&wf).values().all(|n| !n.name.contains("bridge")), "no bridge after a failed discovery");
}

#[tokio::test]
async fn an_empty_with_param_is_skipped() {
    let env = start(0.0, ControllerConfig::default(), Some(&|_| {})).await;
    env.jobs(&[]);
    env.submit("tl-empty").await;
    let wf = env.wait_phase("tl-empty", "Succeeded").await;
    let skipped = node(&wf, "tl-empty[1].bridge");
    assert_eq!(
        (skipped.node_type, skipped.phase, skipped.message.as_str(), skipped.display_name.as_str()),
        (NodeType::Skipped, NodePhase::Skipped, "Skipped, empty params", "bridge")
    );
    assert_eq!(node(&wf, "tl-empty[1]").children, vec![id("tl-empty", "tl-empty[1].bridge")]);
}

#[tokio::test]
async fn a_with_param_that_is_not_a_list_fails_with_argos_message() {
    let env = start(0.0, ControllerConfig::default(), Some(&|_| {})).await;
    env.stub.behaviour.lock().expect("lock").jobs = r#"{"name": "a", "namespace": "b"}"#.into();
    env.submit("tl-bad").await;
    let wf = env.wait_phase("tl-bad", "Failed").await;
    let expected = r#"withParam value could not be parsed as a JSON list: {"name": "a", "namespace": "b"}: json: cannot unmarshal object into Go value of type []v1alpha1.Item"#;
    assert_eq!(wf["status"]["message"], expected);
    let group = node(&wf, "tl-bad[1]");
    assert_eq!((group.phase, group.message.as_str()), (NodePhase::Error, expected));
}

#[tokio::test]
async fn unsupported_features_and_invalid_specs_fail_before_anything_runs() {
    let env = start(0.0, ControllerConfig::default(), None).await;
    env.create(json!({"metadata": {"name": "dag", "namespace": "argo"}, "spec": {"entrypoint": "main", "templates": [
        {"name": "main", "dag": {"tasks": [{"name": "a", "template": "echo"}]}},
        {"name": "echo", "container": {"image": "busybox", "command": ["sh", "-c", "echo hi"]}}]}}))
        .await;
    let wf = env.wait_phase("dag", "Failed").await;
    assert_eq!(
        wf["status"]["message"],
        "unsupported by the embedded Argo controller: DAG templates (templates.main.dag)"
    );
    env.create(json!({"metadata": {"name": "exit", "namespace": "argo"}, "spec": {"entrypoint": "echo", "onExit": "echo", "templates": [
        {"name": "echo", "container": {"image": "busybox", "command": ["sh", "-c", "echo hi"]}}]}}))
    .await;
    let wf = env.wait_phase("exit", "Failed").await;
    assert_eq!(wf["status"]["message"], "unsupported by the embedded Argo controller: exit handlers (spec.onExit)");
    env.create(json!({"metadata": {"name": "unresolved", "namespace": "argo"}, "spec": {"entrypoint": "echo", "templates": [
        {"name": "echo", "container": {"image": "busybox", "command": ["sh", "-c", "echo {{workflow.parameters.nope}}"]}}]}}))
    .await;
    let wf = env.wait_phase("unresolved", "Failed").await;
    assert_eq!(wf["status"]["message"], "invalid spec: templates.echo: failed to resolve {{workflow.parameters.nope}}");
    assert!(env.pod_names("dag").await.is_empty() && env.pod_names("unresolved").await.is_empty());
}

#[tokio::test]
async fn shell_containers_run_inline_workflows_with_items() {
    let env = start(0.0, ControllerConfig::default(), None).await;
    env.create(json!({"metadata": {"name": "items", "namespace": "argo"}, "spec": {"entrypoint": "main",
        "arguments": {"parameters": [{"name": "greeting", "value": "hello\nworld"}]},
        "templates": [
            {"name": "main", "steps": [[{"name": "say", "template": "say", "withItems": ["a", {"k": "v"}],
                "arguments": {"parameters": [{"name": "what", "value": "{{item}}"}]}}]]},
            {"name": "say", "inputs": {"parameters": [{"name": "what"}]},
             "container": {"image": "busybox", "command": ["sh", "-c"],
                "args": ["printf '%s|%s\\n' \"$1\" \"$2\"; exit 0", "sh", "{{inputs.parameters.what}}", "{{workflow.parameters.greeting}}"]}}]}}))
    .await;
    let wf = env.wait_phase("items", "Succeeded").await;
    let first = node(&wf, "items[0].say(0:a)");
    let second = node(&wf, "items[0].say(1:k:v)");
    assert_eq!((first.node_type, second.node_type), (NodeType::Pod, NodeType::Pod));
    assert_eq!(second.inputs.expect("inputs").parameters[0].value.as_deref(), Some(r#"{"k":"v"}"#));
    let log = env.log(&crate::common::pod_name("items", "items[0].say(0:a)", "say"), "main").await;
    assert_eq!(log, "a|hello\nworld\n", "a multi-line parameter arrives intact");
}

#[tokio::test]
async fn the_executor_reports_as_the_pods_service_account_under_rbac() {
    // `robot` exists but holds no role: the wait container cannot create its task result.
    let env = start(0.0, ControllerConfig::default(), None).await;
    let echo = json!({"name": "echo", "container": {"image": "busybox", "command": ["sh", "-c", "echo hi"]}});
    env.create(json!({"metadata": {"name": "norbac", "namespace": "argo"},
        "spec": {"entrypoint": "echo", "serviceAccountName": "robot", "templates": [echo.clone()]}}))
        .await;
    let wf = env.wait_phase("norbac", "Error").await;
    let forbidden = r#"workflowtaskresults.argoproj.io is forbidden: User "system:serviceaccount:argo:robot" cannot create resource "workflowtaskresults" in API group "argoproj.io" in the namespace "argo""#;
    let pod = node(&wf, "norbac");
    assert_eq!((pod.phase, pod.message), (NodePhase::Error, format!("wait: Error (exit code 1): {forbidden}")));
    assert_eq!(env.log(&crate::common::pod_name("norbac", "norbac", "echo"), "main").await, "hi\n", "main ran");

    // Bound to the executor Role (as `default` is here), the same workflow succeeds.
    env.create(json!({"metadata": {"name": "rbac", "namespace": "argo"},
        "spec": {"entrypoint": "echo", "templates": [echo.clone()]}}))
        .await;
    env.wait_phase("rbac", "Succeeded").await;

    // A service account that does not exist: the pod is refused at admission and the node errors
    // with the API server's message (Argo's createWorkflowPod on a non-transient error).
    env.create(json!({"metadata": {"name": "ghost", "namespace": "argo"},
        "spec": {"entrypoint": "echo", "serviceAccountName": "ghost", "templates": [echo]}}))
        .await;
    let wf = env.wait_phase("ghost", "Error").await;
    let pod_name = crate::common::pod_name("ghost", "ghost", "echo");
    let expected = format!(
        r#"pods "{pod_name}" is forbidden: error looking up service account argo/ghost: serviceaccount "ghost" not found"#
    );
    assert_eq!((node(&wf, "ghost").phase, node(&wf, "ghost").message), (NodePhase::Error, expected.clone()));
    assert_eq!(wf["status"]["message"], json!(format!("error in entry template execution: {expected}")));
    assert!(env.pod_names("ghost").await.is_empty());
}
