//! End-to-end tests of the shipped kit (`deploy/argo/`): Workflows submitted exactly as the Argo
//! Events Sensor submits them (`deploy/argo/events/sensor.yaml`: a `Workflow` with nothing but
//! `generateName`, `workflowTemplateRef` and the message's parameters), run by the embedded Argo
//! controller on a region with the demo estate, the kit and the product's own `tlc` steps, under
//! the kit's RBAC — then read back as tlc reads them (`WorkflowRun`), through the branch pods in the
//! team namespaces and the steps' logs, and acted on with tlc's pure Argo actions.
//!
//! The controller runs on real time where the cluster does not (time scale 0): the template's pod
//! GC (10 minutes) and TTL (a week) then keep finished bridge pods and Workflows to be read, while
//! the Jobs' scripts take no time. Tests that need a branch to be running use a small positive time
//! scale for both.

use std::collections::{BTreeMap, BTreeSet};

use embedded_argo::ControllerConfig;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams, Patch};
use kube::api::{PatchParams, PostParams};
use kube::runtime::wait::{Condition, await_condition};
use serde_json::{Value, json};
use tlc::contract::{BranchIdentity, Engine, JobRef};
use tlc::lifecycle::argo::{State, WorkflowPhase, WorkflowRun, actions};

use crate::common::{DEADLINE, cluster_with, exit_code};

/// The kit's service account, as RBAC names it in a 403.
const SERVICE_ACCOUNT: &str = "system:serviceaccount:argo:tenant-lifecycle";
const REGION: &str = "eu-west";
const ACME: &str = "acme-prod";
const ACME_ID: &str = "1da11ccf-6654-4f57-8807-6bb944658fe6";
const GLOBEX: &str = "globex-prod";
const GLOBEX_ID: &str = "740faf5f-42fd-4e28-9f5a-65f900eda1c0";
const UPSERT: &str = "lifecycle.upsert";
const MIGRATE_OUT: &str = "lifecycle.migrate-out";

/// The runnable Jobs of the demo estate per operation (`deploy/examples/README.md`).
const UPSERT_JOBS: [&str; 8] = [
    "billing/billing-account",
    "catalog/catalog-schema",
    "identity/identity-realm",
    "lineage/lineage-graph",
    "notifications/notifications-templates",
    "search/search-index",
    "storage/storage-bucket",
    "workflows/workflows-engine",
];
const MIGRATE_OUT_JOBS: [&str; 6] = [
    "billing/billing-account",
    "catalog/catalog-export",
    "identity/identity-realm",
    "lineage/lineage-migrate",
    "storage/storage-bucket",
    "workflows/workflows-drain",
];
/// The slow Job (~29 s of simulated time), for tests that need a branch to be running.
const DRAIN: &str = "workflows/workflows-drain";

// ----- a region with the kit -----

/// A region like a `tlc demo` region: the demo estate, the kit (with `rbac` instead of the shipped
/// `rbac.yaml` when given), `tlc` installed, Argo's controller running.
struct Region {
    cluster: EmbeddedCluster,
    _argo: tlc::demo::argo::Equipped,
    client: kube::Client,
}

async fn region(time_scale: f64, controller_scale: f64, rbac: Option<&str>) -> Region {
    region_with(ClusterConfig::new(REGION).with_time_scale(time_scale), controller_scale, rbac).await
}

async fn region_with(config: ClusterConfig, controller_scale: f64, rbac: Option<&str>) -> Region {
    let cluster = cluster_with(config).await;
    tlc::demo::examples::seed(cluster.store(), REGION).expect("demo estate");
    let files: Vec<(&str, &str)> = tlc::demo::argo::KIT
        .iter()
        .map(|&(origin, text)| match rbac {
            Some(replaced) if origin.ends_with("/rbac.yaml") => (origin, replaced),
            _ => (origin, text),
        })
        .collect();
    let config = ControllerConfig::default().with_time_scale(controller_scale);
    let argo = tlc::demo::argo::equip_with(&cluster, &files, config).expect("the kit applies");
    let client = cluster.client().await.expect("client");
    Region { cluster, _argo: argo, client }
}

/// Scripts take no time; the controller's pod GC and TTL are real (the results stay to be read).
async fn instant_region(rbac: Option<&str>) -> Region {
    region(0.0, 1.0, rbac).await
}

/// A fifth of real time for everything: `workflows-drain` runs for about six seconds.
const RUNNING_SCALE: f64 = 0.2;

fn workflow_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow"))
}

impl Region {
    fn workflows(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), "argo", &workflow_resource())
    }

    fn pods(&self, namespace: &str) -> Api<Pod> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Submits what the Sensor's trigger makes of a message `{"tenant", "operation", "changeset"}`:
    /// its resource, each `parameters[]` entry's `src.dataKey` (or its `value` default) written to
    /// its `dest`. Returns the Workflow's generated name.
    async fn submit_as_sensor(&self, message: Value) -> String {
        let sensor: Value = serde_saphyr::from_str(tlc::demo::argo::SENSOR).expect("the sensor is YAML");
        let k8s = &sensor["spec"]["triggers"][0]["template"]["k8s"];
        assert_eq!(k8s["operation"], "create");
        let mut workflow = k8s["source"]["resource"].clone();
        for p in k8s["parameters"].as_array().expect("parameters") {
            let key = p["src"]["dataKey"].as_str().and_then(|k| k.strip_prefix("body.")).expect("a body key");
            let value = message.get(key).cloned().or_else(|| p["src"].get("value").cloned()).expect("a value");
            let dest = p["dest"].as_str().expect("dest");
            let pointer = format!("/{}", dest.replace('.', "/"));
            *workflow.pointer_mut(&pointer).unwrap_or_else(|| panic!("{dest} is in the resource")) = value;
        }
        let spec_keys: BTreeSet<&str> =
            workflow["spec"].as_object().expect("spec").keys().map(String::as_str).collect();
        assert_eq!(spec_keys, BTreeSet::from(["arguments", "workflowTemplateRef"]), "nothing but the reference");
        let object: DynamicObject = serde_json::from_value(workflow).expect("a Workflow");
        let created = self.workflows().create(&PostParams::default(), &object).await.expect("submitted");
        created.metadata.name.expect("a generated name")
    }

    /// Waits (on a watch) until the Workflow satisfies `check`; returns it as JSON.
    async fn wait_workflow(&self, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let cond = await_condition(self.workflows(), name, move |w: Option<&DynamicObject>| {
            w.map(|w| serde_json::to_value(w).expect("json")).is_some_and(|w| check(&w))
        });
        let found = tokio::time::timeout(DEADLINE, cond)
            .await
            .unwrap_or_else(|_| panic!("workflow {name}: timed out waiting for {what}"))
            .expect("watch")
            .expect("exists");
        serde_json::to_value(found).expect("json")
    }

    async fn wait_finished(&self, name: &str) -> Value {
        self.wait_workflow(name, "its end", |w| {
            matches!(w["status"]["phase"].as_str(), Some("Succeeded" | "Failed" | "Error"))
        })
        .await
    }

    async fn wait_pod(&self, namespace: &str, name: &str, what: &str, check: impl Condition<Pod>) -> Option<Pod> {
        tokio::time::timeout(DEADLINE, await_condition(self.pods(namespace), name, check))
            .await
            .unwrap_or_else(|_| panic!("pod {namespace}/{name}: timed out waiting for {what}"))
            .expect("watch")
    }

    /// The branch pods of a batch in a Job's namespace, by attempt.
    async fn branch_pods(&self, batch: &str, job: &JobRef) -> BTreeMap<u32, Pod> {
        let lp = ListParams::default().labels(&format!("tlc.dev/batch-id={batch},tlc.dev/job={}", job.name));
        let pods = self.pods(&job.namespace).list(&lp).await.expect("branch pods").items;
        let mut by_attempt = BTreeMap::new();
        for pod in pods {
            let id = identity(&job.namespace, &pod);
            assert!(by_attempt.insert(id.attempt, pod).is_none(), "one pod per attempt of {job}");
        }
        by_attempt
    }

    async fn log(&self, namespace: &str, pod: &str, container: &str) -> String {
        let lp = LogParams { container: Some(container.into()), ..LogParams::default() };
        self.pods(namespace)
            .logs(pod, &lp)
            .await
            .unwrap_or_else(|e| panic!("log of {namespace}/{pod} {container}: {e}"))
    }

    /// The workflow's pods (bridge, discovery) that exist now, by name.
    async fn step_pods(&self, workflow: &str) -> BTreeMap<String, Pod> {
        let lp = ListParams::default().labels(&format!("workflows.argoproj.io/workflow={workflow}"));
        let pods = self.pods("argo").list(&lp).await.expect("step pods").items;
        pods.into_iter().map(|p| (p.metadata.name.clone().expect("named"), p)).collect()
    }
}

