//! The lifecycle core against the embedded cluster seeded with the demo estate: discovery, the
//! bridge's pods, idempotent re-runs, the concurrency bound, cancel, retry, re-attach, RBAC.

use std::collections::{BTreeMap, HashSet};

use crate::common::{DEADLINE, cluster_with};
use embedded_cluster::store::history::ChangeKind;
use embedded_cluster::store::resource::Resource;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, LogParams};
use tlc::contract::{JobRef, Operation};
use tlc::demo;
use tlc::lifecycle::bridge;
use tlc::lifecycle::discovery::{self, Scope};
use tlc::lifecycle::engine::{DirectEngine, Request, plan};
use tlc::lifecycle::regions::{Region, Regions};
use tlc::lifecycle::run::{Phase, RunEvent, RunState, update};
use tlc::lifecycle::watch::list_batches;
use tlc::tenants::configmaps::{self, ConfigMapSource};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const ANNOTATION: &str = "collibra.com/tenant.lifecycle";
const MOUNT: &str = "/var/run/tlc/lifecycle";

struct Estate {
    cluster: EmbeddedCluster,
    client: kube::Client,
    regions: Regions,
}

async fn estate(time_scale: f64) -> Estate {
    let cluster = cluster_with(ClusterConfig::new("eu-west").with_time_scale(time_scale)).await;
    demo::examples::seed(cluster.store(), "eu-west").expect("demo estate");
    let client = cluster.client().await.expect("client");
    let regions = Regions::new(vec![Region {
        name: "eu-west".into(),
        context: "eu-west".into(),
        url: cluster.url(),
        client: client.clone(),
    }]);
    Estate { cluster, client, regions }
}

fn scope() -> Scope {
    Scope { annotation: ANNOTATION.into(), namespaces: vec![], mount_dir: MOUNT.into() }
}

fn source() -> ConfigMapSource {
    ConfigMapSource::defaults().expect("the defaults name ConfigMaps")
}

async fn request(
    e: &Estate,
    tenant: &str,
    op: &str,
    changeset: &str,
) -> (Request, BTreeMap<String, Vec<tlc::contract::LifecycleJob>>) {
    let tenants = configmaps::list(&e.client, &source(), "eu-west").await.expect("tenants");
    let tenant = tenants.into_iter().find(|t| t.name == tenant).expect("tenant exists");
    let jobs = discovery::discover(&e.client, "eu-west", &scope()).await.expect("discovery");
    let req = Request {
        tenants: vec![tenant],
        operation: Operation::new(op).expect("op"),
        changeset_yaml: changeset.into(),
        only_jobs: None,
        engine: tlc::contract::Engine::Direct,
        mount_dir: MOUNT.into(),
        migration: None,
    };
    (req, [("eu-west".to_string(), jobs)].into_iter().collect())
}

#[tokio::test]
async fn discovery_finds_exactly_the_runnable_annotated_jobs() {
    let e = estate(0.0).await;
    let jobs = discovery::discover(&e.client, "eu-west", &scope()).await.expect("discovery");
    let names: Vec<String> = jobs.iter().map(|j| j.job.to_string()).collect();
    assert_eq!(jobs.len(), 16, "17 Jobs, one without the annotation: {names:?}");
    assert!(!names.contains(&"search/search-cache-warmup".to_string()));
    let problems: BTreeMap<String, Vec<String>> = jobs
        .iter()
        .filter(|j| !j.is_runnable())
        .map(|j| (j.job.to_string(), j.problems.iter().map(ToString::to_string).collect()))
        .collect();
    assert_eq!(
        problems.keys().cloned().collect::<Vec<_>>(),
        vec!["billing/billing-usage-export", "notifications/notifications-webhooks"]
    );
    assert_eq!(
        problems["notifications/notifications-webhooks"],
        vec!["not suspended: the Job runs by itself (set spec.suspend: true)"]
    );
    let seed = discovery::seed_json(discovery::runnable_for(&jobs, "lifecycle.migrate-out"));
    let parsed: Vec<serde_json::Value> = serde_json::from_str(&seed).expect("json");
    assert_eq!(parsed.len(), 6);
    assert_eq!(parsed[0], serde_json::json!({"name": "billing-account", "namespace": "billing"}));
    assert!(!seed.contains("billing-usage-export"), "problem jobs never run");
    // The annotation key is configuration: the product default finds nothing in the seed estate.
    let other = Scope { annotation: "tlc.dev/lifecycle".into(), ..scope() };
    assert!(discovery::discover(&e.client, "eu-west", &other).await.expect("discovery").is_empty());
}

