//! Garbage: pods by `podGC` (after `deleteDelayDuration`), finished workflows by `ttlStrategy`
//! (their pods and task results with them, through ownerReferences).

use embedded_argo::ControllerConfig;
use embedded_cluster::testing::{DEADLINE, eventually};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde_json::json;

use crate::common::{pod_name, start};

fn two_steps(name: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut spec = json!({"entrypoint": "main", "templates": [
        {"name": "main", "steps": [[{"name": "ok", "template": "ok"}, {"name": "bad", "template": "bad"}]]},
        {"name": "ok", "container": {"image": "busybox", "command": ["sh", "-c", "echo fine"]}},
        {"name": "bad", "container": {"image": "busybox", "command": ["sh", "-c", "echo broken; exit 1"]}}]});
    for (k, v) in extra.as_object().into_iter().flatten() {
        spec[k] = v.clone();
    }
    json!({"metadata": {"name": name, "namespace": "argo"}, "spec": spec})
}

#[tokio::test]
async fn pod_gc_on_pod_success_deletes_succeeded_pods_after_the_delay_and_labels_the_others() {
    // Controller time at a thousandth: the 600 s delay is 0.6 s.
    let env = start(0.0, ControllerConfig::default().with_time_scale(0.001), None).await;
    env.create(two_steps("gc", json!({"podGC": {"strategy": "OnPodSuccess", "deleteDelayDuration": "600s"}}))).await;
    let wf = env.wait_phase("gc", "Failed").await;
    assert_eq!(wf["status"]["message"], format!("child '{}' failed", crate::common::id("gc", "gc[0].bad")));
    let ok = pod_name("gc", "gc[0].ok", "ok");
    let bad = pod_name("gc", "gc[0].bad", "bad");
    let pod = env.pods().get(&bad).await.expect("bad pod");
    assert_eq!(
        pod.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("workflows.argoproj.io/pod-gc-strategy"))
            .map(String::as_str),
        Some("OnPodSuccess/10m0s")
    );
    eventually("the succeeded pod deleted after the delay", || async {
        (!env.pod_names("gc").await.contains(&ok)).then_some(())
    })
    .await;
    eventually("the failed pod kept, labelled completed", || async {
        let pod = env.pods().get(&bad).await.ok()?;
        (pod.metadata.labels?.get("workflows.argoproj.io/completed").map(String::as_str) == Some("true")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn ttl_deletes_the_finished_workflow_with_its_pods_and_task_results() {
    let env = start(0.0, ControllerConfig::default().with_time_scale(0.001), None).await;
    env.create(two_steps("ttl", json!({"ttlStrategy": {"secondsAfterCompletion": 30}}))).await;
    env.wait_phase("ttl", "Failed").await;
    let gone = kube::runtime::wait::await_condition(env.workflows(), "ttl", |w: Option<&DynamicObject>| w.is_none());
    tokio::time::timeout(DEADLINE, gone).await.expect("deleted before the deadline").expect("watch");
    eventually("the pods collected", || async { env.pod_names("ttl").await.is_empty().then_some(()) }).await;
    let trs: Api<DynamicObject> = Api::namespaced_with(
        env.client.clone(),
        "argo",
        &ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "WorkflowTaskResult")),
    );
    eventually("no task results left", || {
        let trs = trs.clone();
        async move { trs.list(&ListParams::default()).await.ok()?.items.is_empty().then_some(()) }
    })
    .await;
}