fn identity(namespace: &str, pod: &Pod) -> BranchIdentity {
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    BranchIdentity::from_metadata(namespace, &labels, &annotations).expect("a branch pod")
}

fn job(text: &str) -> JobRef {
    JobRef::parse(text).expect("NAMESPACE/NAME")
}

fn run_of(workflow: &Value) -> WorkflowRun {
    WorkflowRun::from_value(workflow).expect("tlc reads the status")
}

fn batch_of(run: &WorkflowRun) -> String {
    run.discovery.as_ref().and_then(|d| d.batch.clone()).expect("discovery's batch output")
}

fn label<'a>(workflow: &'a Value, key: &str) -> Option<&'a str> {
    workflow["metadata"]["labels"].get(key).and_then(Value::as_str)
}

fn name_of(workflow: &Value) -> String {
    workflow["metadata"]["name"].as_str().expect("named").to_string()
}

/// The status's nodes by id (these runs are far below the compression threshold).
fn nodes(workflow: &Value) -> &serde_json::Map<String, Value> {
    workflow["status"]["nodes"].as_object().expect("status.nodes")
}

/// Argo's node id, computed here (not with the emulation's or tlc's code): the workflow's name for
/// the root, else `<workflow>-<fnv32a(name)>`.
fn node_id(workflow: &str, name: &str) -> String {
    if name == workflow {
        return workflow.to_string();
    }
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    format!("{workflow}-{hash}")
}

fn node<'a>(workflow: &'a Value, name: &str) -> &'a Value {
    let wf = name_of(workflow);
    nodes(workflow).get(&node_id(&wf, name)).unwrap_or_else(|| panic!("no node {name} in {wf}"))
}

fn text<'a>(node: &'a Value, field: &str) -> &'a str {
    node.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The lines of `inner`, as the bridge prints them (control sequences stripped: log text is
/// untrusted), appear in `outer` in order.
fn holds_in_order(outer: &str, inner: &str) -> bool {
    let mut rest = outer.lines();
    inner.lines().map(|l| tlc::logs::sanitize::strip(l.as_bytes())).all(|wanted| rest.any(|line| line == wanted))
}

// ----- 1. a run under the shipped RBAC -----

/// One finished run checked as a whole: the Workflow's labels, discovery's batch, a branch pod per
/// runnable Job with the contract's labels and the Jobs' exit codes, the same branches read back
/// from the status by `WorkflowRun`, and each bridge's log holding its branch's lines.
async fn check_run(region: &Region, workflow: &Value, tenant_id: &str, failing: Option<&str>) {
    assert_eq!(label(workflow, "app.kubernetes.io/managed-by"), Some("tlc"));
    assert_eq!(label(workflow, "tlc.dev/engine"), Some("argo"));
    assert_eq!(label(workflow, "tlc.dev/template"), Some("tenant-lifecycle"));
    assert_eq!(label(workflow, "tlc.dev/operation"), Some(UPSERT));
    assert_eq!(label(workflow, "tlc.dev/batch-id"), Some(""), "no batch given: the label is empty");

    let run = run_of(workflow);
    let batch = batch_of(&run);
    let uuid = uuid::Uuid::parse_str(&batch).expect("the batch is a UUID");
    assert_eq!(uuid.get_version_num(), 7, "{batch} is a UUIDv7");
    assert_eq!(run.template.as_deref(), Some("tenant-lifecycle"));
    assert_eq!(run.phase, if failing.is_some() { WorkflowPhase::Failed } else { WorkflowPhase::Succeeded });

    let expected: BTreeSet<JobRef> = UPSERT_JOBS.iter().map(|j| job(j)).collect();
    let listed: BTreeSet<JobRef> =
        run.discovery.as_ref().and_then(|d| d.jobs.clone()).expect("discovery's jobs").into_iter().collect();
    assert_eq!(listed, expected, "discovery lists the runnable Jobs");
    let branches: BTreeSet<JobRef> = run.branches.iter().filter_map(|b| b.job.clone()).collect();
    assert_eq!(branches, expected, "one branch per runnable Job");
    assert_eq!(run.branches.len(), expected.len());

    for branch in &run.branches {
        let job = branch.job.clone().expect("a Job");
        let fails = failing == Some(job.to_string().as_str());
        let code = if fails { 2 } else { 0 };
        assert_eq!(
            (branch.state(), branch.exit_code()),
            (if fails { State::Failed } else { State::Succeeded }, Some(code)),
            "{job} as tlc reads the status"
        );
        let attempts = branch.attempts();
        assert_eq!(attempts.len(), 1, "{job}: one attempt");

        let pods = region.branch_pods(&batch, &job).await;
        let [(attempt, pod)] = pods.iter().collect::<Vec<_>>()[..] else { panic!("{job}: one branch pod: {pods:?}") };
        assert_eq!(*attempt, 1);
        let id = identity(&job.namespace, pod);
        assert_eq!(
            (id.batch_id.as_str(), id.tenant_id.as_str(), id.operation.as_str(), id.job_name.as_str(), id.engine),
            (batch.as_str(), tenant_id, UPSERT, job.name.as_str(), Some(Engine::Argo)),
            "{job}: the contract's labels"
        );
        assert_eq!(id.region, REGION);
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels.get("tlc.dev/engine").map(String::as_str), Some("argo"));
        assert_eq!(labels.get("tlc.dev/batch-id"), Some(&batch));
        assert_eq!(exit_code(pod), code, "{job}: the branch pod's exit code");

        let container = pod.spec.as_ref().expect("spec").containers[0].name.clone();
        let branch_log = region.log(&job.namespace, pod.metadata.name.as_deref().expect("named"), &container).await;
        assert!(branch_log.lines().count() >= 5, "{job}: the Job printed its lines: {branch_log}");
        let bridge_pod = attempts[0].pod_name.clone().expect("a bridge pod");
        let bridge_log = region.log("argo", &bridge_pod, "main").await;
        assert!(
            holds_in_order(&bridge_log, &branch_log),
            "{job}: the bridge log holds the branch log:\n{bridge_log}\n---- branch:\n{branch_log}"
        );
    }
}

