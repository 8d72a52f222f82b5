//! Embedded cluster throughput, as its own kube-rs client sees it over loopback TLS:
//! pod creates per second (kubelet off, then on, then as a service account authorized by RBAC
//! among thousands of namespaces with bindings) and log lines per second served.
//!
//! Run: `cargo bench --bench embedded_cluster` (optionally `-- PODS LOG_PODS LINES_PER_POD NAMESPACES`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

use std::sync::Arc;
use std::time::{Duration, Instant};

use embedded_cluster::store::UpdateScope;
use embedded_cluster::store::resource::Resource;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams, PostParams};
use serde_json::{Value, json};

/// A pod shaped like a typical batch workload (labels, env, a ConfigMap volume): ~1.5 KB of JSON.
fn branch_pod(i: usize) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": format!("branch-{i:05}"), "labels": {
            "example.com/batch-id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "example.com/customer-id": "799a8abb-653a-41c9-bec7-a47dba840eba",
            "example.com/operation": "nightly.reindex", "example.com/job": format!("job-{}", i % 100)},
            "annotations": {"example.com/job-ref": format!("team-{}/job-{}", i % 100, i % 100)}},
        "spec": {"restartPolicy": "Never", "activeDeadlineSeconds": 600,
            "volumes": [{"name": "settings", "configMap": {"name": format!("branch-{i:05}"), "optional": true}}],
            "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c"], "args": ["echo done"],
                "env": [
                    {"name": "APP_CUSTOMER_ID", "value": "799a8abb-653a-41c9-bec7-a47dba840eba"},
                    {"name": "APP_BATCH_ID", "value": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"},
                    {"name": "APP_OPERATION", "value": "nightly.reindex"},
                    {"name": "APP_SETTINGS_FILE", "value": "/etc/app/settings.yaml"},
                    {"name": "APP_CHANGES_FILE", "value": "/etc/app/changes.yaml"}],
                "volumeMounts": [{"name": "settings", "mountPath": "/etc/app", "readOnly": true}]}]}
    }))
    .expect("valid pod")
}

async fn create_pods(cluster: &EmbeddedCluster, count: usize, concurrency: usize) -> Duration {
    let pods: Api<Pod> = Api::namespaced(cluster.client().await.expect("client"), "default");
    create_pods_with(pods, count, concurrency).await
}

async fn create_pods_with(pods: Api<Pod>, count: usize, concurrency: usize) -> Duration {
    let start = Instant::now();
    stream::iter(0..count)
        .map(|i| {
            let pods = pods.clone();
            async move { pods.create(&PostParams::default(), &branch_pod(i)).await.map(|_| ()) }
        })
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await
        .expect("every create succeeds");
    start.elapsed()
}

