//! ownerReference garbage collection and deletion semantics over HTTP.

use embedded_cluster::testing::{DEADLINE, api_error, cluster, eventually, script_pod};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, PostParams, PropagationPolicy};
use serde_json::json;

fn owned_cm(name: &str, owner: &Pod) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "ownerReferences": [{
        "apiVersion": "v1", "kind": "Pod", "name": owner.metadata.name, "uid": owner.metadata.uid, "blockOwnerDeletion": true}]},
        "data": {"environment.yaml": "id: x"}}))
    .expect("cm")
}

#[tokio::test]
async fn deleting_a_pod_collects_the_configmaps_it_owns() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let pod = pods.create(&PostParams::default(), &script_pod("owner", "sleep infinity")).await.expect("pod");
    cms.create(&PostParams::default(), &owned_cm("ctx", &pod)).await.expect("owned cm");
    cms.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "free"}})).expect("cm"))
        .await
        .expect("free cm");
    pods.delete("owner", &DeleteParams::default()).await.expect("delete");
    eventually("the pod and its ConfigMap to be gone", || {
        let (pods, cms) = (pods.clone(), cms.clone());
        async move {
            (pods.get_opt("owner").await.ok()?.is_none() && cms.get_opt("ctx").await.ok()?.is_none()).then_some(())
        }
    })
    .await;
    assert!(cms.get_opt("free").await.expect("get").is_some(), "unowned ConfigMaps stay");
}

#[tokio::test]
async fn orphan_propagation_keeps_dependents() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let pod = pods.create(&PostParams::default(), &script_pod("owner", "sleep infinity")).await.expect("pod");
    cms.create(&PostParams::default(), &owned_cm("ctx", &pod)).await.expect("cm");
    pods.delete("owner", &DeleteParams { propagation_policy: Some(PropagationPolicy::Orphan), ..Default::default() })
        .await
        .expect("delete");
    eventually("the pod to be gone", || {
        let pods = pods.clone();
        async move { pods.get_opt("owner").await.ok()?.is_none().then_some(()) }
    })
    .await;
    let cm = cms.get("ctx").await.expect("kept");
    assert!(cm.metadata.owner_references.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn running_pods_terminate_gracefully_and_report_137() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    pods.create(&PostParams::default(), &script_pod("long", "sleep infinity")).await.expect("pod");
    eventually("the pod to run", || {
        let pods = pods.clone();
        async move { (pods.get("long").await.ok()?.status?.phase?.as_str() == "Running").then_some(()) }
    })
    .await;
    let deleted = pods.delete("long", &DeleteParams::default()).await.expect("delete");
    let marked = deleted.left().expect("a pod that is still terminating is returned");
    assert!(marked.metadata.deletion_timestamp.is_some());
    let gone = kube::runtime::wait::await_condition(
        pods.clone(),
        "long",
        kube::runtime::wait::conditions::is_deleted(marked.metadata.uid.as_deref().unwrap_or_default()),
    );
    tokio::time::timeout(DEADLINE, gone).await.expect("deleted in time").expect("watch");
}

#[tokio::test]
async fn namespace_deletion_takes_its_contents() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let nss: Api<Namespace> = Api::all(client.clone());
    nss.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "team-x"}})).expect("ns"))
        .await
        .expect("ns");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "team-x");
    cms.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "c"}})).expect("cm"))
        .await
        .expect("cm");
    nss.delete("team-x", &DeleteParams::default()).await.expect("delete");
    eventually("the namespace to be gone", || {
        let nss = nss.clone();
        async move { nss.get_opt("team-x").await.ok()?.is_none().then_some(()) }
    })
    .await;
    let (code, _, _) = api_error(cms.get("c").await.expect_err("gone with its namespace"));
    assert_eq!(code, 404);
}

#[tokio::test]
async fn jobs_orphan_by_default_like_the_batch_api() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let job: Job =
        serde_json::from_value(json!({"metadata": {"name": "j"}, "spec": {"suspend": true, "template": {"spec": {
        "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}))
        .expect("job");
    let job = jobs.create(&PostParams::default(), &job).await.expect("job");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let dependent: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "dep", "ownerReferences": [{
        "apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": job.metadata.uid}]}}))
    .expect("cm");
    cms.create(&PostParams::default(), &dependent).await.expect("cm");
    jobs.delete("j", &DeleteParams::default()).await.expect("delete");
    assert!(cms.get_opt("dep").await.expect("get").is_some(), "batch/v1 Jobs orphan dependents unless told otherwise");
    assert_eq!(
        job.spec
            .and_then(|s| s.template.metadata)
            .and_then(|m| m.labels)
            .and_then(|l| l.get("job-name").cloned())
            .as_deref(),
        Some("j")
    );
}