#[tokio::test]
async fn a_sensor_submitted_run_under_the_shipped_rbac_succeeds_as_a_whole() {
    let region = instant_region(None).await;
    let acme = region.submit_as_sensor(json!({"tenant": ACME, "operation": UPSERT})).await;
    let globex =
        region.submit_as_sensor(json!({"tenant": GLOBEX, "operation": UPSERT, "changeset": "reason: a test\n"})).await;
    let acme = region.wait_finished(&acme).await;
    let globex = region.wait_finished(&globex).await;
    check_run(&region, &acme, ACME_ID, None).await;
    check_run(&region, &globex, GLOBEX_ID, Some("lineage/lineage-graph")).await;
    let run = run_of(&globex);
    let lineage = run.branch(&job("lineage/lineage-graph")).expect("the failing branch");
    let bridge = lineage.attempts()[0].pod_name.clone().expect("its bridge pod");
    let log = region.log("argo", &bridge, "main").await;
    assert!(log.contains("Error: lineage graph for tenant 740faf5f"), "{log}");
    assert_eq!(run.parameters.changeset.as_deref(), Some("reason: a test\n"));
    // Nobody submitted them through tlc: discovery wrote each one's record, who and what.
    let client = region.cluster.client().await.expect("client");
    let records = tlc::audit::record::list(&client, REGION, "tlc-records").await.expect("records");
    let globex_record = records.iter().find(|r| r.tenant_name == "globex-prod").expect("globex's record");
    assert_eq!(globex_record.actions[0].changeset_digest, tlc::audit::changeset_digest("reason: a test\n"));
    let mut recorded: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (r.batch_id.clone(), r.tenant_name.clone(), r.actions.first().map(|a| a.who.clone()).unwrap_or_default())
        })
        .collect();
    recorded.sort();
    let mut expected = vec![
        (batch_of(&run_of(&acme)), "acme-prod".to_string(), format!("Argo Workflow argo/{}", name_of(&acme))),
        (batch_of(&run), "globex-prod".to_string(), format!("Argo Workflow argo/{}", name_of(&globex))),
    ];
    expected.sort();
    assert_eq!(recorded, expected);
}

// ----- 2. the shipped RBAC is necessary and sufficient -----

/// One verb of one rule of a Role or ClusterRole in `rbac.yaml`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    role: String,
    rule: usize,
    group: String,
    resource: String,
    verb: String,
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rules[{}]: {} {}", self.role, self.rule, self.verb, self.resource)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        Ok(())
    }
}

fn rbac_documents() -> Vec<Value> {
    let text = tlc::demo::argo::KIT.iter().find(|(o, _)| o.ends_with("/rbac.yaml")).expect("rbac.yaml").1;
    embedded_cluster::manifests::parse_documents("deploy/argo/rbac.yaml", text).expect("rbac.yaml is YAML")
}

/// Every verb of every rule of every Role and ClusterRole of the shipped `rbac.yaml`.
fn grants() -> Vec<Grant> {
    let mut out = Vec::new();
    for doc in rbac_documents() {
        if !matches!(doc["kind"].as_str(), Some("Role" | "ClusterRole")) {
            continue;
        }
        let role = doc["metadata"]["name"].as_str().expect("named").to_string();
        for (i, rule) in doc["rules"].as_array().expect("rules").iter().enumerate() {
            let one = |field: &str| {
                let list = rule[field].as_array().expect(field);
                assert_eq!(list.len(), 1, "{role} rules[{i}]: one {field} per rule (extend the test for more)");
                list[0].as_str().expect("text").to_string()
            };
            let (group, resource) = (one("apiGroups"), one("resources"));
            for verb in rule["verbs"].as_array().expect("verbs") {
                let verb = verb.as_str().expect("text").to_string();
                out.push(Grant { role: role.clone(), rule: i, group: group.clone(), resource: resource.clone(), verb });
            }
        }
    }
    out
}

/// The shipped `rbac.yaml` without `grant` (a rule left without verbs goes), as JSON documents.
fn rbac_without(grant: &Grant) -> String {
    let docs: Vec<String> = rbac_documents()
        .into_iter()
        .map(|mut doc| {
            if doc["metadata"]["name"] == grant.role && doc.get("rules").is_some() {
                let rules = doc["rules"].as_array_mut().expect("rules");
                let verbs = rules[grant.rule]["verbs"].as_array_mut().expect("verbs");
                verbs.retain(|v| v != grant.verb.as_str());
                if verbs.is_empty() {
                    rules.remove(grant.rule);
                }
            }
            serde_json::to_string(&doc).expect("json")
        })
        .collect();
    docs.join("\n---\n")
}

/// A 403 as the API server words it: who was refused what, where (`None`: the cluster scope).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Denial {
    user: String,
    verb: String,
    resource: String,
    group: String,
    namespace: Option<String>,
}

/// Every 403 in `text`: `… is forbidden: User "U" cannot V resource "R" in API group "G" in the
/// namespace "N"` (or `at the cluster scope`).
fn denials(text: &str) -> Vec<Denial> {
    const START: &str = "is forbidden: User \"";
    let mut out = Vec::new();
    for (at, _) in text.match_indices(START) {
        let parse = || {
            let rest = &text[at + START.len()..];
            let (user, rest) = rest.split_once("\" cannot ")?;
            let (verb, rest) = rest.split_once(" resource \"")?;
            let (resource, rest) = rest.split_once("\" in API group \"")?;
            let (group, rest) = rest.split_once("\" ")?;
            let namespace = match rest.strip_prefix("in the namespace \"") {
                Some(r) => Some(r.split_once('"')?.0.to_string()),
                None => rest.starts_with("at the cluster scope").then_some(None)?,
            };
            Some(Denial {
                user: user.into(),
                verb: verb.into(),
                resource: resource.into(),
                group: group.into(),
                namespace,
            })
        };
        out.push(parse().unwrap_or_else(|| panic!("a 403 not worded as the API server's: {}", &text[at..])));
    }
    out
}

