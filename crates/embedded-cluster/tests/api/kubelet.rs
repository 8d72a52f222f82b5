//! The simulated kubelet's pod lifecycle as a client sees it: phases and container states, a
//! ConfigMap volume that appears after the pod (the bridge's order), activeDeadlineSeconds,
//! restarts with back-off and `previous` logs, init containers, configuration errors.

use embedded_cluster::ClusterConfig;
use embedded_cluster::testing::{
    DEADLINE, cluster, cluster_with, eventually, exit_code, run_pod, script_pod, wait_finished,
};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use kube::api::{Api, ListParams, LogParams, PostParams};
use serde_json::json;

fn pod(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).expect("valid pod")
}

fn waiting_reason(p: &Pod) -> Option<String> {
    p.status.as_ref()?.container_statuses.as_ref()?.first()?.state.as_ref()?.waiting.as_ref()?.reason.clone()
}

#[tokio::test]
async fn a_pod_waits_for_its_configmap_then_runs_with_the_files() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let p = pod(json!({"metadata": {"name": "bridged"}, "spec": {"restartPolicy": "Never",
        "volumes": [{"name": "ctx", "configMap": {"name": "bridged-ctx"}}],
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "cat /ctx/environment.yaml"],
            "volumeMounts": [{"name": "ctx", "mountPath": "/ctx"}]}]}}));
    pods.create(&PostParams::default(), &p).await.expect("pod first");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    eventually("a FailedMount event", || {
        let events = events.clone();
        async move {
            let list = events
                .list(&ListParams::default().fields("involvedObject.name=bridged,reason=FailedMount"))
                .await
                .ok()?;
            list.items.first().map(|e| e.message.clone().unwrap_or_default())
        }
    })
    .await;
    assert_eq!(pods.get("bridged").await.expect("pod").status.and_then(|s| s.phase).as_deref(), Some("Pending"));
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "bridged-ctx"}, "data": {"environment.yaml": "id: 42\n"}}))
            .expect("cm");
    cms.create(&PostParams::default(), &cm).await.expect("configmap second");
    let done = wait_finished(&pods, "bridged").await;
    assert_eq!(exit_code(&done), 0);
    assert_eq!(pods.logs("bridged", &LogParams::default()).await.expect("log"), "id: 42\n");
}