#[tokio::test]
async fn a_batch_runs_every_branch_with_the_tenant_context() {
    let e = estate(0.0).await;
    let changeset = "settings:\n  sso: saml\n";
    let (req, jobs) = request(&e, "globex-prod", "lifecycle.upsert", changeset).await;
    let plan = plan(&req, &jobs);
    assert!(plan.is_runnable(), "{:?}", plan.problems);
    let batch = &plan.batches[0];
    assert_eq!(batch.branches.len(), 8);
    let engine = DirectEngine { regions: e.regions.clone(), concurrency: 16 };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let results = tokio::time::timeout(DEADLINE, engine.execute(&plan, &tx, &CancellationToken::new()))
        .await
        .expect("in time")
        .expect("runs");
    drop(tx);
    let mut state = RunState::default();
    while let Some(ev) = rx.recv().await {
        update(&mut state, ev);
    }
    let codes: BTreeMap<String, Option<i32>> = results
        .iter()
        .map(|r| {
            (r.spec.job.job.to_string(), r.outcome.as_ref().and_then(|o| o.as_ref().ok()).and_then(|o| o.exit_code))
        })
        .collect();
    assert_eq!(codes["lineage/lineage-graph"], Some(2), "fails for globex-prod by design");
    assert!(codes.iter().filter(|(k, _)| *k != "lineage/lineage-graph").all(|(_, c)| *c == Some(0)), "{codes:?}");
    // Every pod carries the context, the files and the labels.
    let pods: Api<Pod> = Api::all(e.client.clone());
    let listed =
        pods.list(&ListParams::default().labels(&format!("tlc.dev/batch-id={}", batch.batch_id))).await.expect("pods");
    assert_eq!(listed.items.len(), 8);
    for pod in &listed.items {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get("tlc.dev/tenant-id"), Some(&batch.tenant.id));
        assert_eq!(labels.get("tlc.dev/operation").map(String::as_str), Some("lifecycle.upsert"));
        assert_eq!(labels.get("tlc.dev/attempt").map(String::as_str), Some("1"));
        assert!(
            !labels.contains_key("job-name") && !labels.contains_key("batch.kubernetes.io/controller-uid"),
            "no Job controller labels"
        );
        let spec = pod.spec.clone().expect("spec");
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        let env: BTreeMap<String, String> = spec.containers[0]
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
            .collect();
        assert_eq!(env["LIFECYCLE_TENANT_ENV_ID"], batch.tenant.id);
        assert_eq!(env["LIFECYCLE_BATCH_OPERATION_ID"], batch.batch_id);
        assert_eq!(env["LIFECYCLE_OPERATION_NAME"], "lifecycle.upsert");
        assert_eq!(env["LIFECYCLE_TENANT_ENV_FILE"], format!("{MOUNT}/environment.yaml"));
        assert_eq!(env["LIFECYCLE_CHANGESET_FILE"], format!("{MOUNT}/changeset.yaml"));
        let ns = pod.metadata.namespace.clone().expect("ns");
        let name = pod.metadata.name.clone().expect("name");
        let cms: Api<ConfigMap> = Api::namespaced(e.client.clone(), &ns);
        let cm = cms.get(&name).await.expect("the branch ConfigMap");
        assert_eq!(cm.data.as_ref().and_then(|d| d.get("environment.yaml")), Some(&batch.tenant.environment_yaml));
        assert_eq!(cm.data.as_ref().and_then(|d| d.get("changeset.yaml")).map(String::as_str), Some(changeset));
        assert_eq!(
            cm.metadata.owner_references.as_ref().map(|o| o[0].uid.clone()),
            pod.metadata.uid.clone(),
            "owned by its pod"
        );
    }
    // The scripts saw the mounted files: identity's prints the environment it read.
    let identity =
        listed.items.iter().find(|p| p.metadata.namespace.as_deref() == Some("identity")).expect("identity branch");
    let api: Api<Pod> = Api::namespaced(e.client.clone(), "identity");
    let log =
        api.logs(identity.metadata.name.as_deref().unwrap_or_default(), &LogParams::default()).await.expect("log");
    assert!(log.contains(&format!("id: {}", batch.tenant.id)), "{log}");
    // Re-launching the same branch attaches to the existing pod instead of creating another.
    let again = bridge::launch(&e.client, &batch.branches[0]).await.expect("relaunch");
    assert!(!again.created);
    assert_eq!(
        pods.list(&ListParams::default().labels(&format!("tlc.dev/batch-id={}", batch.batch_id)))
            .await
            .expect("pods")
            .items
            .len(),
        8
    );
    // Re-attaching from labels alone rebuilds the same batch.
    let attached = list_batches(&e.client, "eu-west", None).await.expect("attach");
    let b = &attached.batches[&batch.batch_id];
    assert_eq!(b.counts().succeeded, 7);
    assert_eq!(b.counts().failed, 1);
    assert_eq!(b.phase(), Phase::Failed);
    assert_eq!(b.tenant_name, "globex-prod");
    let model = &state.batches[&batch.batch_id];
    assert_eq!(model.branches.keys().collect::<Vec<_>>(), b.branches.keys().collect::<Vec<_>>());
}