/// Where a grant's absence shows.
#[derive(Clone, Copy, Debug)]
enum Needed {
    /// A plain run fails with the 403 in this namespace.
    In(&'static str),
    /// … at the cluster scope.
    ClusterWide,
    /// … in the namespace of every branch.
    EveryBranch,
    /// Only stopping a running branch needs it: a plain run succeeds (see
    /// `without_pod_patch_a_stop_leaves_the_branch_running_and_the_bridge_says_why`).
    ToStop,
}

/// How fast the cluster runs a variant.
#[derive(Clone, Copy, Debug)]
enum Pace {
    /// Time scale 0: containers start and scripts end at once.
    Instant,
    /// Real time, and a kubelet that takes a second to start a container, as a real node takes
    /// seconds (image pulls): the bridge follows a branch pod from before its container starts.
    SlowStart,
}

/// What each grant of the shipped `rbac.yaml` is needed for (`docs/argo.md`'s table), and how a
/// run shows it.
fn needed(grant: &Grant) -> Option<(Needed, Pace)> {
    use {Needed::*, Pace::*};
    Some(match (grant.role.as_str(), grant.verb.as_str(), grant.resource.as_str()) {
        ("tenant-lifecycle-executor", "create" | "patch", "workflowtaskresults") => (In("argo"), Instant),
        ("tenant-lifecycle-tenants", "list", "configmaps") => (In("tenants"), Instant),
        ("tlc-lifecycle-discovery", "list", "jobs") => (ClusterWide, Instant),
        ("tlc-lifecycle-discovery", "get", "jobs") => (EveryBranch, Instant),
        ("tlc-lifecycle-branches", "create" | "get" | "list", "pods") => (EveryBranch, Instant),
        // Waiting for a container to start, and for a pod that has not ended when it is first
        // listed, is watching: a branch that has ended before the bridge looks needs no watch.
        ("tlc-lifecycle-branches", "watch", "pods") => (EveryBranch, SlowStart),
        ("tlc-lifecycle-branches", "patch", "pods") => (ToStop, Instant),
        ("tlc-lifecycle-branches", "get", "pods/log") => (EveryBranch, Instant),
        // Discovery writes a Sensor run's record first (in tlc-records): without it, nothing runs.
        ("tlc-lifecycle-branches", "create", "configmaps") => (In("tlc-records"), Instant),
        _ => return None,
    })
}

/// Every node message and every step's `main` log of a finished workflow.
async fn messages_and_logs(region: &Region, workflow: &Value) -> String {
    let mut all = String::new();
    for node in nodes(workflow).values() {
        all.push_str(text(node, "message"));
        all.push('\n');
    }
    for name in region.step_pods(&name_of(workflow)).await.keys() {
        all.push_str(&region.log("argo", name, "main").await);
    }
    all
}

/// Runs an `acme-prod` upsert under the kit without `grant`; `None` when it behaved as `needed`
/// says, else what it did.
async fn run_without(grant: Grant) -> Option<String> {
    let (need, pace) = needed(&grant)?;
    let rbac = rbac_without(&grant);
    let region = match pace {
        Pace::Instant => instant_region(Some(&rbac)).await,
        Pace::SlowStart => {
            let mut config = ClusterConfig::new(REGION).with_time_scale(1.0);
            config.kubelet.startup_delay = std::time::Duration::from_secs(1);
            region_with(config, 1.0, Some(&rbac)).await
        }
    };
    let name = region.submit_as_sensor(json!({"tenant": ACME, "operation": UPSERT})).await;
    let finished = |w: Option<&DynamicObject>| {
        w.and_then(|w| w.data["status"]["phase"].as_str())
            .is_some_and(|p| matches!(p, "Succeeded" | "Failed" | "Error"))
    };
    if tokio::time::timeout(DEADLINE, await_condition(region.workflows(), &name, finished)).await.is_err() {
        let now = serde_json::to_value(region.workflows().get(&name).await.expect("workflow")).expect("json");
        let seen = messages_and_logs(&region, &now).await;
        return Some(format!("{grant}: the workflow did not end; so far:\n{seen}"));
    }
    let workflow = serde_json::to_value(region.workflows().get(&name).await.expect("workflow")).expect("json");
    let phase = workflow["status"]["phase"].as_str().unwrap_or_default().to_string();
    let found: BTreeSet<Denial> = denials(&messages_and_logs(&region, &workflow).await).into_iter().collect();
    let branch_namespaces: BTreeSet<Option<String>> = UPSERT_JOBS.iter().map(|j| Some(job(j).namespace)).collect();
    let denial = |namespace: Option<String>| Denial {
        user: SERVICE_ACCOUNT.into(),
        verb: grant.verb.clone(),
        resource: grant.resource.clone(),
        group: grant.group.clone(),
        namespace,
    };
    let expected: BTreeSet<Denial> = match need {
        Needed::In(ns) => BTreeSet::from([denial(Some(ns.into()))]),
        Needed::ClusterWide => BTreeSet::from([denial(None)]),
        Needed::EveryBranch => branch_namespaces.into_iter().map(denial).collect(),
        Needed::ToStop => BTreeSet::new(),
    };
    let expected_phase = if matches!(need, Needed::ToStop) { "Succeeded" } else { "Failed|Error" };
    let phase_ok = if matches!(need, Needed::ToStop) { phase == "Succeeded" } else { phase != "Succeeded" };
    (!phase_ok || found != expected)
        .then(|| format!("{grant}: phase {phase} (expected {expected_phase}), 403s {found:#?}, expected {expected:#?}"))
}

#[tokio::test]
async fn every_rule_of_the_shipped_rbac_is_needed_and_its_absence_names_what_was_denied() {
    use futures::StreamExt;
    let grants = grants();
    let unexplained: Vec<String> = grants.iter().filter(|g| needed(g).is_none()).map(ToString::to_string).collect();
    assert!(unexplained.is_empty(), "rules this test does not know what for: {unexplained:?}");
    assert_eq!(grants.len(), 12, "{grants:#?}");
    let failures: Vec<String> =
        futures::stream::iter(grants).map(run_without).buffer_unordered(3).filter_map(|f| async { f }).collect().await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ----- 3. the controller's status follows the rules the real fixtures show -----

/// Real Workflow objects from argo-workflows' tests (`tests/fixtures/argo/README.md`).
const FIXTURES: [&str; 4] = [
    include_str!("../fixtures/argo/semaphore-tmpl-withparam-running.yaml"),
    include_str!("../fixtures/argo/many-items-withitems-succeeded.yaml"),
    include_str!("../fixtures/argo/artifact-passing-withparam-running.yaml"),
    include_str!("../fixtures/argo/fails-with-param-dag.yaml"),
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Field → the JSON types it has, over some objects.
type FieldTypes = BTreeMap<String, BTreeSet<&'static str>>;

/// What the fixtures' nodes look like, per node type: each field with the JSON types it takes, the
/// fields every node of the type has, and the same for `inputs`/`outputs` (any type).
#[derive(Default)]
struct Shapes {
    fields: BTreeMap<String, FieldTypes>,
    always: BTreeMap<String, BTreeSet<String>>,
    inner: BTreeMap<String, FieldTypes>,
    status: FieldTypes,
}

fn add_types(into: &mut FieldTypes, object: &serde_json::Map<String, Value>) {
    for (k, v) in object {
        into.entry(k.clone()).or_default().insert(json_type(v));
    }
}

fn fixture_shapes() -> Shapes {
    let mut shapes = Shapes::default();
    for text in FIXTURES {
        let wf: Value = serde_saphyr::from_str(text).expect("a fixture");
        let status = wf["status"].as_object().expect("status");
        add_types(&mut shapes.status, status);
        for node in status["nodes"].as_object().expect("nodes").values() {
            let node = node.as_object().expect("a node");
            let kind = node["type"].as_str().expect("type").to_string();
            add_types(shapes.fields.entry(kind.clone()).or_default(), node);
            let keys: BTreeSet<String> = node.keys().cloned().collect();
            let always = shapes.always.entry(kind).or_insert_with(|| keys.clone());
            always.retain(|k| keys.contains(k));
            for part in ["inputs", "outputs"] {
                if let Some(inner) = node.get(part).and_then(Value::as_object) {
                    add_types(shapes.inner.entry(part.to_string()).or_default(), inner);
                }
            }
        }
    }
    shapes
}

/// Fields Argo writes that the fixtures do not show on a node of that type, each with why: the
/// fixtures predate `progress` (Argo 3.0), an empty `nodeFlag` on step groups (3.5), and hold no
/// failed step or steps node (whose message is their failed child's, as on the Pod, Retry and
/// Skipped nodes they do show).
const NOT_IN_FIXTURES: [(&str, &str, &str); 4] = [
    ("*", "progress", "string"),
    ("StepGroup", "nodeFlag", "object"),
    ("StepGroup", "message", "string"),
    ("Steps", "message", "string"),
];

/// Every way `workflow`'s status differs in shape from the fixtures'.
fn shape_problems(workflow: &Value, shapes: &Shapes) -> Vec<String> {
    let mut problems = Vec::new();
    fn check(
        problems: &mut Vec<String>,
        what: String,
        allowed: Option<&FieldTypes>,
        object: &serde_json::Map<String, Value>,
        kind: &str,
    ) {
        for (field, value) in object {
            let t = json_type(value);
            let known = allowed.and_then(|a| a.get(field)).is_some_and(|types| types.contains(t));
            let excepted = NOT_IN_FIXTURES.iter().any(|(k, f, ty)| (*k == "*" || *k == kind) && f == field && *ty == t);
            if !known && !excepted {
                problems.push(format!("{what}: {field} ({t}) is not in the fixtures"));
            }
        }
    }
    let status = workflow["status"].as_object().expect("status");
    let fixture_status: BTreeSet<&String> = shapes.status.keys().collect();
    for field in fixture_status {
        if let Some(value) = status.get(field)
            && !shapes.status[field].contains(json_type(value))
        {
            problems.push(format!("status.{field} is {}, the fixtures' {:?}", json_type(value), shapes.status[field]));
        }
    }
    for node in nodes(workflow).values() {
        let node = node.as_object().expect("a node");
        let kind = node["type"].as_str().expect("type");
        let name = node["name"].as_str().expect("name");
        let Some(fields) = shapes.fields.get(kind) else {
            problems.push(format!("{name}: the fixtures have no {kind} node"));
            continue;
        };
        check(&mut problems, format!("{kind} {name}"), Some(fields), node, kind);
        for field in &shapes.always[kind] {
            if !node.contains_key(field) {
                problems.push(format!("{kind} {name}: no {field}, which every fixture {kind} node has"));
            }
        }
        for part in ["inputs", "outputs"] {
            if let Some(inner) = node.get(part).and_then(Value::as_object) {
                check(&mut problems, format!("{kind} {name} {part}"), shapes.inner.get(part), inner, part);
            }
        }
    }
    problems
}

fn progress(node: &Value) -> (u64, u64) {
    let p = text(node, "progress");
    let (done, total) = p.split_once('/').unwrap_or_else(|| panic!("progress {p:?} is N/M"));
    (done.parse().expect("N"), total.parse().expect("M"))
}

/// The node tree of one run of the template, by Argo's rules as the fixtures show them.
fn check_tree(workflow: &Value, failing: Option<&str>) {
    let wf = name_of(workflow);
    for (id, node) in nodes(workflow) {
        assert_eq!(id, &node_id(&wf, text(node, "name")), "ids are fnv32a of the node name");
        assert_eq!(text(node, "id"), id);
        if id != &wf {
            assert_eq!(text(node, "boundaryID"), wf, "{id}: the template's steps are bounded by the root");
        }
        assert_eq!(text(node, "templateScope"), format!("local/{wf}"));
    }
    let id = |name: &str| node_id(&wf, name);
    let root = node(workflow, &wf);
    assert_eq!(
        (text(root, "type"), text(root, "displayName"), text(root, "templateName")),
        ("Steps", wf.as_str(), "lifecycle")
    );
    let (sg0, sg1) = (format!("{wf}[0]"), format!("{wf}[1]"));
    // The root leads to the first step group; each group's steps lead to the next (as in every
    // fixture: `generate` → `[1]`, `gen-tasks(0)` → `process-tasks`).
    assert_eq!(root["children"], json!([id(&sg0)]));
    for (sg, display) in [(&sg0, "[0]"), (&sg1, "[1]")] {
        let n = node(workflow, sg);
        assert_eq!((text(n, "type"), text(n, "displayName"), text(n, "templateName")), ("StepGroup", display, ""));
    }
    let discovery = format!("{sg0}.discovery");
    assert_eq!(node(workflow, &sg0)["children"], json!([id(&discovery)]));
    let d = node(workflow, &discovery);
    assert_eq!((text(d, "type"), text(d, "displayName"), text(d, "templateName")), ("Retry", "discovery", "discover"));
    assert_eq!(d["children"], json!([id(&format!("{discovery}(0)"))]));
    let d0 = node(workflow, &format!("{discovery}(0)"));
    assert_eq!((text(d0, "type"), text(d0, "displayName")), ("Pod", "discovery(0)"));
    assert_eq!(d0["nodeFlag"], json!({"retried": true}));
    assert_eq!(d0["children"], json!([id(&sg1)]), "the next group hangs off the step's last attempt");

    let jobs_output = d["outputs"]["parameters"].as_array().expect("outputs").iter().find(|p| p["name"] == "jobs");
    let items: Vec<Value> =
        serde_json::from_str(jobs_output.and_then(|p| p["value"].as_str()).expect("jobs")).expect("a JSON list");
    let mut bridges = Vec::new();
    let mut attempts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (ns, name) = (item["namespace"].as_str().expect("ns"), item["name"].as_str().expect("name"));
        let display = format!("bridge({i}:name:{name},namespace:{ns})");
        let retry_name = format!("{sg1}.{display}");
        let retry = node(workflow, &retry_name);
        assert_eq!(
            (text(retry, "type"), text(retry, "displayName"), text(retry, "templateName")),
            ("Retry", display.as_str(), "bridge")
        );
        let attempt = node(workflow, &format!("{retry_name}(0)"));
        assert_eq!((text(attempt, "type"), text(attempt, "displayName")), ("Pod", format!("{display}(0)").as_str()));
        assert_eq!(attempt["nodeFlag"], json!({"retried": true}));
        assert_eq!(retry["children"], json!([text(attempt, "id")]));
        assert!(attempt.get("children").is_none(), "the last group leads nowhere");
        let inputs: BTreeMap<&str, &str> = attempt["inputs"]["parameters"]
            .as_array()
            .expect("inputs")
            .iter()
            .map(|p| (p["name"].as_str().expect("name"), p["value"].as_str().expect("value")))
            .collect();
        assert_eq!(inputs["job"], format!("{ns}/{name}"));
        let fails = failing == Some(format!("{ns}/{name}").as_str());
        let (phase, message, code, done) =
            if fails { ("Failed", "main: Error (exit code 2)", "2", 0) } else { ("Succeeded", "", "0", 1) };
        for n in [retry, attempt] {
            assert_eq!((text(n, "phase"), text(n, "message")), (phase, message), "{retry_name}");
            assert_eq!(n["outputs"]["exitCode"], code);
            assert_eq!(progress(n), (done, 1));
        }
        bridges.push(json!(id(&retry_name)));
        attempts.push(json!(text(attempt, "id")));
    }
    assert_eq!(node(workflow, &sg1)["children"], Value::Array(bridges), "the items, in order");
    assert_eq!(root["outboundNodes"], Value::Array(attempts), "the last group's attempts");

    let total = items.len() as u64 + 1;
    let done = total - u64::from(failing.is_some());
    assert_eq!(progress(root), (done, total), "discovery and a bridge per Job");
    assert_eq!(workflow["status"]["progress"], format!("{done}/{total}"));
    assert_eq!(progress(node(workflow, &sg0)), (done, total), "a group sums the pods below it, next groups included");
    assert_eq!(progress(node(workflow, &sg1)), (done - 1, total - 1));
    match failing {
        None => {
            for n in nodes(workflow).values() {
                assert_eq!((text(n, "phase"), text(n, "message")), ("Succeeded", ""), "{}", text(n, "name"));
            }
        }
        Some(job) => {
            let job = JobRef::parse(job).expect("a job");
            let i = items.iter().position(|it| it["name"] == job.name).expect("listed");
            let failed = id(&format!("{sg1}.bridge({i}:name:{},namespace:{})", job.name, job.namespace));
            let message = format!("child '{failed}' failed");
            assert_eq!(text(node(workflow, &sg1), "message"), message);
            assert_eq!((text(root, "phase"), text(root, "message")), ("Failed", message.as_str()));
            assert_eq!(workflow["status"]["message"], message);
        }
    }
}

#[tokio::test]
async fn the_status_follows_the_rules_and_shapes_of_real_argo_workflows() {
    let region = instant_region(None).await;
    let acme = region.submit_as_sensor(json!({"tenant": ACME, "operation": UPSERT})).await;
    let globex = region.submit_as_sensor(json!({"tenant": GLOBEX, "operation": UPSERT})).await;
    let acme = region.wait_finished(&acme).await;
    let globex = region.wait_finished(&globex).await;
    check_tree(&acme, None);
    check_tree(&globex, Some("lineage/lineage-graph"));
    let shapes = fixture_shapes();
    let mut problems = shape_problems(&acme, &shapes);
    problems.extend(shape_problems(&globex, &shapes));
    assert!(problems.is_empty(), "{problems:#?}");
}

// ----- branches that run: a deleted bridge pod, Stop and Terminate -----

/// Waits (on a watch) for the first pod in `namespace` matching `selector` whose containers all
/// run.
async fn wait_running_pod(region: &Region, namespace: &str, selector: &str) -> Pod {
    use futures::StreamExt;
    let config = kube::runtime::watcher::Config::default().labels(selector);
    let stream = kube::runtime::watcher(region.pods(namespace), config);
    let running = async {
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            if let Ok(kube::runtime::watcher::Event::Apply(p) | kube::runtime::watcher::Event::InitApply(p)) = event {
                let statuses = p.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
                let all_running = !statuses.is_empty()
                    && statuses.iter().all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()));
                if all_running && p.metadata.deletion_timestamp.is_none() {
                    return p;
                }
            }
        }
        panic!("the watch of {namespace} ended");
    };
    tokio::time::timeout(DEADLINE, running).await.unwrap_or_else(|_| panic!("no running pod {selector} in {namespace}"))
}

