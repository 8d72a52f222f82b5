//! Helpers for tests against an embedded cluster, here and in the crates that use it: start a
//! cluster, wait on conditions with a deadline (never a fixed sleep), build and run pods. They are
//! for tests, so they fail by panicking with a message that says what did not happen.
#![allow(clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::time::Duration;

use crate::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use serde_json::json;

/// How long any wait in the tests may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A cluster where simulated time is instant.
pub async fn cluster() -> EmbeddedCluster {
    cluster_with(ClusterConfig::new("test").with_time_scale(0.0)).await
}

/// A cluster with a custom config.
pub async fn cluster_with(config: ClusterConfig) -> EmbeddedCluster {
    EmbeddedCluster::start(config).await.expect("embedded cluster starts")
}

/// Polls `check` until it returns `Some`, failing the test at the deadline with `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The API error code and reason of a kube-rs error.
pub fn api_error(err: kube::Error) -> (u16, String, String) {
    match err {
        kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A `restartPolicy: Never` pod running `script` with `sh -c`.
pub fn script_pod(name: &str, script: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}]}
    }))
    .expect("valid pod")
}

/// Creates a pod and waits until it has finished; returns it.
pub async fn run_pod(pods: &Api<Pod>, pod: &Pod) -> Pod {
    let name = pod.metadata.name.clone().expect("named pod");
    pods.create(&PostParams::default(), pod).await.expect("pod created");
    wait_finished(pods, &name).await
}

/// Waits (on a watch) until the pod is Succeeded or Failed.
pub async fn wait_finished(pods: &Api<Pod>, name: &str) -> Pod {
    let cond = kube::runtime::wait::await_condition(pods.clone(), name, |p: Option<&Pod>| {
        matches!(p.and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
    });
    tokio::time::timeout(DEADLINE, cond)
        .await
        .expect("pod finishes before the deadline")
        .expect("watch works")
        .expect("pod exists")
}

/// The exit code of a finished pod's first container.
pub fn exit_code(pod: &Pod) -> i32 {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|cs| cs.first())
        .and_then(|c| c.state.as_ref())
        .and_then(|s| s.terminated.as_ref())
        .map(|t| t.exit_code)
        .expect("terminated container")
}