#[tokio::test]
async fn concurrency_never_exceeds_its_bound() {
    let e = estate(0.002).await;
    let (req, jobs) = request(&e, "acme-prod", "lifecycle.upsert", "{}\n").await;
    let plan = plan(&req, &jobs);
    let start = e.cluster.store().revision();
    let engine = DirectEngine { regions: e.regions.clone(), concurrency: 3 };
    let (tx, _rx) = mpsc::unbounded_channel();
    let results = tokio::time::timeout(DEADLINE, engine.execute(&plan, &tx, &CancellationToken::new()))
        .await
        .expect("in time")
        .expect("runs");
    assert_eq!(results.len(), 8);
    // Replay the store's history: count branch pods that exist and have not finished.
    let changes = e.cluster.store().changes_since(start, usize::MAX).expect("history");
    let mut active: HashSet<String> = HashSet::new();
    let mut most = 0;
    for c in changes.iter().filter(|c| c.resource == Resource::Pods) {
        let name = c.object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let finished = matches!(c.object["status"]["phase"].as_str(), Some("Succeeded" | "Failed"));
        if c.kind == ChangeKind::Deleted || finished {
            active.remove(&name);
        } else {
            active.insert(name);
        }
        most = most.max(active.len());
    }
    assert_eq!(most, 3, "the bound is reached and never exceeded");
}

/// Feeds a label watch of a batch into a run model, as the console does.
fn follow_model(client: &kube::Client, batch_id: &str) -> tokio::sync::watch::Receiver<RunState> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(tlc::lifecycle::watch::forward_branches(
        client.clone(),
        Some(format!("tlc.dev/batch-id={batch_id}")),
        "https://test".into(),
        tx,
    ));
    let (state_tx, state_rx) = tokio::sync::watch::channel(RunState::default());
    tokio::spawn(async move {
        let mut state = RunState::default();
        while let Some(ev) = rx.recv().await {
            update(&mut state, ev);
            state_tx.send_replace(state.clone());
        }
    });
    state_rx
}