/// Submits an `acme-prod` migrate-out and waits until the slow `workflows-drain` branch runs and its
/// bridge is attached to it. Returns the Workflow's name, the branch pod and the bridge pod's name.
async fn drain_running(region: &Region) -> (String, Pod, String) {
    let name = region.submit_as_sensor(json!({"tenant": ACME, "operation": MIGRATE_OUT})).await;
    let drain = job(DRAIN);
    let branch = wait_running_pod(region, &drain.namespace, &format!("tlc.dev/job={}", drain.name)).await;
    let workflow = region
        .wait_workflow(&name, "the drain's bridge running", |w| {
            WorkflowRun::from_value(w).ok().and_then(|r| r.branch(&job(DRAIN)).map(|b| b.state()))
                == Some(State::Running)
        })
        .await;
    let run = run_of(&workflow);
    let bridge = run.branch(&drain).expect("the drain's branch").attempts()[0].pod_name.clone().expect("its pod");
    (name, branch, bridge)
}

fn main_exit_code(pod: &Pod) -> Option<i32> {
    let statuses = pod.status.as_ref()?.container_statuses.as_ref()?;
    let main = statuses.iter().find(|c| c.name == "main")?;
    Some(main.state.as_ref()?.terminated.as_ref()?.exit_code)
}

