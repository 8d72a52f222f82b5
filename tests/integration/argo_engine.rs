//! The Argo engine against a region with the kit, Argo's controller and `tlc` in its pods: the same
//! tenant and operation through both engines give the same branches, phases, exit codes and log
//! lines; a Workflow made as a Sensor makes it appears in `tlc runs` and `tlc logs`.
//!
//! Time runs at 1/1000 here, not 0: the template keeps finished Workflows a week (`ttlStrategy`),
//! which at time scale 0 is no time at all.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use tlc::contract::{Engine, Operation};
use tlc::lifecycle::discovery::{self, Scope};
use tlc::lifecycle::engine::argo::ArgoSettings;
use tlc::lifecycle::engine::{Request, Runner, plan};
use tlc::lifecycle::regions::{Region, Regions};
use tlc::lifecycle::run::{Phase, RunState, update};
use tlc::lifecycle::watch::{list_branch_pods, list_workflows};
use tlc::tenants::configmaps::{self, ConfigMapSource};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::argo_steps::region_with_kit;
use crate::common::DEADLINE;

const ANNOTATION: &str = "collibra.com/tenant.lifecycle";
const MOUNT: &str = "/var/run/tlc/lifecycle";

fn argo() -> ArgoSettings {
    ArgoSettings { namespace: "argo".into(), template: "tenant-lifecycle".into() }
}

/// What a finished batch came to, branch by branch: phase, exit code, and the log lines of its
/// branch pod with the batch id written as `<batch>` (the scripts print it).
type Outcome = BTreeMap<String, (Phase, Option<i32>, Vec<String>)>;

async fn outcome(client: &kube::Client, batch_id: &str) -> Outcome {
    let mut state = RunState::default();
    let selector = format!("tlc.dev/batch-id={batch_id}");
    for e in list_workflows(client, "eu-west", "argo", Some(&selector)).await.expect("workflows") {
        update(&mut state, e);
    }
    for e in list_branch_pods(client, "eu-west", Some(&selector)).await.expect("pods") {
        update(&mut state, e);
    }
    let batch = state.batches.get(batch_id).expect("the batch is listed");
    let mut out = BTreeMap::new();
    for (job, branch) in &batch.branches {
        let attempt = branch.current().expect("a branch pod");
        let pods: Api<Pod> = Api::namespaced(client.clone(), &job.namespace);
        let log = pods.logs(&attempt.pod_name, &LogParams::default()).await.expect("its log");
        let lines = log.lines().map(|l| l.replace(batch_id, "<batch>")).collect();
        out.insert(job.to_string(), (branch.phase(), branch.exit_code(), lines));
    }
    out
}

#[tokio::test]
async fn the_same_tenant_and_operation_through_both_engines_end_the_same_way() {
    let (c, _argo) = region_with_kit("eu-west", 0.001).await;
    let client = c.client().await.expect("client");
    let regions = Regions::new(vec![Region {
        name: "eu-west".into(),
        context: "eu-west".into(),
        url: c.url(),
        client: client.clone(),
    }]);
    let scope = Scope { annotation: ANNOTATION.into(), namespaces: vec![], mount_dir: MOUNT.into() };
    let source = ConfigMapSource::defaults().expect("defaults");
    let tenants = configmaps::list(&client, &source, "eu-west").await.expect("tenants");
    let tenant = tenants.into_iter().find(|t| t.name == "globex-prod").expect("globex-prod");
    let jobs: BTreeMap<_, _> =
        [("eu-west".to_string(), discovery::discover(&client, "eu-west", &scope).await.expect("jobs"))].into();
    let runner = Runner::new(regions, 16, argo());
    let mut ended = Vec::new();
    for engine in [Engine::Direct, Engine::Argo] {
        let request = Request {
            tenants: vec![tenant.clone()],
            operation: Operation::new("lifecycle.upsert").expect("op"),
            changeset_yaml: "{}\n".into(),
            only_jobs: None,
            engine,
            mount_dir: MOUNT.into(),
            migration: None,
        };
        let p = plan(&request, &jobs);
        let (tx, _rx) = mpsc::unbounded_channel();
        let ran = tokio::time::timeout(DEADLINE, runner.submit(&p, "{}\n", &tx, &CancellationToken::new()))
            .await
            .expect("the run ends in time");
        let results = ran.results.expect("it ran");
        assert_eq!(results.len(), 8, "{engine:?}: one result per planned branch");
        let lineage = results.iter().find(|r| r.spec.job.job.name == "lineage-graph").expect("lineage");
        let exit = lineage.outcome.as_ref().and_then(|o| o.as_ref().ok()).and_then(|o| o.exit_code);
        assert_eq!(exit, Some(2), "{engine:?}: the engine's own view of the failed branch");
        ended.push(outcome(&client, &p.batches[0].batch_id).await);
    }
    let (direct, argo) = (&ended[0], &ended[1]);
    assert_eq!(direct.keys().collect::<Vec<_>>(), argo.keys().collect::<Vec<_>>(), "the same branches");
    for (job, (phase, exit, lines)) in direct {
        let (argo_phase, argo_exit, argo_lines) = &argo[job];
        assert_eq!((phase, exit), (argo_phase, argo_exit), "{job}: the same end");
        assert!(!lines.is_empty(), "{job}: a log to compare");
        assert_eq!(lines, argo_lines, "{job}: the same log lines");
    }
    assert_eq!(direct["lineage/lineage-graph"].0, Phase::Failed);
    assert_eq!(direct.values().filter(|(p, ..)| *p == Phase::Succeeded).count(), 7);
}

