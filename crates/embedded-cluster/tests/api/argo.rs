//! Argo's Workflow and WorkflowTemplate resources, stored unstructured: real Workflow objects (from
//! argo-workflows' own tests, see tests/fixtures/argo) round-trip unchanged, status included, and
//! are listed and watched like any other resource.

use embedded_cluster::testing::{DEADLINE, cluster};
use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams, WatchEvent,
    WatchParams,
};
use serde_json::{Value, json};

const FIXTURES: &[&str] = &[
    include_str!("../../../../tests/fixtures/argo/semaphore-tmpl-withparam-running.yaml"),
    include_str!("../../../../tests/fixtures/argo/many-items-withitems-succeeded.yaml"),
    include_str!("../../../../tests/fixtures/argo/artifact-passing-withparam-running.yaml"),
    include_str!("../../../../tests/fixtures/argo/fails-with-param-dag.yaml"),
];

fn resource(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", kind))
}

#[tokio::test]
async fn real_workflows_round_trip_unchanged() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    for text in FIXTURES {
        let original: Value = serde_saphyr::from_str(text).expect("fixture parses");
        let ns = original["metadata"]["namespace"].as_str().unwrap_or("default").to_string();
        if !c.store().namespace_exists(&ns) {
            c.store()
                .create(embedded_cluster::store::resource::Resource::Namespaces, json!({"metadata": {"name": ns}}))
                .expect("namespace");
        }
        let workflows: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource("Workflow"));
        // A stored object's server-set metadata may not be sent back on create (422 otherwise).
        let mut fresh = original.clone();
        for field in ["resourceVersion", "uid", "creationTimestamp", "selfLink", "generation"] {
            fresh["metadata"].as_object_mut().expect("metadata").remove(field);
        }
        let object: DynamicObject = serde_json::from_value(fresh).expect("dynamic object");
        let created = workflows.create(&PostParams::default(), &object).await.expect("created");
        let name = created.metadata.name.clone().expect("name");
        let read = serde_json::to_value(workflows.get(&name).await.expect("read back")).expect("json");
        for key in ["spec", "status"] {
            assert_eq!(read.get(key), original.get(key), "{name}: {key} unchanged");
        }
    }
    let all: Api<DynamicObject> = Api::all_with(client, &resource("Workflow"));
    let listed = all.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), FIXTURES.len());
    // The status of a failed fan-out is there to read: one Failed retry node among ten.
    let dag = listed.items.iter().find(|w| w.metadata.name.as_deref() == Some("reproduce-bug-9tpfr")).expect("dag");
    let dag = serde_json::to_value(dag).expect("json");
    let failed = dag["status"]["nodes"]
        .as_object()
        .expect("nodes")
        .values()
        .filter(|n| n["phase"] == "Failed" && n["type"] == "Retry")
        .count();
    assert_eq!(failed, 1);
}

#[tokio::test]
async fn workflow_templates_and_watches() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let templates: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource("WorkflowTemplate"));
    let template: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate",
        "metadata": {"name": "tenant-lifecycle"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "steps": [[{"name": "discover", "template": "discover"}]]}]}
    }))
    .expect("template");
    templates.create(&PostParams::default(), &template).await.expect("create");
    let workflows: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource("Workflow"));
    let rv = workflows.list(&ListParams::default()).await.expect("list").metadata.resource_version.expect("rv");
    let mut events = workflows.watch(&WatchParams::default(), &rv).await.expect("watch").boxed();
    let wf: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"generateName": "tenant-lifecycle-", "labels": {"tlc.dev/operation": "lifecycle.upsert"}},
        "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"}}
    }))
    .expect("workflow");
    let created = workflows.create(&PostParams::default(), &wf).await.expect("create");
    let name = created.metadata.name.clone().expect("generated name");
    assert!(name.starts_with("tenant-lifecycle-") && name.len() == "tenant-lifecycle-".len() + 5, "{name}");
    workflows
        .patch(&name, &PatchParams::default(), &Patch::Merge(json!({"status": {"phase": "Running"}})))
        .await
        .expect("status via merge patch (no status subresource, as in Argo's CRD)");
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        match tokio::time::timeout(DEADLINE, events.try_next()).await.expect("event").expect("decodes").expect("open") {
            WatchEvent::Added(o) => kinds.push(("ADDED", o.data["status"]["phase"].clone())),
            WatchEvent::Modified(o) => kinds.push(("MODIFIED", o.data["status"]["phase"].clone())),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(kinds, vec![("ADDED", Value::Null), ("MODIFIED", json!("Running"))]);
}