/// Follows a container's log until a line contains `needle`.
async fn wait_log_line(region: &Region, namespace: &str, pod: &str, container: &str, needle: &str) {
    use futures::{AsyncBufReadExt, StreamExt};
    let lp = LogParams { container: Some(container.into()), follow: true, ..LogParams::default() };
    let found = async {
        let stream = region.pods(namespace).log_stream(pod, &lp).await.expect("a log stream");
        let mut lines = stream.lines();
        while let Some(line) = lines.next().await {
            if line.expect("a line").contains(needle) {
                return;
            }
        }
        panic!("{namespace}/{pod} ended without printing {needle:?}");
    };
    tokio::time::timeout(DEADLINE, found).await.unwrap_or_else(|_| panic!("{namespace}/{pod}: no {needle:?}"));
}

/// The distinct messages a node had, in order, as a watch of the workflow saw them, until the
/// workflow ended.
fn watch_node_messages(region: &Region, workflow: &str, node_name: String) -> tokio::task::JoinHandle<Vec<String>> {
    use futures::StreamExt;
    let config = kube::runtime::watcher::Config::default().fields(&format!("metadata.name={workflow}"));
    let stream = kube::runtime::watcher(region.workflows(), config);
    let id = node_id(workflow, &node_name);
    tokio::spawn(async move {
        futures::pin_mut!(stream);
        let mut seen: Vec<String> = Vec::new();
        while let Some(event) = stream.next().await {
            let Ok(kube::runtime::watcher::Event::Apply(w) | kube::runtime::watcher::Event::InitApply(w)) = event
            else {
                continue;
            };
            let message = w.data["status"]["nodes"][&id]["message"].as_str().unwrap_or("").to_string();
            if seen.last() != Some(&message) {
                seen.push(message);
            }
            if matches!(w.data["status"]["phase"].as_str(), Some("Succeeded" | "Failed" | "Error")) {
                break;
            }
        }
        seen
    })
}

#[tokio::test]
async fn a_deleted_bridge_pod_is_retried_and_the_retry_attaches_to_the_running_branch() {
    let region = region(RUNNING_SCALE, RUNNING_SCALE, None).await;
    let (name, branch, bridge) = drain_running(&region).await;
    // Argo makes a node's pod again when it goes missing within 10 s of the node's start (informer
    // lag, `RECENTLY_STARTED_POD_DURATION`; scaled, 2 s here): only a pod deleted later is an error
    // to retry. The drain prints 60% 13 simulated seconds after it starts.
    let branch_name = branch.metadata.name.clone().expect("named");
    wait_log_line(&region, "workflows", &branch_name, "lifecycle", "Draining workflow queue:  60%").await;
    region.pods("argo").delete(&bridge, &DeleteParams::default()).await.expect("the bridge pod deleted");
    let workflow = region.wait_finished(&name).await;
    assert_eq!(workflow["status"]["phase"], "Succeeded", "the retry carried the branch to its end");

    // Argo: the deleted pod's node is an error, `retryPolicy: OnError` retries it.
    let drain = job(DRAIN);
    let run = run_of(&workflow);
    let b = run.branch(&drain).expect("the drain's branch");
    let retry_name = format!("{name}[1].{}", b.item);
    let retry = node(&workflow, &retry_name);
    let (first, second) = (node(&workflow, &format!("{retry_name}(0)")), node(&workflow, &format!("{retry_name}(1)")));
    assert_eq!(retry["children"], json!([text(first, "id"), text(second, "id")]));
    assert_eq!((text(first, "phase"), text(first, "message")), ("Error", "pod deleted"));
    assert_eq!((text(second, "phase"), text(second, "displayName")), ("Succeeded", format!("{}(1)", b.item).as_str()));
    for attempt in [first, second] {
        assert_eq!(attempt["nodeFlag"], json!({"retried": true}));
    }
    assert_eq!((text(retry, "phase"), progress(retry)), ("Succeeded", (1, 2)), "one pod of two succeeded");
    let numbers: Vec<(u32, State)> = b.attempts().iter().map(|a| (a.number, a.state)).collect();
    assert_eq!(numbers, [(1, State::Failed), (2, State::Succeeded)], "as tlc reads it");

    // The team's job ran once: the retried bridge attached to the branch pod the first one made.
    let batch = batch_of(&run);
    let pods = region.branch_pods(&batch, &drain).await;
    let [(1, pod)] = pods.iter().map(|(a, p)| (*a, p)).collect::<Vec<_>>()[..] else {
        panic!("one branch pod, attempt 1: {:?}", pods.keys())
    };
    assert_eq!(pod.metadata.uid, branch.metadata.uid, "the same pod");
    assert_eq!(exit_code(pod), 0);
    let log = region.log("argo", b.attempts()[1].pod_name.as_deref().expect("a pod"), "main").await;
    assert!(log.contains(&format!("tlc bridge: attached to pod workflows/{branch_name} (attempt 1)")), "{log}");
    assert!(log.contains("Drain complete: 0 runs in flight"), "the retried bridge streams the whole branch: {log}");
    // Every other branch ran once too.
    for j in MIGRATE_OUT_JOBS.iter().map(|j| job(j)) {
        assert_eq!(region.branch_pods(&batch, &j).await.keys().copied().collect::<Vec<_>>(), [1], "{j}");
    }
}

/// A branch pod a stop ended (its lowered deadline) and kept, marked with who cancelled it.
fn stopped_and_kept(p: Option<&Pod>) -> bool {
    p.is_some_and(|p| {
        let reason = p.status.as_ref().and_then(|s| s.reason.as_deref());
        let by = p.metadata.annotations.as_ref().and_then(|a| a.get("tlc.dev/cancelled-by"));
        reason == Some("DeadlineExceeded") && by.is_some()
    })
}

