//! Fan-out benchmark: tlc's WorkflowTemplate with 1,000 and 2,000 branches on an embedded cluster
//! at time scale 0 (containers take no simulated time), run by the embedded Argo controller with a
//! stand-in `tlc`. Measured through public tools only (kube-rs watches, the controller's counters):
//! time until every bridge pod has been created, time until the workflow ends, the status size
//! (nodes as JSON against what is written compressed), and operate time per status write.
//!
//! `cargo bench -p embedded-argo --bench fanout` (`-- 1000` to run one size).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is a failed run with its message

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use embedded_argo::{Controller, ControllerConfig};
use embedded_cluster::kubelet::Invocation;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::runtime::watcher::{self, Event, watcher};
use serde_json::{Value, json};

/// The namespace, tlc's ConfigMap, the template's service account and Argo's executor Role
/// (`workflowtaskresults` create, patch) bound to it: the executor reports under RBAC.
const SETUP: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: argo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tlc, namespace: argo}
data: {region: bench, config.toml: ""}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: tenant-lifecycle, namespace: argo}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: executor, namespace: argo}
rules: [{apiGroups: [argoproj.io], resources: [workflowtaskresults], verbs: [create, patch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: executor, namespace: argo}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: executor}
subjects: [{kind: ServiceAccount, name: tenant-lifecycle, namespace: argo}]
"#;

const TEMPLATE: &str = include_str!("../../../deploy/argo/workflow-template.yaml");

fn arg<'a>(argv: &'a [String], name: &str) -> Option<&'a str> {
    argv.iter().find_map(|a| a.strip_prefix(&format!("--{name}=")))
}

/// The stand-in `tlc`: `discover` lists `jobs` Jobs, `bridge` prints two lines and succeeds.
fn tlc(jobs: usize) -> Arc<dyn embedded_cluster::kubelet::Binary> {
    let list: Vec<Value> =
        (0..jobs).map(|i| json!({"name": format!("job-{i:04}"), "namespace": format!("team-{}", i % 20)})).collect();
    let list = Arc::new(serde_json::to_string(&list).unwrap());
    Arc::new(move |inv: Invocation| {
        let list = list.clone();
        async move {
            match inv.argv.get(1).map(String::as_str) {
                Some("discover") => {
                    let dir = arg(&inv.argv, "outputs").unwrap_or("/tmp/tlc").to_string();
                    let _ = inv.fs.write(&format!("{dir}/jobs.json"), list.as_bytes());
                    let _ = inv.fs.write(&format!("{dir}/batch"), b"0197a0c6-0000-7000-8000-0000000be7c4\n");
                    0
                }
                _ => {
                    inv.stdout.line(&format!("bridge {} started", arg(&inv.argv, "job").unwrap_or_default()));
                    inv.stdout.line("bridge exit 0");
                    0
                }
            }
        }
    })
}

struct Figures {
    pods_created: Duration,
    ended: Duration,
    phase: String,
    nodes: usize,
    nodes_bytes: usize,
    written_bytes: usize,
    compressed: bool,
}

async fn run(branches: usize) -> (Figures, embedded_argo::ControllerStats) {
    let mut config = ClusterConfig::new("bench").with_time_scale(0.0);
    config.history_capacity = 500_000;
    config.kubelet.events = false;
    let cluster = EmbeddedCluster::start(config).await.unwrap();
    cluster.install_binary("tlc", tlc(branches));
    let controller = Controller::start(&cluster, ControllerConfig::default());
    cluster.apply_manifests("setup", SETUP).unwrap();
    cluster.apply_manifests("template", TEMPLATE).unwrap();
    let client = cluster.client().await.unwrap();
    let wf_resource = ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow"));
    let workflows: Api<DynamicObject> = Api::namespaced_with(client.clone(), "argo", &wf_resource);
    let pods: Api<Pod> = Api::namespaced(client.clone(), "argo");

    let name = format!("fanout-{branches}");
    let pod_watch = watcher(pods, watcher::Config::default().labels(&format!("workflows.argoproj.io/workflow={name}")));
    let wf_watch = watcher(workflows.clone(), watcher::Config::default().fields(&format!("metadata.name={name}")));
    let start = Instant::now();
    let pods_task = tokio::spawn(async move {
        let mut seen = HashSet::new();
        futures::pin_mut!(pod_watch);
        while let Some(Ok(ev)) = pod_watch.next().await {
            if let Event::Apply(p) | Event::InitApply(p) = ev {
                let n = p.metadata.name.unwrap_or_default();
                if n.contains("-bridge-") {
                    seen.insert(n);
                }
                if seen.len() == branches {
                    return start.elapsed();
                }
            }
        }
        Duration::ZERO
    });
    let wf_task = tokio::spawn(async move {
        futures::pin_mut!(wf_watch);
        while let Some(Ok(ev)) = wf_watch.next().await {
            if let Event::Apply(w) | Event::InitApply(w) = ev {
                let w = serde_json::to_value(w).unwrap();
                if matches!(w["status"]["phase"].as_str(), Some("Succeeded" | "Failed" | "Error")) {
                    return (start.elapsed(), w);
                }
            }
        }
        (Duration::ZERO, Value::Null)
    });
    let workflow = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name, "namespace": "argo"},
        "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"},
            "arguments": {"parameters": [{"name": "tenant", "value": "bench"}, {"name": "operation", "value": "lifecycle.upsert"}]}}});
    workflows.create(&PostParams::default(), &serde_json::from_value(workflow).unwrap()).await.unwrap();
    let (ended, wf) =
        tokio::time::timeout(Duration::from_secs(1800), wf_task).await.expect("the workflow ends").unwrap();
    let pods_created =
        tokio::time::timeout(Duration::from_secs(60), pods_task).await.map(|r| r.unwrap()).unwrap_or_default();
    let nodes = embedded_argo::packer::hydrate(&wf["status"]).unwrap();
    let figures = Figures {
        pods_created,
        ended,
        phase: wf["status"]["phase"].as_str().unwrap_or_default().to_string(),
        nodes: nodes.len(),
        nodes_bytes: serde_json::to_vec(&nodes).unwrap().len(),
        written_bytes: serde_json::to_vec(&wf).unwrap().len(),
        compressed: wf["status"].get("compressedNodes").is_some_and(|c| c.as_str().is_some_and(|s| !s.is_empty())),
    };
    let stats = controller.stats();
    controller.stop().await;
    cluster.shutdown().await;
    (figures, stats)
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1000, 2000] } else { sizes };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!("embedded Argo fan-out: tlc's WorkflowTemplate (parallelism 50), time scale 0");
    for branches in sizes {
        let (f, s) = runtime.block_on(run(branches));
        let per_write =
            if s.status_writes > 0 { s.operate_micros as f64 / s.status_writes as f64 / 1000.0 } else { 0.0 };
        println!("{branches:>5} branches: {}", f.phase);
        println!("        all {branches} bridge pods created after {:>8.2} s", f.pods_created.as_secs_f64());
        println!("        workflow ended after            {:>8.2} s", f.ended.as_secs_f64());
        println!(
            "        status: {} nodes, {:.1} KiB as JSON; the workflow written is {:.1} KiB ({})",
            f.nodes,
            f.nodes_bytes as f64 / 1024.0,
            f.written_bytes as f64 / 1024.0,
            if f.compressed { "compressedNodes" } else { "nodes" }
        );
        println!(
            "        controller: {} operations, {} status writes, {:.2} ms operating per status write",
            s.operations, s.status_writes, per_write
        );
    }
}
