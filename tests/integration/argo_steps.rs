//! The WorkflowTemplate's two steps as its pods run them in an embedded cluster: the shipped
//! template's own container specs (`deploy/argo/workflow-template.yaml`), the shipped configuration
//! and RBAC, the service account's identity, and the product's `tlc` installed as an in-process
//! binary — the same code a real pod runs.

use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use serde_json::{Value, json};

use crate::common::{cluster_with, exit_code, run_pod, wait_finished};

/// A cluster like a `tlc demo` region: the demo estate, the kit, `tlc` installed, Argo's
/// controller running (for as long as the second value lives).
pub async fn region_with_kit(name: &str, time_scale: f64) -> (EmbeddedCluster, tlc::demo::argo::Equipped) {
    let c = cluster_with(ClusterConfig::new(name).with_time_scale(time_scale)).await;
    tlc::demo::examples::seed(c.store(), name).expect("demo estate");
    let equipped = tlc::demo::argo::equip(&c).expect("the kit applies");
    (c, equipped)
}

/// A pod running the template's `step` container with its parameters filled in, as Argo would.
fn step_pod(name: &str, step: &str, params: &[(&str, &str)]) -> Pod {
    let template: Value = serde_saphyr::from_str(tlc::demo::argo::WORKFLOW_TEMPLATE).expect("template");
    let spec = &template["spec"];
    let t = spec["templates"].as_array().expect("templates").iter().find(|t| t["name"] == step).expect("step");
    let mut container = t["container"].clone();
    let fill = |s: &str| {
        params
            .iter()
            .fold(s.to_string(), |s, (k, v)| {
                s.replace(&format!("{{{{workflow.parameters.{k}}}}}"), v)
                    .replace(&format!("{{{{inputs.parameters.{k}}}}}"), v)
            })
            // The Workflow's own globals, as Argo fills them for a pod of Workflow argo/{name}.
            .replace("{{workflow.namespace}}", "argo")
            .replace("{{workflow.name}}", name)
    };
    let args: Vec<Value> =
        container["args"].as_array().expect("args").iter().map(|a| json!(fill(a.as_str().expect("text")))).collect();
    assert!(args.iter().all(|a| !a.as_str().is_some_and(|a| a.contains("{{"))), "every parameter given: {args:?}");
    container["args"] = json!(args);
    container["name"] = json!("main");
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "argo"},
        "spec": {"restartPolicy": "Never", "serviceAccountName": spec["serviceAccountName"],
            "volumes": spec["volumes"], "containers": [container]}
    }))
    .expect("a pod")
}

async fn log_of(pods: &Api<Pod>, name: &str) -> String {
    pods.logs(name, &LogParams::default()).await.expect("log")
}

#[tokio::test]
async fn discovery_and_the_bridge_run_in_their_pods_with_the_shipped_kit() {
    let (c, _argo) = region_with_kit("eu-west", 0.0).await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "argo");
    let discover = |name: &str, tenant: &str| {
        step_pod(
            name,
            "discover",
            &[("operation", "lifecycle.upsert"), ("tenant", tenant), ("batch", ""), ("jobs", ""), ("changeset", "")],
        )
    };
    let found = run_pod(&pods, &discover("discover", "globex-prod")).await;
    let log = log_of(&pods, "discover").await;
    assert_eq!(exit_code(&found), 0, "{log}");
    let jobs: Value = serde_json::from_str(log.lines().next().expect("the seed's list")).expect("json");
    assert_eq!(jobs.as_array().map(Vec::len), Some(8), "{log}");
    assert!(log.contains("tlc discover: batch ") && log.contains(": lifecycle.upsert on 8 Job(s): "), "{log}");

    let unknown = run_pod(&pods, &discover("discover-unknown", "nobody")).await;
    assert_eq!(exit_code(&unknown), 1);
    assert_eq!(log_of(&pods, "discover-unknown").await.trim(), "tlc: no tenant named or with id \"nobody\" in eu-west");

    let batch = "01000000-0000-7000-8000-0000000000ab";
    let bridge = step_pod(
        "bridge",
        "bridge",
        &[
            ("job", "lineage/lineage-graph"),
            ("tenant", "globex-prod"),
            ("operation", "lifecycle.upsert"),
            ("batch", batch),
            ("changeset", "reason: a test\n"),
            ("migration", ""),
            ("migration-target", ""),
        ],
    );
    let ended = run_pod(&pods, &bridge).await;
    let log = log_of(&pods, "bridge").await;
    assert_eq!(exit_code(&ended), 2, "the branch's exit code: {log}");
    assert!(log.contains("Error: lineage graph for tenant 740faf5f"), "the branch's log is the step's: {log}");
    let branches: Api<Pod> = Api::namespaced(client, "lineage");
    let listed =
        branches.list(&ListParams::default().labels(&format!("tlc.dev/batch-id={batch}"))).await.expect("list");
    let [branch] = listed.items.as_slice() else { panic!("one branch pod: {:?}", listed.items.len()) };
    let labels = branch.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("tlc.dev/engine").map(String::as_str), Some("argo"));
    let annotations = branch.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations.get("tlc.dev/region").map(String::as_str), Some("eu-west"), "TLC_REGION from the kit");
}