fn report_creates(label: &str, count: usize, concurrency: usize, took: Duration) {
    println!(
        "pod creates ({label}): {count} pods, {concurrency} concurrent requests: {:.3} s -> {:.0} creates/s",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
}

/// Creates pods with the kubelet off and fills their logs directly on the node, so that only the
/// serving of logs is measured.
async fn seeded_logs(cluster: &EmbeddedCluster, pods: usize, lines: usize) -> Vec<String> {
    let api: Api<Pod> = Api::namespaced(cluster.client().await.expect("client"), "default");
    let mut names = Vec::new();
    for i in 0..pods {
        let pod = api.create(&PostParams::default(), &branch_pod(100_000 + i)).await.expect("create");
        let name = pod.metadata.name.clone().unwrap_or_default();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let log = cluster.logs().start(&uid, "main");
        let mut text = String::with_capacity(lines * 64);
        for n in 0..lines {
            text.push_str(&format!("{name} line {n:05} TASK [apply settings] changed: [host]\n"));
        }
        log.append(text.as_bytes());
        log.close();
        cluster
            .store()
            .modify(Resource::Pods, "default", &name, UpdateScope::Status, |cur| {
                let mut v: Value = cur.clone();
                v["status"] = json!({"phase": "Succeeded", "containerStatuses": [{"name": "main", "image": "busybox:1.36", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]});
                Ok(v)
            })
            .expect("status");
        names.push(name);
    }
    names
}

async fn serve_logs(cluster: &EmbeddedCluster, names: &[String], follow: bool) -> (Duration, usize) {
    let api: Api<Pod> = Api::namespaced(cluster.client().await.expect("client"), "default");
    let start = Instant::now();
    let counts: Vec<usize> = stream::iter(names.iter().cloned())
        .map(|name| {
            let api = api.clone();
            async move {
                let params = LogParams { follow, timestamps: true, ..Default::default() };
                let body = api.log_stream(&name, &params).await.expect("log stream");
                let mut lines = futures::io::AsyncBufReadExt::lines(body);
                let mut n = 0;
                while let Some(line) = lines.next().await {
                    line.expect("line");
                    n += 1;
                }
                n
            }
        })
        .buffer_unordered(names.len().max(1))
        .collect()
        .await;
    (start.elapsed(), counts.iter().sum())
}

/// Creates pods whose scripts print `lines` lines each and follows every log from the moment the
/// container starts: the kubelet interprets the loops while the server streams.
async fn live_logs(pods: usize, lines: usize) -> (Duration, usize) {
    let mut config = ClusterConfig::new("bench-live").with_time_scale(0.0);
    config.kubelet.events = false;
    let cluster = EmbeddedCluster::start(config).await.expect("cluster");
    let api: Api<Pod> = Api::namespaced(cluster.client().await.expect("client"), "default");
    let script = format!(
        "i=0\nwhile [ $i -lt {lines} ]; do\n  echo \"[nightly.reindex] step $i of {lines}: TASK [apply settings] changed\"\n  i=$((i+1))\ndone"
    );
    let start = Instant::now();
    let counts: Vec<usize> = stream::iter(0..pods)
        .map(|i| {
            let api = api.clone();
            let script = script.clone();
            async move {
                let name = format!("live-{i:04}");
                let pod: Pod =
                    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"restartPolicy": "Never",
                    "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}]}}))
                    .expect("pod");
                api.create(&PostParams::default(), &pod).await.expect("create");
                // Follow as soon as the container can be followed (400 while it is being created).
                let body = loop {
                    match api.log_stream(&name, &LogParams { follow: true, ..Default::default() }).await {
                        Ok(b) => break b,
                        Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                    }
                };
                let mut lines = futures::io::AsyncBufReadExt::lines(body);
                let mut n = 0;
                while let Some(line) = lines.next().await {
                    line.expect("line");
                    n += 1;
                }
                n
            }
        })
        .buffer_unordered(pods.max(1))
        .collect()
        .await;
    (start.elapsed(), counts.iter().sum())
}

fn arg(n: usize, default: usize) -> usize {
    std::env::args().filter(|a| !a.starts_with('-')).nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let create_count = arg(1, 5000);
    let log_pods = arg(2, 200);
    let lines = arg(3, 5000);
    let namespaces = arg(4, 2000);
    println!(
        "embedded cluster benchmark: kube-rs client over loopback TLS, {} CPU(s)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    for (label, kubelet) in [("kubelet off", false), ("kubelet on, instant containers", true)] {
        let mut config = ClusterConfig::new("bench").with_time_scale(0.0);
        config.kubelet.enabled = kubelet;
        config.history_capacity = 200_000;
        let cluster = Arc::new(EmbeddedCluster::start(config).await.expect("cluster"));
        let took = create_pods(&cluster, create_count, 64).await;
        report_creates(label, create_count, 64, took);
    }

    // Every request of a service account goes through RBAC: bound in one namespace among many,
    // each with its own Role and RoleBindings (to its service accounts and a group).
    let mut config = ClusterConfig::new("bench-rbac").with_time_scale(0.0);
    config.kubelet.enabled = false;
    config.history_capacity = 200_000;
    let cluster = EmbeddedCluster::start(config).await.expect("cluster");
    let started = Instant::now();
    for n in 0..namespaces {
        let ns = format!("team-{n:05}");
        let store = cluster.store();
        store.create(Resource::Namespaces, json!({"metadata": {"name": ns}})).expect("namespace");
        store
            .create(Resource::ServiceAccounts, json!({"metadata": {"name": "runner", "namespace": ns}}))
            .expect("service account");
        store
            .create(Resource::Roles, json!({"metadata": {"name": "pod-maker", "namespace": ns},
                "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["create", "get", "list", "watch"]}]}))
            .expect("role");
        for (name, subject) in [
            ("runner-makes-pods", json!({"kind": "ServiceAccount", "name": "runner", "namespace": ns})),
            (
                "auditors-make-pods",
                json!({"kind": "Group", "name": "auditors", "apiGroup": "rbac.authorization.k8s.io"}),
            ),
        ] {
            store
                .create(
                    Resource::RoleBindings,
                    json!({"metadata": {"name": name, "namespace": ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-maker"},
                    "subjects": [subject]}),
                )
                .expect("role binding");
        }
    }
    let target = format!("team-{:05}", namespaces / 2);
    let client = cluster.service_account_client(&target, "runner").await.expect("service account client");
    println!(
        "RBAC estate: {namespaces} namespaces, each with a service account, a Role and 2 RoleBindings (seeded in {:.3} s)",
        started.elapsed().as_secs_f64()
    );
    // Unmeasured: the previous cluster's pods are still finishing on the node (the kubelet-on run
    // leaves thousands of pod workers behind), which would slow whichever part comes first.
    let admin = cluster.client().await.expect("client");
    let warm_up = format!("team-{:05}", namespaces / 2 + 2);
    create_pods_with(Api::namespaced(admin.clone(), &warm_up), create_count, 64).await;
    let took = create_pods_with(Api::namespaced(client, &target), create_count, 64).await;
    report_creates("kubelet off, as a service account authorized by RBAC", create_count, 64, took);
    let other = format!("team-{:05}", namespaces / 2 + 1);
    let took = create_pods_with(Api::namespaced(admin, &other), create_count, 64).await;
    report_creates("kubelet off, as the admin in the same estate", create_count, 64, took);
    drop(cluster);

    let mut config = ClusterConfig::new("bench-logs");
    config.kubelet.enabled = false;
    let cluster = EmbeddedCluster::start(config).await.expect("cluster");
    let names = seeded_logs(&cluster, log_pods, lines).await;
    for follow in [false, true] {
        let (took, got) = serve_logs(&cluster, &names, follow).await;
        let expected = log_pods * lines;
        println!(
            "log lines served ({}): {log_pods} pods x {lines} lines with timestamps, all streams concurrent: {got} lines ({} lost) in {:.3} s -> {:.0} lines/s",
            if follow { "follow=true, completed containers" } else { "follow=false" },
            expected.saturating_sub(got),
            took.as_secs_f64(),
            got as f64 / took.as_secs_f64()
        );
    }
    let (took, got) = live_logs(log_pods, lines).await;
    println!(
        "log lines produced and followed live: {log_pods} pods x {lines} lines printed by interpreted scripts, followed from container start: {got} lines ({} lost) in {:.3} s -> {:.0} lines/s",
        (log_pods * lines).saturating_sub(got),
        took.as_secs_f64(),
        got as f64 / took.as_secs_f64()
    );
}
