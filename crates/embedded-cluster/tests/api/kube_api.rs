//! kube-rs `Api` against the embedded cluster: CRUD, errors with the right codes, selectors, paging.

use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

async fn cluster() -> EmbeddedCluster {
    EmbeddedCluster::start(ClusterConfig::new("test").with_time_scale(0.0)).await.expect("cluster starts")
}

fn api_code(err: kube::Error) -> (u16, String) {
    match err {
        kube::Error::Api(s) => (s.code, s.reason.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn configmap_crud_and_errors() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "a"}, "data": {"k": "v"}})).expect("cm");
    let created = cms.create(&PostParams::default(), &cm).await.expect("create");
    assert!(created.metadata.uid.is_some());
    assert_eq!(
        api_code(cms.create(&PostParams::default(), &cm).await.expect_err("dup")),
        (409, "AlreadyExists".into())
    );
    assert_eq!(api_code(cms.get("nope").await.expect_err("missing")), (404, "NotFound".into()));
    let mut stale = created.clone();
    let patched =
        cms.patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"k": "w"}}))).await.expect("patch");
    assert_eq!(patched.data.as_ref().and_then(|d| d.get("k")).map(String::as_str), Some("w"));
    stale.data = Some([("k".to_string(), "x".to_string())].into_iter().collect());
    assert_eq!(
        api_code(cms.replace("a", &PostParams::default(), &stale).await.expect_err("stale")),
        (409, "Conflict".into())
    );
    let json_patch: json_patch::Patch =
        serde_json::from_value(json!([{"op": "add", "path": "/data/n", "value": "1"}])).expect("ops");
    let p2 = cms.patch("a", &PatchParams::default(), &Patch::Json::<()>(json_patch)).await.expect("json patch");
    assert_eq!(p2.data.as_ref().and_then(|d| d.get("n")).map(String::as_str), Some("1"));
    let err =
        cms.patch("a", &PatchParams::default(), &Patch::Strategic(json!({"data": {}}))).await.expect_err("strategic");
    assert_eq!(api_code(err).0, 415);
    cms.delete("a", &DeleteParams::default()).await.expect("delete");
    assert_eq!(api_code(cms.get("a").await.expect_err("deleted")).0, 404);
    let bad: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "Bad_Name"}})).expect("cm");
    assert_eq!(api_code(cms.create(&PostParams::default(), &bad).await.expect_err("invalid")), (422, "Invalid".into()));
    let nss: Api<Namespace> = Api::all(client);
    assert!(nss.list(&ListParams::default()).await.expect("namespaces").items.len() >= 4);
}

#[tokio::test]
async fn pod_runs_a_script_and_its_log_is_served() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "hello"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo one\necho two\nexit 3"]}]}}))
    .expect("pod");
    pods.create(&PostParams::default(), &pod).await.expect("create");
    let done = kube::runtime::wait::await_condition(pods.clone(), "hello", |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref())
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|ph| ph == "Failed" || ph == "Succeeded")
    });
    let pod = tokio::time::timeout(std::time::Duration::from_secs(20), done)
        .await
        .expect("finishes")
        .expect("watch")
        .expect("pod");
    let status = pod.status.expect("status");
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    let term =
        status.container_statuses.expect("statuses")[0].state.clone().expect("state").terminated.expect("terminated");
    assert_eq!(term.exit_code, 3);
    let log = pods.logs("hello", &Default::default()).await.expect("logs");
    assert_eq!(log, "one\ntwo\n");
}

#[tokio::test]
async fn selectors_and_paging() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..25 {
        let tier = ["web", "api", "db"][i % 3];
        let cm: ConfigMap = serde_json::from_value(
            json!({"metadata": {"name": format!("cm-{i:02}"), "labels": {"tier": tier, "n": i.to_string()}}}),
        )
        .expect("cm");
        cms.create(&PostParams::default(), &cm).await.expect("create");
    }
    let names = |l: &kube::core::ObjectList<ConfigMap>| {
        l.items.iter().map(|c| c.metadata.name.clone().unwrap_or_default()).collect::<Vec<_>>()
    };
    assert_eq!(cms.list(&ListParams::default().labels("tier=web")).await.expect("eq").items.len(), 9);
    assert_eq!(cms.list(&ListParams::default().labels("tier!=web")).await.expect("ne").items.len(), 16);
    assert_eq!(cms.list(&ListParams::default().labels("tier in (api,db)")).await.expect("in").items.len(), 16);
    assert_eq!(cms.list(&ListParams::default().labels("tier notin (api,db),n")).await.expect("notin").items.len(), 9);
    assert_eq!(cms.list(&ListParams::default().labels("!tier")).await.expect("not exists").items.len(), 0);
    assert_eq!(
        names(&cms.list(&ListParams::default().fields("metadata.name=cm-07")).await.expect("field")),
        vec!["cm-07"]
    );
    assert_eq!(cms.list(&ListParams::default().labels("n>20")).await.expect("gt").items.len(), 4);

    // Pages of 10 cover everything once, in order, with the first page's resourceVersion.
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(10);
    let mut pages = 0;
    let mut first_rv = None;
    loop {
        let page = cms.list(&params).await.expect("page");
        pages += 1;
        first_rv.get_or_insert(page.metadata.resource_version.clone());
        assert_eq!(page.metadata.resource_version, *first_rv.as_ref().expect("rv"));
        seen.extend(names(&page));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (0..25).map(|i| format!("cm-{i:02}")).collect::<Vec<_>>());

    // All-namespaces paths and pod field selectors.
    let all: Api<ConfigMap> = Api::all(client.clone());
    assert!(all.list(&ListParams::default()).await.expect("all").items.len() >= 25);
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "exit 0"]}]}}))
    .expect("pod");
    pods.create(&PostParams::default(), &pod).await.expect("create");
    let done = kube::runtime::wait::await_condition(pods.clone(), "p", |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref()) == Some("Succeeded")
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), done).await.expect("done").expect("watch");
    assert_eq!(pods.list(&ListParams::default().fields("status.phase=Succeeded")).await.expect("phase").items.len(), 1);
    assert_eq!(pods.list(&ListParams::default().fields("status.phase=Running")).await.expect("phase").items.len(), 0);
}