#[tokio::test]
async fn active_deadline_fails_the_pod_with_deadline_exceeded() {
    let c = cluster_with(ClusterConfig::new("test").with_time_scale(0.01)).await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let p = pod(json!({"metadata": {"name": "slow"}, "spec": {"restartPolicy": "Never", "activeDeadlineSeconds": 5,
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo start; sleep 3600; echo never"]}]}}));
    let done = run_pod(&pods, &p).await;
    let status = done.status.clone().expect("status");
    assert_eq!((status.phase.as_deref(), status.reason.as_deref()), (Some("Failed"), Some("DeadlineExceeded")));
    assert_eq!(exit_code(&done), 137);
    assert_eq!(pods.logs("slow", &LogParams::default()).await.expect("log"), "start\n");
}

#[tokio::test]
async fn lowering_a_running_pods_deadline_stops_it_and_keeps_it_and_raising_or_removing_it_is_refused() {
    // 600,000 simulated seconds are 100 real minutes at this scale, far beyond the wait below: only
    // the lowered deadline can end it in time.
    let c = cluster_with(ClusterConfig::new("test").with_time_scale(0.01)).await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let p = pod(
        json!({"metadata": {"name": "long"}, "spec": {"restartPolicy": "Never", "activeDeadlineSeconds": 600000,
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo start; sleep 3600000; echo never"]}]}}),
    );
    pods.create(&PostParams::default(), &p).await.expect("create");
    eventually("the pod running", || {
        let pods = pods.clone();
        async move {
            let p = pods.get("long").await.ok()?;
            (p.status?.phase.as_deref() == Some("Running")).then_some(())
        }
    })
    .await;
    let patch = |v: serde_json::Value| kube::api::Patch::Merge(v);
    let params = kube::api::PatchParams::default();
    let raised = pods.patch("long", &params, &patch(json!({"spec": {"activeDeadlineSeconds": 700000}}))).await;
    let message = |r: Result<Pod, kube::Error>| match r {
        Err(kube::Error::Api(s)) => (s.code, s.message),
        other => panic!("refused expected: {other:?}"),
    };
    assert_eq!(
        message(raised),
        (422, "Pod \"long\" is invalid: spec.activeDeadlineSeconds: Invalid value: 700000: must be less than or equal to previous value".into())
    );
    let removed = pods.patch("long", &params, &patch(json!({"spec": {"activeDeadlineSeconds": null}}))).await;
    assert_eq!(
        message(removed),
        (422, "Pod \"long\" is invalid: spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value".into())
    );
    pods.patch("long", &params, &patch(json!({"spec": {"activeDeadlineSeconds": 1}}))).await.expect("lowered");
    let done = wait_finished(&pods, "long").await;
    let status = done.status.clone().expect("status");
    assert_eq!((status.phase.as_deref(), status.reason.as_deref()), (Some("Failed"), Some("DeadlineExceeded")));
    assert_eq!(pods.logs("long", &LogParams::default()).await.expect("the log is still there"), "start\n");
    assert!(pods.get_opt("long").await.expect("get").is_some(), "the pod is kept");
}

#[tokio::test]
async fn on_failure_restarts_and_keeps_the_previous_log() {
    let c = cluster_with(ClusterConfig::new("test").with_time_scale(0.001)).await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    // `$(...)` is outside the subset: every attempt fails with 127 and the kubelet keeps restarting it.
    let p = pod(json!({"metadata": {"name": "flaky"}, "spec": {"restartPolicy": "OnFailure",
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo \"$(date)\""]}]}}));
    pods.create(&PostParams::default(), &p).await.expect("create");
    let restarted = eventually("a restart", || {
        let pods = pods.clone();
        async move {
            let p = pods.get("flaky").await.ok()?;
            let cs = p.status.as_ref()?.container_statuses.as_ref()?.first()?.clone();
            (cs.restart_count >= 1).then_some(cs)
        }
    })
    .await;
    let last = restarted.last_state.and_then(|s| s.terminated).expect("last state");
    assert_eq!(last.exit_code, 127);
    let previous = pods.logs("flaky", &LogParams { previous: true, ..Default::default() }).await.expect("previous log");
    assert!(previous.contains("command substitution"), "{previous}");
    let phase = pods.get("flaky").await.expect("pod").status.and_then(|s| s.phase);
    assert!(matches!(phase.as_deref(), Some("Running" | "Pending")), "a restarting pod is not terminal: {phase:?}");
}

#[tokio::test]
async fn init_containers_run_first_in_order() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let p = pod(json!({"metadata": {"name": "init"}, "spec": {"restartPolicy": "Never",
        "initContainers": [{"name": "setup", "image": "busybox", "command": ["sh", "-c", "echo preparing"]}],
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo main"]}]}}));
    let done = run_pod(&pods, &p).await;
    assert_eq!(done.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded"));
    let init = done.status.as_ref().and_then(|s| s.init_container_statuses.clone()).expect("init statuses");
    assert_eq!(init[0].state.as_ref().and_then(|s| s.terminated.as_ref()).map(|t| t.exit_code), Some(0));
    let setup =
        pods.logs("init", &LogParams { container: Some("setup".into()), ..Default::default() }).await.expect("log");
    assert_eq!(setup, "preparing\n");
    let failing = pod(json!({"metadata": {"name": "init-fails"}, "spec": {"restartPolicy": "Never",
        "initContainers": [{"name": "setup", "image": "busybox", "command": ["sh", "-c", "exit 4"]}],
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo never"]}]}}));
    let done = run_pod(&pods, &failing).await;
    assert_eq!(done.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Failed"));
    let (code, _, _) = embedded_cluster::testing::api_error(
        pods.logs("init-fails", &LogParams { container: Some("main".into()), ..Default::default() })
            .await
            .expect_err("never started"),
    );
    assert_eq!(code, 400);
}

#[tokio::test]
async fn a_missing_configmap_key_is_create_container_config_error() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let p = pod(json!({"metadata": {"name": "cfgerr"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo $K"],
            "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}]}]}}));
    pods.create(&PostParams::default(), &p).await.expect("create");
    let reason = eventually("CreateContainerConfigError", || {
        let pods = pods.clone();
        async move { waiting_reason(&pods.get("cfgerr").await.ok()?).filter(|r| r == "CreateContainerConfigError") }
    })
    .await;
    assert_eq!(reason, "CreateContainerConfigError");
}

#[tokio::test]
async fn exit_codes_and_phases_follow_the_script() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    for (name, script, code, phase) in [
        ("ok", "echo fine", 0, "Succeeded"),
        ("two", "exit 2", 2, "Failed"),
        ("wrap", "exit 257", 1, "Failed"),
        ("set-e", "set -e; false; echo never", 1, "Failed"),
        ("or", "false || echo recovered", 0, "Succeeded"),
    ] {
        let done = tokio::time::timeout(DEADLINE, run_pod(&pods, &script_pod(name, script))).await.expect("in time");
        assert_eq!(exit_code(&done), code, "{name}");
        assert_eq!(done.status.and_then(|s| s.phase).as_deref(), Some(phase), "{name}");
    }
}