/// Waits (on a watch) until a pod matching `selector` in `namespace` has its containers running.
async fn running_branch(client: &kube::Client, namespace: &str, selector: &str) -> Pod {
    use futures::StreamExt;
    use kube::runtime::watcher::{self, Event};
    let stream = watcher::watcher(
        Api::<Pod>::namespaced(client.clone(), namespace),
        watcher::Config::default().labels(selector),
    );
    let found = async {
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            if let Ok(Event::Apply(p) | Event::InitApply(p)) = event {
                let statuses = p.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
                if !statuses.is_empty()
                    && statuses.iter().all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
                {
                    return p;
                }
            }
        }
        panic!("the watch ended");
    };
    tokio::time::timeout(crate::common::DEADLINE, found).await.expect("the branch runs")
}

#[tokio::test]
async fn on_sigterm_the_bridge_stops_its_branch_unless_its_own_pod_is_being_deleted() {
    // A fifth of real time: workflows-drain runs for about six seconds.
    let (c, _argo) = region_with_kit("eu-west", 0.2).await;
    let client = c.client().await.expect("client");
    let steps: Api<Pod> = Api::namespaced(client.clone(), "argo");
    let branches: Api<Pod> = Api::namespaced(client.clone(), "workflows");
    let bridge = |name: &str, batch: &str| {
        step_pod(
            name,
            "bridge",
            &[
                ("job", "workflows/workflows-drain"),
                ("tenant", "acme-prod"),
                ("operation", "lifecycle.migrate-out"),
                ("batch", batch),
                ("changeset", ""),
                ("migration", ""),
                ("migration-target", ""),
            ],
        )
    };
    let stopped = "01000000-0000-7000-8000-00000000057a";
    let evicted = "01000000-0000-7000-8000-0000000000e7";
    steps.create(&PostParams::default(), &bridge("stopped", stopped)).await.expect("bridge");
    steps.create(&PostParams::default(), &bridge("evicted", evicted)).await.expect("bridge");
    let stopped_branch = running_branch(&client, "workflows", &format!("tlc.dev/batch-id={stopped}")).await;
    let evicted_branch = running_branch(&client, "workflows", &format!("tlc.dev/batch-id={evicted}")).await;

    // A stop (the controller signals `main`): the branch is stopped with it.
    c.signal_container("argo", "stopped", "main").expect("signalled");
    let ended = wait_finished(&steps, "stopped").await;
    assert_eq!(exit_code(&ended), 143);
    let name = stopped_branch.metadata.name.clone().expect("named");
    // Stopped, not deleted: it ends by its lowered deadline, marked, with its log kept.
    let ended = kube::runtime::wait::await_condition(branches.clone(), &name, |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref()) == Some("Failed")
    });
    let ended = tokio::time::timeout(crate::common::DEADLINE, ended)
        .await
        .expect("the branch pod ends")
        .expect("watch")
        .expect("the branch pod is kept");
    assert_eq!(ended.status.as_ref().and_then(|s| s.reason.as_deref()), Some("DeadlineExceeded"));
    let by = ended.metadata.annotations.as_ref().and_then(|a| a.get("tlc.dev/cancelled-by")).cloned();
    assert_eq!(by.as_deref(), Some("its Argo Workflow (stopped or terminated)"));
    assert!(!log_of(&branches, &name).await.is_empty(), "its log is still readable");
    let snapshot = tlc::lifecycle::run::PodSnapshot::from_pod(&ended).expect("a branch pod");
    assert_eq!(snapshot.phase, tlc::lifecycle::run::Phase::Cancelled);
    assert!(
        log_of(&steps, "stopped").await.contains(&format!(
            "stopped (SIGTERM): branch pod workflows/{name} is being stopped (kept, with its logs)"
        ))
    );

    // The bridge's own pod deleted (an eviction, a drained node): the branch goes on for the retry.
    let log = {
        let lp = LogParams { follow: true, ..LogParams::default() };
        let stream = steps.log_stream("evicted", &lp);
        let pod = steps.get("evicted").await.expect("the pod");
        steps.delete("evicted", &DeleteParams::default()).await.expect("deleted");
        let mut text = String::new();
        let mut lines = futures::AsyncBufReadExt::lines(stream.await.expect("a log stream"));
        while let Some(line) = futures::StreamExt::next(&mut lines).await {
            text.push_str(&line.expect("a line"));
            text.push('\n');
        }
        let uid = pod.metadata.uid.expect("uid");
        let gone =
            kube::runtime::wait::await_condition(steps.clone(), "evicted", kube::runtime::conditions::is_deleted(&uid));
        tokio::time::timeout(crate::common::DEADLINE, gone).await.expect("the bridge pod goes").expect("watch");
        text
    };
    let name = evicted_branch.metadata.name.clone().expect("named");
    assert!(
        log.contains(&format!(
            "tlc bridge: stopped (SIGTERM) because pod argo/evicted is being deleted, not the Workflow: branch pod workflows/{name} goes on"
        )),
        "{log}"
    );
    let branch = branches.get(&name).await.expect("the branch pod is still there");
    assert!(branch.metadata.deletion_timestamp.is_none(), "nobody stopped it");
}
