//! Pod logs through kube-rs: follow returns exactly what the script printed, exit codes match,
//! the log parameters behave like a real kubelet's, and the error cases are real Status errors.

use embedded_cluster::ClusterConfig;
use embedded_cluster::testing::{
    DEADLINE, api_error, cluster, cluster_with, exit_code, run_pod, script_pod, wait_finished,
};
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn follow_returns_exactly_the_printed_lines_and_the_exit_code_matches() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let script = "i=0\nwhile [ $i -lt 500 ]; do echo \"line $i\"; i=$((i+1)); done\necho bye >&2\nexit 7";
    pods.create(&PostParams::default(), &script_pod("counter", script)).await.expect("create");
    // Follow as soon as the container can be followed.
    let lines = embedded_cluster::testing::eventually("the log stream to open", || {
        let pods = pods.clone();
        async move { pods.log_stream("counter", &LogParams { follow: true, ..Default::default() }).await.ok() }
    })
    .await;
    let got: Vec<String> =
        tokio::time::timeout(DEADLINE, lines.lines().try_collect()).await.expect("stream ends").expect("reads");
    let mut want: Vec<String> = (0..500).map(|i| format!("line {i}")).collect();
    want.push("bye".into());
    assert_eq!(got, want);
    let pod = wait_finished(&pods, "counter").await;
    assert_eq!(exit_code(&pod), 7);
    assert_eq!(pod.status.and_then(|s| s.phase).as_deref(), Some("Failed"));
}

#[tokio::test]
async fn tail_limit_timestamps_and_since() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let pod = run_pod(&pods, &script_pod("five", "for n in one two three four five; do echo $n; done")).await;
    assert_eq!(exit_code(&pod), 0);
    let tail = pods.logs("five", &LogParams { tail_lines: Some(2), ..Default::default() }).await.expect("tail");
    assert_eq!(tail, "four\nfive\n");
    let limited = pods.logs("five", &LogParams { limit_bytes: Some(6), ..Default::default() }).await.expect("limit");
    assert_eq!(limited, "one\ntw");
    let stamped = pods.logs("five", &LogParams { timestamps: true, ..Default::default() }).await.expect("timestamps");
    for (line, word) in stamped.lines().zip(["one", "two", "three", "four", "five"]) {
        let (ts, text) = line.split_once(' ').expect("timestamp prefix");
        assert_eq!(text, word);
        assert!(ts.parse::<jiff::Timestamp>().is_ok(), "RFC3339 timestamp: {ts}");
    }
    let recent =
        pods.logs("five", &LogParams { since_seconds: Some(3600), ..Default::default() }).await.expect("since");
    assert_eq!(recent.lines().count(), 5);
    // sinceTime has whole-second precision, as on a real cluster: a time in the future selects nothing.
    let future = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(3600)).expect("time");
    let none =
        pods.logs("five", &LogParams { since_time: Some(future), ..Default::default() }).await.expect("sinceTime");
    assert_eq!(none, "");
}

#[tokio::test]
async fn errors_are_status_objects() {
    let mut config = ClusterConfig::new("test").with_time_scale(0.0);
    config.kubelet.startup_delay = std::time::Duration::from_secs(3600);
    config.kubelet.time_scale = 1.0;
    let c = cluster_with(config).await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    pods.create(&PostParams::default(), &script_pod("waiting", "echo hi")).await.expect("create");
    let (code, _, message) = api_error(pods.logs("waiting", &LogParams::default()).await.expect_err("not started"));
    assert_eq!(
        (code, message.as_str()),
        (400, "container \"main\" in pod \"waiting\" is waiting to start: ContainerCreating")
    );
    let (code, _, message) = api_error(pods.logs("nope", &LogParams::default()).await.expect_err("no pod"));
    assert_eq!((code, message.as_str()), (404, "pods \"nope\" not found"));
    let two: Pod =
        serde_json::from_value(json!({"metadata": {"name": "two"}, "spec": {"restartPolicy": "Never", "containers": [
        {"name": "a", "image": "busybox", "command": ["sh", "-c", "echo a"]},
        {"name": "b", "image": "busybox", "command": ["sh", "-c", "echo b"]}]}}))
        .expect("pod");
    pods.create(&PostParams::default(), &two).await.expect("create");
    let (code, _, message) = api_error(pods.logs("two", &LogParams::default()).await.expect_err("ambiguous"));
    assert_eq!((code, message.as_str()), (400, "a container name must be specified for pod two, choose one of: [a b]"));
    let (code, _, message) = api_error(
        pods.logs("two", &LogParams { container: Some("c".into()), ..Default::default() })
            .await
            .expect_err("bad container"),
    );
    assert_eq!((code, message.as_str()), (400, "container c is not valid for pod two"));
}

#[tokio::test]
async fn unsupported_commands_fail_with_127_and_say_why() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    // Like a real shell: a command that is not there fails with 127 when reached; with `set -e`
    // the script stops there.
    let pod =
        run_pod(&pods, &script_pod("tf", "set -e\necho planning\nterraform apply -auto-approve\necho unreachable"))
            .await;
    assert_eq!(exit_code(&pod), 127);
    let log = pods.logs("tf", &LogParams::default()).await.expect("log");
    assert!(log.starts_with("planning\n"), "{log}");
    assert!(log.contains("terraform: not found"), "the log names the missing command: {log}");
    assert!(!log.contains("unreachable"), "{log}");
    let syntax = run_pod(&pods, &script_pod("pipe", "echo a | cat")).await;
    assert_eq!(exit_code(&syntax), 127);
    let log = pods.logs("pipe", &LogParams::default()).await.expect("log");
    assert!(log.contains("pipes ('|') are not supported"), "{log}");
    let image_default: Pod =
        serde_json::from_value(json!({"metadata": {"name": "nginx"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "web", "image": "nginx:1.27"}]}}))
        .expect("pod");
    let pod = run_pod(&pods, &image_default).await;
    assert_eq!(exit_code(&pod), 127);
}

#[tokio::test]
async fn files_from_configmap_volumes_and_env_reach_the_script() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let cms: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "ctx"}, "data": {"environment.yaml": "id: t-1\nname: acme\n"}}),
        )
        .expect("cm"),
    )
    .await
    .expect("cm");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "reader"}, "spec": {"restartPolicy": "Never",
        "volumes": [{"name": "ctx", "configMap": {"name": "ctx"}}],
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo \"tenant=$TENANT\"; cat \"$DIR/environment.yaml\""],
            "env": [{"name": "TENANT", "value": "t-1"}, {"name": "DIR", "value": "/mount/point"}],
            "volumeMounts": [{"name": "ctx", "mountPath": "/mount/point", "readOnly": true}]}]}}))
    .expect("pod");
    let done = run_pod(&pods, &pod).await;
    assert_eq!(exit_code(&done), 0);
    assert_eq!(pods.logs("reader", &LogParams::default()).await.expect("log"), "tenant=t-1\nid: t-1\nname: acme\n");
}