#[tokio::test]
async fn cancel_a_slow_branch_then_retry_it() {
    let e = estate(0.05).await;
    let changeset = "reason: cancel test\n";
    let (req, jobs) = request(&e, "acme-prod", "lifecycle.migrate-out", changeset).await;
    let plan = plan(&req, &jobs);
    let batch_id = plan.batches[0].batch_id.clone();
    let mut model = follow_model(&e.client, &batch_id);
    let engine = DirectEngine { regions: e.regions.clone(), concurrency: 16 };
    let (tx, _rx) = mpsc::unbounded_channel();
    let run = {
        let (engine, plan, tx) = (engine.clone(), plan.clone(), tx.clone());
        tokio::spawn(async move { engine.execute(&plan, &tx, &CancellationToken::new()).await })
    };
    // workflows-drain takes ~30 simulated seconds (1.5 s here); the others are done long before.
    let drain = JobRef::new("workflows", "workflows-drain");
    let others_done = |s: &RunState| {
        s.batches.get(&batch_id).is_some_and(|b| {
            b.branches.len() == 6
                && b.branches
                    .iter()
                    .all(|(j, br)| if *j == drain { br.phase() == Phase::Running } else { br.phase().is_final() })
        })
    };
    tokio::time::timeout(DEADLINE, model.wait_for(others_done)).await.expect("in time").expect("model");
    let stopped = engine.cancel("eu-west", &batch_id, "alice via eu-west").await.expect("cancel");
    assert_eq!(stopped.len(), 1, "only the unfinished branch: {stopped:?}");
    assert!(stopped[0].starts_with("workflows/workflows-drain-"), "{stopped:?}");
    let results = tokio::time::timeout(DEADLINE, run).await.expect("ends after cancel").expect("joins").expect("runs");
    let outcome = results
        .iter()
        .find(|r| r.spec.job.job == drain)
        .and_then(|r| r.outcome.as_ref())
        .and_then(|o| o.as_ref().ok())
        .cloned();
    assert_eq!(
        outcome.map(|o| (o.phase, o.reason)),
        Some(("Cancelled".into(), Some("cancelled by alice via eu-west".into())))
    );
    // The evidence stays: the pod (ended by its lowered deadline), its log and its ConfigMap.
    let (ns, name) = stopped[0].split_once('/').expect("ns/name");
    let pods: Api<Pod> = Api::namespaced(e.client.clone(), ns);
    let kept = pods.get(name).await.expect("the cancelled pod is kept");
    let annotations = kept.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations.get("tlc.dev/cancelled-by").map(String::as_str), Some("alice via eu-west"));
    assert_eq!(kept.status.as_ref().and_then(|s| s.reason.as_deref()), Some("DeadlineExceeded"));
    let log = pods.logs(name, &LogParams::default()).await.expect("its log is readable");
    assert!(!log.is_empty(), "the drain had logged before it was stopped");
    let cms: Api<ConfigMap> = Api::namespaced(e.client.clone(), ns);
    assert!(cms.get_opt(name).await.expect("get").is_some(), "its ConfigMap is kept");
    let cancelled = |s: &RunState| {
        s.batches
            .get(&batch_id)
            .is_some_and(|b| b.branches.get(&drain).is_some_and(|br| br.phase() == Phase::Cancelled))
    };
    let state =
        tokio::time::timeout(DEADLINE, model.wait_for(cancelled)).await.expect("in time").expect("model").clone();
    let batch = &state.batches[&batch_id];
    assert_eq!(batch.phase(), Phase::Cancelled);
    assert_eq!(batch.failed_jobs(), vec![drain.clone()]);
    // The files for the retry are read back from the batch's ConfigMaps.
    let discovered = discovery::discover(&e.client, "eu-west", &scope()).await.expect("discovery");
    let retry = engine.retry_plan(batch, &discovered, MOUNT, None).await.expect("retry plan");
    assert_eq!(retry.branches.len(), 1);
    assert_eq!((retry.branches[0].attempt, retry.branches[0].batch_id.as_str()), (2, batch_id.as_str()));
    assert_eq!(retry.branches[0].changeset_yaml, changeset);
    let results = tokio::time::timeout(DEADLINE, engine.retry(retry, &tx, &CancellationToken::new()))
        .await
        .expect("retry finishes");
    assert!(results[0].outcome.as_ref().and_then(|o| o.as_ref().ok()).is_some_and(|o| o.succeeded()), "{results:?}");
    let done = |s: &RunState| s.batches.get(&batch_id).is_some_and(|b| b.phase() == Phase::Succeeded);
    let state = tokio::time::timeout(DEADLINE, model.wait_for(done)).await.expect("in time").expect("model").clone();
    let branch = &state.batches[&batch_id].branches[&drain];
    assert_eq!(branch.attempts.values().map(|a| a.number).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(branch.attempts.get(&1).expect("attempt 1").phase, Phase::Cancelled);
}