#[tokio::test]
async fn a_workflow_a_sensor_made_is_listed_by_tlc_runs_with_its_branches_and_logs() {
    let (c, _argo) = region_with_kit("eu-west", 0.001).await;
    let client = c.client().await.expect("client");
    let name = tlc::demo::argo::submit_as_sensor(&client, "acme-prod", "lifecycle.upsert", "")
        .await
        .expect("the Sensor's create");
    let api: Api<kube::api::DynamicObject> =
        Api::namespaced_with(client.clone(), "argo", &tlc::lifecycle::engine::argo::resource("Workflow"));
    let done = kube::runtime::wait::await_condition(api, &name, |w: Option<&kube::api::DynamicObject>| {
        w.and_then(|w| w.data.pointer("/status/phase")).and_then(|p| p.as_str()) == Some("Succeeded")
    });
    tokio::time::timeout(DEADLINE, done).await.expect("in time").expect("watch");

    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    embedded_cluster::kubeconfig::write(&kubeconfig, &c.kubeconfig_entries(), "eu-west", "# test").expect("kubeconfig");
    let tlc = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"));
        cmd.arg("--kubeconfig").arg(&kubeconfig).args(["--annotation", ANNOTATION, "--context", "eu-west"]).args(args);
        cmd.env_remove("TLC_CONFIG").env("NO_COLOR", "1").env("TLC_DATA_DIR", dir.path().join("data"));
        cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
        async move { tokio::time::timeout(DEADLINE, cmd.output()).await.expect("in time").expect("runs") }
    };
    let runs = tlc(&["runs", "-o", "json"]).await;
    assert_eq!(runs.status.code(), Some(0), "{}", String::from_utf8_lossy(&runs.stderr));
    let batches: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("json");
    let [batch] = batches.as_array().expect("a list").as_slice() else { panic!("one batch: {batches}") };
    assert_eq!((batch["engine"].as_str(), batch["tenant_name"].as_str()), (Some("argo"), Some("acme-prod")));
    assert_eq!(batch["workflow"]["name"].as_str(), Some(name.as_str()));
    assert_eq!(batch["workflow"]["sensor"].as_str(), Some(tlc::demo::argo::DEMO_SENSOR));
    assert_eq!(batch["branches"].as_array().map(Vec::len), Some(8));
    let id = batch["id"].as_str().expect("id");
    assert_eq!(uuid::Uuid::parse_str(id).map(|u| u.get_version_num()).ok(), Some(7), "discovery's batch id");
    let table = tlc(&["runs"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.lines().any(|l| l.contains("acme-prod") && l.contains(" argo ") && l.contains("8/8 ok")), "{text}");

    let logs = tlc(&["logs", id, "--branch", "identity/identity-realm"]).await;
    assert_eq!(logs.status.code(), Some(0), "{}", String::from_utf8_lossy(&logs.stderr));
    let text = String::from_utf8_lossy(&logs.stdout);
    assert!(text.contains("identity/identity-realm │ Apply complete!"), "{text}");

    let pods: Api<Pod> = Api::all(client);
    let branch_pods = pods.list(&ListParams::default().labels(&format!("tlc.dev/batch-id={id}"))).await.expect("pods");
    assert_eq!(branch_pods.items.len(), 8, "one branch pod per Job, found by the contract's labels");
}