/// Stop or Terminate (tlc's pure patches) while the drain runs: the bridge's SIGTERM handling
/// stops the running branch pod (kept, cancelled), the Workflow fails with Argo's messages, and a second request on
/// the finished Workflow is refused with Argo's words.
async fn shutdown_while_the_drain_runs(strategy: &str) {
    let region = region(RUNNING_SCALE, RUNNING_SCALE, None).await;
    let (name, branch, bridge) = drain_running(&region).await;
    let current = serde_json::to_value(region.workflows().get(&name).await.expect("workflow")).expect("json");
    let patch = match strategy {
        "Stop" => actions::stop_patch(&current),
        _ => actions::terminate_patch(&current),
    }
    .expect("a running workflow may be shut down");
    assert_eq!(patch, json!({"spec": {"shutdown": strategy}}));
    let drain = job(DRAIN);
    let run = run_of(&current);
    let retry_name = format!("{name}[1].{}", run.branch(&drain).expect("the drain's branch").item);
    let messages = watch_node_messages(&region, &name, format!("{retry_name}(0)"));
    region.workflows().patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patched");
    let workflow = region.wait_finished(&name).await;
    assert_eq!(workflow["status"]["phase"], "Failed");
    let stopped = format!("Stopped with strategy '{strategy}'");
    assert_eq!(workflow["status"]["message"], stopped);

    let run = run_of(&workflow);
    // Argo marks the running pod's node when it signals the pod, then reads the pod that ended
    // (`assessNodeStatus` of a Failed pod: `main: Error (exit code 143)`) while the task results
    // keep the workflow from completing.
    let shutdown = format!("workflow shutdown with strategy:  {strategy}");
    let seen = tokio::time::timeout(DEADLINE, messages).await.expect("the watch ends").expect("joins");
    assert_eq!(seen, ["", shutdown.as_str(), "main: Error (exit code 143)"], "the drain attempt's messages");
    let attempt = node(&workflow, &format!("{retry_name}(0)"));
    assert_eq!((text(attempt, "phase"), attempt["outputs"]["exitCode"].as_str()), ("Failed", Some("143")));
    let retry = node(&workflow, &retry_name);
    assert_eq!((text(retry, "phase"), text(retry, "message")), ("Failed", stopped.as_str()), "no retry after a stop");

    // The branch pod is stopped and kept: the bridge lowered its deadline on SIGTERM, and said so.
    let branch_name = branch.metadata.name.clone().expect("named");
    let kept = region.wait_pod(&drain.namespace, &branch_name, "its stop", stopped_and_kept).await.expect("kept");
    assert_eq!(
        tlc::lifecycle::run::PodSnapshot::from_pod(&kept).map(|s| s.phase),
        Some(tlc::lifecycle::run::Phase::Cancelled)
    );
    let bridge_pod = region
        .wait_pod("argo", &bridge, "the bridge to end", |p: Option<&Pod>| p.and_then(main_exit_code).is_some())
        .await
        .expect("the failed bridge pod stays");
    assert_eq!(main_exit_code(&bridge_pod), Some(143), "128 + SIGTERM");
    let log = region.log("argo", &bridge, "main").await;
    let said = format!(
        "tlc bridge: stopped (SIGTERM): branch pod workflows/{branch_name} is being stopped (kept, with its logs)"
    );
    assert!(log.contains(&said), "{log}");

    // Every branch either ended before the stop or was stopped with its branch pod.
    let batch = batch_of(&run);
    for b in &run.branches {
        let j = b.job.clone().expect("a Job");
        let pods = region.branch_pods(&batch, &j).await;
        match b.state() {
            State::Succeeded => assert_eq!(pods.values().map(exit_code).collect::<Vec<_>>(), [0], "{j}"),
            state => {
                assert_eq!(state, State::Failed, "{j}");
                let a = &b.attempts()[0];
                if a.exit_code.is_none() {
                    // Stopped before its bridge pod was made: no branch either.
                    let unstarted = format!("workflow shutdown with strategy: {strategy}");
                    assert_eq!((a.message.as_deref(), pods.len()), (Some(unstarted.as_str()), 0), "{j}");
                    continue;
                }
                assert_eq!(a.exit_code, Some(143), "{j}: its bridge was stopped");
                for pod in pods.values() {
                    let n = pod.metadata.name.clone().expect("named");
                    region.wait_pod(&j.namespace, &n, "its stop", stopped_and_kept).await;
                }
            }
        }
    }

    // Argo's client refuses to shut down a finished workflow, in its own words.
    let namespace = "argo";
    let refused = format!("cannot shutdown a completed workflow: workflow: \"{name}\", namespace: \"{namespace}\"");
    for refusal in [actions::stop_patch(&workflow), actions::terminate_patch(&workflow)] {
        assert_eq!(refusal.expect_err("refused").to_string(), refused);
    }
}

#[tokio::test]
async fn stop_ends_the_running_branch_and_fails_the_workflow_with_argos_messages() {
    shutdown_while_the_drain_runs("Stop").await;
}

#[tokio::test]
async fn terminate_ends_the_running_branch_and_fails_the_workflow_with_argos_messages() {
    shutdown_while_the_drain_runs("Terminate").await;
}

#[tokio::test]
async fn without_pod_patch_a_stop_leaves_the_branch_running_and_the_bridge_says_why() {
    let grant = grants().into_iter().find(|g| g.verb == "patch" && g.resource == "pods").expect("pods: patch");
    let region = region(RUNNING_SCALE, RUNNING_SCALE, Some(&rbac_without(&grant))).await;
    let (name, branch, bridge) = drain_running(&region).await;
    let current = serde_json::to_value(region.workflows().get(&name).await.expect("workflow")).expect("json");
    let patch = actions::stop_patch(&current).expect("running");
    region.workflows().patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.expect("patched");
    let workflow = region.wait_finished(&name).await;
    assert_eq!(workflow["status"]["message"], "Stopped with strategy 'Stop'");
    let bridge_pod = region
        .wait_pod("argo", &bridge, "the bridge to end", |p: Option<&Pod>| p.and_then(main_exit_code).is_some())
        .await
        .expect("the failed bridge pod stays");
    assert_eq!(main_exit_code(&bridge_pod), Some(125), "the bridge failed itself");
    let log = region.log("argo", &bridge, "main").await;
    let branch_name = branch.metadata.name.clone().expect("named");
    let found: BTreeSet<Denial> = denials(&log).into_iter().collect();
    let expected = Denial {
        user: SERVICE_ACCOUNT.into(),
        verb: "patch".into(),
        resource: "pods".into(),
        group: String::new(),
        namespace: Some("workflows".into()),
    };
    assert_eq!(found, BTreeSet::from([expected]), "{log}");
    assert!(log.contains(&format!("stopped (SIGTERM), but branch pod workflows/{branch_name} goes on")), "{log}");
    // The team's container was not stopped.
    let now = region.pods("workflows").get(&branch_name).await.expect("the branch pod is still there");
    assert!(now.metadata.deletion_timestamp.is_none(), "nobody deleted it");
    assert!(
        now.metadata.annotations.as_ref().is_none_or(|a| !a.contains_key("tlc.dev/cancelled-by")),
        "nobody stopped it"
    );
    let phase = now.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
    assert!(phase == "Running" || (phase == "Succeeded" && exit_code(&now) == 0), "it drains on: {phase}");
}

// ----- 4. a client-side retry -----