#[tokio::test]
async fn retrying_a_failed_branch_reads_the_files_back_and_fails_the_same_way() {
    let e = estate(0.0).await;
    let (req, jobs) = request(&e, "globex-prod", "lifecycle.upsert", "{}\n").await;
    let plan = plan(&req, &jobs);
    let batch_id = plan.batches[0].batch_id.clone();
    let engine = DirectEngine { regions: e.regions.clone(), concurrency: 16 };
    let (tx, _rx) = mpsc::unbounded_channel();
    engine.execute(&plan, &tx, &CancellationToken::new()).await.expect("runs");
    let state = list_batches(&e.client, "eu-west", None).await.expect("attach");
    let batch = &state.batches[&batch_id];
    assert_eq!(batch.failed_jobs(), vec![JobRef::new("lineage", "lineage-graph")]);
    let discovered = discovery::discover(&e.client, "eu-west", &scope()).await.expect("discovery");
    let retry = engine.retry_plan(batch, &discovered, MOUNT, None).await.expect("retry plan");
    assert_eq!(
        retry.branches[0].environment_yaml, plan.batches[0].tenant.environment_yaml,
        "read from the failed branch's ConfigMap"
    );
    let results = engine.retry(retry, &tx, &CancellationToken::new()).await;
    assert_eq!(results[0].outcome.as_ref().and_then(|o| o.as_ref().ok()).and_then(|o| o.exit_code), Some(2));
    let after = list_batches(&e.client, "eu-west", None).await.expect("attach");
    let branch = &after.batches[&batch_id].branches[&JobRef::new("lineage", "lineage-graph")];
    assert_eq!(branch.attempts.values().map(|a| a.number).collect::<Vec<_>>(), vec![1, 2]);
    let again =
        engine.retry_plan(&after.batches[&batch_id].clone(), &discovered, MOUNT, None).await.expect("still failed");
    assert_eq!(again.branches[0].attempt, 3);
}

#[tokio::test]
async fn a_read_only_user_can_trigger_nothing() {
    let e = estate(0.0).await;
    e.cluster.add_user(embedded_cluster::auth::User::read_only("viewer", "viewer-token"));
    let viewer = e.cluster.client_as("viewer-token").await.expect("client");
    let regions = Regions::new(vec![Region {
        name: "eu-west".into(),
        context: "eu-west-viewer".into(),
        url: e.cluster.url(),
        client: viewer,
    }]);
    let (req, jobs) = request(&e, "acme-prod", "lifecycle.upsert", "{}\n").await;
    let plan = plan(&req, &jobs);
    let engine = DirectEngine { regions, concurrency: 4 };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let results = engine.execute(&plan, &tx, &CancellationToken::new()).await.expect("runs");
    drop(tx);
    for r in &results {
        let err = r.outcome.as_ref().and_then(|o| o.as_ref().err()).expect("refused");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "eu-west: forbidden: cannot create pods in namespace {}",
                r.spec.job.job.namespace
            )),
            "{text}"
        );
    }
    let mut failed = 0;
    while let Some(ev) = rx.recv().await {
        if matches!(ev, RunEvent::LaunchFailed { .. }) {
            failed += 1;
        }
    }
    assert_eq!(failed, 8);
    let pods: Api<Pod> = Api::all(e.client.clone());
    assert!(
        pods.list(&ListParams::default().labels("tlc.dev/batch-id")).await.expect("pods").items.is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn the_tenant_source_is_watched() {
    let e = estate(0.0).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let client = e.client.clone();
    tokio::spawn(async move {
        configmaps::watch(client, &source(), "eu-west", "https://test", |report| match report {
            tlc::watch::Report::Data(tenants) => tx.send(tenants).is_ok(),
            tlc::watch::Report::Connection(_) => true,
        })
        .await
    });
    let first = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("initial list").expect("open");
    assert_eq!(first.len(), 6);
    let cms: Api<ConfigMap> = Api::namespaced(e.client.clone(), "tenants");
    let new: ConfigMap = serde_json::from_value(
        serde_json::json!({"metadata": {"name": "tenant-newco", "labels": {"tlc.dev/tenant": "true"}},
        "data": {"environment.yaml": "id: not-a-uuid\nname: newco\n"}}),
    )
    .expect("cm");
    cms.create(&kube::api::PostParams::default(), &new).await.expect("create");
    let next = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("an update").expect("open");
    assert_eq!(next.len(), 7);
    let newco = next.iter().find(|t| t.name == "newco").expect("listed");
    assert_eq!(newco.problems, vec!["tenant id \"not-a-uuid\" is not a UUID".to_string()], "listed with its problem");
    cms.delete("tenant-newco", &Default::default()).await.expect("delete");
    let after = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("an update").expect("open");
    assert_eq!(after.len(), 6);
}