#[tokio::test]
async fn a_client_side_retry_reruns_only_the_failed_branch_as_attempt_two() {
    let region = instant_region(None).await;
    let name = region.submit_as_sensor(json!({"tenant": GLOBEX, "operation": UPSERT})).await;
    let failed = region.wait_finished(&name).await;
    assert_eq!(failed["status"]["phase"], "Failed");
    let before = run_of(&failed);
    let lineage = job("lineage/lineage-graph");

    let plan = actions::retry(&failed, jiff::Timestamp::now()).expect("a failed workflow may be retried");
    let reruns: Vec<Option<JobRef>> = plan.rerun.iter().map(|r| r.job.clone()).collect();
    assert_eq!(reruns, [Some(lineage.clone())], "only the failed branch");
    assert!(!plan.discovery_reruns);
    let failed_bridge = before.branch(&lineage).expect("lineage").attempts()[0].pod_name.clone().expect("its pod");
    assert_eq!(plan.pods_to_delete, [failed_bridge]);
    for pod in &plan.pods_to_delete {
        let uid = region.pods("argo").get(pod).await.expect("the failed bridge pod").metadata.uid.expect("uid");
        region.pods("argo").delete(pod, &DeleteParams::default()).await.expect("deleted");
        region.wait_pod("argo", pod, "its deletion", kube::runtime::conditions::is_deleted(&uid)).await;
    }
    let object: DynamicObject = serde_json::from_value(plan.workflow.clone()).expect("a Workflow");
    region.workflows().replace(&name, &PostParams::default(), &object).await.expect("a plain update");
    let again = region.wait_finished(&name).await;
    assert_eq!(again["status"]["phase"], "Failed", "globex-prod is still over the quota");

    // The failed branch ran again as attempt 2; nothing else ran again.
    let after = run_of(&again);
    let batch = batch_of(&after);
    assert_eq!(Some(batch.clone()), before.discovery.as_ref().and_then(|d| d.batch.clone()), "the same batch");
    let pods = region.branch_pods(&batch, &lineage).await;
    let attempts: Vec<(u32, i32)> = pods.iter().map(|(a, p)| (*a, exit_code(p))).collect();
    assert_eq!(attempts, [(1, 2), (2, 2)]);
    let labels = pods[&2].metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("tlc.dev/attempt").map(String::as_str), Some("2"));
    let new_bridge = after.branch(&lineage).expect("lineage").attempts()[0].pod_name.clone().expect("its pod");
    let log = region.log("argo", &new_bridge, "main").await;
    assert!(log.contains("(attempt 2) for globex-prod"), "{log}");
    for j in UPSERT_JOBS.iter().map(|j| job(j)).filter(|j| *j != lineage) {
        assert_eq!(region.branch_pods(&batch, &j).await.keys().copied().collect::<Vec<_>>(), [1], "{j} ran once");
        let (b0, b1) = (before.branch(&j).expect("before"), after.branch(&j).expect("after"));
        assert_eq!(b0.attempts(), b1.attempts(), "{j}: its nodes are untouched");
    }
    let (d0, d1) = (before.discovery.as_ref().expect("d"), after.discovery.as_ref().expect("d"));
    assert_eq!(d0.unit.attempts, d1.unit.attempts, "discovery did not run again");
    let retried = after.branch(&lineage).expect("lineage");
    assert_eq!((retried.state(), retried.exit_code()), (State::Failed, Some(2)));
}

// ----- a branch whose bridge failed before making its pod, as the CLI shows it -----

#[tokio::test]
async fn tlc_logs_shows_a_branch_that_never_got_a_pod_through_its_bridge() {
    // Without `create pods` for the steps, every bridge fails before its branch pod exists: the
    // Workflow's nodes and the bridges' logs are all there is to say what happened.
    let create_pods =
        grants().into_iter().find(|g| g.resource == "pods" && g.verb == "create").expect("the kit grants create pods");
    let region = instant_region(Some(&rbac_without(&create_pods))).await;
    let name = region.submit_as_sensor(json!({"tenant": ACME, "operation": UPSERT})).await;
    let workflow = region.wait_finished(&name).await;
    assert_eq!(workflow["status"]["phase"], "Failed");
    let batch = batch_of(&run_of(&workflow));

    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let entries = region.cluster.kubeconfig_entries();
    embedded_cluster::kubeconfig::write(&kubeconfig, &entries, REGION, "# test").expect("kubeconfig");
    let tlc = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"));
        cmd.arg("--kubeconfig").arg(&kubeconfig).args(["--context", REGION]).args(args);
        cmd.env_remove("TLC_CONFIG").env("NO_COLOR", "1").env("TLC_DATA_DIR", dir.path().join("data"));
        cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
        async move { tokio::time::timeout(DEADLINE, cmd.output()).await.expect("in time").expect("runs") }
    };
    // By the batch id discovery gave it, or by the Workflow's name (as Argo's UI shows it).
    let out = tlc(&["logs", &batch]).await;
    let by_name = tlc(&["logs", &name]).await;
    let sorted = |bytes: &[u8]| {
        let mut lines: Vec<String> = String::from_utf8_lossy(bytes).lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(&out.stdout), sorted(&by_name.stdout), "the same batch by its Workflow's name");
    assert_eq!(out.status.code(), Some(3), "failed branches: {}", String::from_utf8_lossy(&out.stderr));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let summary = stderr.lines().find(|l| l.starts_with("lineage/lineage-graph")).expect("lineage in the summary");
    assert!(summary.split_whitespace().nth(2) == Some("125"), "the bridge's exit code: {summary}");
    for j in UPSERT_JOBS {
        let job = job(j);
        let ours: Vec<&str> = stdout.lines().filter(|l| l.contains(&job.name)).collect();
        let refused =
            format!("cannot create resource \"pods\" in API group \"\" in the namespace \"{}\"", job.namespace);
        assert!(ours.iter().any(|l| l.contains(&refused)), "{j}: its bridge's 403 from its log:\n{stdout}\n{stderr}");
        let status = ours.iter().position(|l| l.contains("── failed before its branch pod, exit code 125"));
        let status = status.unwrap_or_else(|| panic!("{j}: a status line saying so:\n{stdout}\n{stderr}"));
        assert!(ours[status].contains("its bridge was argo/"), "{j}: names its bridge pod: {}", ours[status]);
        assert_eq!(status, ours.len() - 1, "{j}: the status comes after the bridge's lines:\n{stdout}");
    }
    // Cancelling it is Argo's Stop of its Workflow (refused: it has finished), not a direct
    // engine's deletion of branch pods it never had.
    let cancel = tlc(&["cancel", &name, "--yes"]).await;
    let said = String::from_utf8_lossy(&cancel.stderr);
    assert!(said.contains("cannot shutdown a completed workflow"), "{said}");
    assert_ne!(cancel.status.code(), Some(0));
}

#[tokio::test]
async fn tlc_logs_follows_a_sensor_run_named_by_its_workflow_from_before_discovery_names_its_batch() {
    // Pods take two seconds to start: the Workflow is still in discovery, with no batch id, when
    // `tlc logs -f` is given its name.
    let mut config = ClusterConfig::new(REGION).with_time_scale(1.0);
    config.kubelet.startup_delay = std::time::Duration::from_secs(2);
    let region = region_with(config, 1.0, None).await;
    let name = region.submit_as_sensor(json!({"tenant": ACME, "operation": UPSERT})).await;
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    let entries = region.cluster.kubeconfig_entries();
    embedded_cluster::kubeconfig::write(&kubeconfig, &entries, REGION, "# test").expect("kubeconfig");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"));
    cmd.arg("--kubeconfig").arg(&kubeconfig).args(["--context", REGION, "logs", "-f", &name]);
    cmd.env_remove("TLC_CONFIG").env("NO_COLOR", "1").env("TLC_DATA_DIR", dir.path().join("data"));
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("runs");
    let seen = serde_json::to_value(region.workflows().get(&name).await.expect("workflow")).expect("json");
    let named = WorkflowRun::from_value(&seen).ok().and_then(|r| r.discovery.and_then(|d| d.batch));
    assert_eq!(named, None, "the test's premise: discovery has not named the batch yet");
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output()).await.expect("in time").expect("output");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let finished = region.wait_finished(&name).await;
    let batch = batch_of(&run_of(&finished));
    assert!(stderr.contains(&format!("batch {batch}")), "the summary names the batch discovery made:\n{stderr}");
    for j in UPSERT_JOBS {
        let job = job(j);
        let ours: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&job.to_string())).collect();
        assert!(ours.len() > 1, "{j}: its branch's log lines:\n{stdout}");
        let last = ours.last().copied().unwrap_or_default();
        assert!(last.contains("── succeeded"), "{j}: ends with its status: {last}");
    }
}
