//! `tlc doctor` as an operator meets it: the real binary against an embedded cluster seeded with
//! the demo estate, as the admin, a read-only viewer, a user confined to one namespace, with the
//! wrong annotation key, with Argo as the engine but no template, and with a region that is down.
//! Each case checks the exact report and the exit code.

use std::path::PathBuf;
use std::process::Output;

use crate::common::{DEADLINE, cluster_with};
use embedded_cluster::auth::User;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use tlc::demo;

struct Fixture {
    _cluster: EmbeddedCluster,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
    dead_port: u16,
}

/// eu-west with the demo estate and three users (admin, `viewer`, `team` confined to `billing`),
/// and `ap-south`: the same cluster's credentials on a loopback port nothing listens on.
async fn fixture() -> Fixture {
    let c = cluster_with(ClusterConfig::new("eu-west")).await;
    demo::examples::seed(c.store(), "eu-west").expect("estate");
    c.add_user(User::read_only("viewer", "viewer-token"));
    c.add_user(User::namespace_admin("team", "team-token", &["billing"]));
    let mut entries = c.kubeconfig_entries();
    let dead_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        listener.local_addr().expect("local addr").port()
    };
    let mut dead = entries.iter().find(|e| e.context == "eu-west").expect("admin entry").clone();
    dead.context = "ap-south".into();
    dead.cluster = "ap-south".into();
    dead.server = format!("https://127.0.0.1:{dead_port}");
    entries.push(dead);
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    embedded_cluster::kubeconfig::write(&kubeconfig, &entries, "eu-west", "# test").expect("kubeconfig");
    Fixture { _cluster: c, kubeconfig, dir, dead_port }
}

impl Fixture {
    async fn doctor(&self, args: &[&str]) -> (Option<i32>, String) {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"));
        cmd.arg("--kubeconfig").arg(&self.kubeconfig).arg("doctor").args(args);
        cmd.env_remove("TLC_CONFIG")
            .env_remove("TLC_LOG")
            .env("NO_COLOR", "1")
            .env("TLC_DATA_DIR", self.dir.path().join("data"))
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        let out: Output = tokio::time::timeout(DEADLINE, cmd.output()).await.expect("tlc finishes").expect("tlc runs");
        assert!(out.stderr.is_empty(), "nothing on stderr: {}", String::from_utf8_lossy(&out.stderr));
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

const SEED_KEY: [&str; 2] = ["--annotation", "collibra.com/tenant.lifecycle"];

fn args<'a>(contexts: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    contexts.iter().chain(more).copied().collect()
}

#[tokio::test]
async fn doctor_says_ready_only_when_everything_triggering_needs_is_there() {
    let f = fixture().await;
    let (code, out) = f.doctor(&args(&["--context", "eu-west"], &SEED_KEY)).await;
    assert_eq!(out, around_all_allowed(ADMIN[0], ADMIN[1]));
    assert_eq!(code, Some(0));
    let (code, json) = f.doctor(&args(&["--context", "eu-west", "-o", "json"], &SEED_KEY)).await;
    assert_eq!(code, Some(0));
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(report["ready"], true);
    assert_eq!(report["engine"], "direct");
    let permissions = report["regions"][0]["permissions"].as_array().expect("permissions");
    assert_eq!(permissions.len(), 22);
    assert!(permissions.iter().all(|p| p["allowed"] == true), "{json}");
}

#[tokio::test]
async fn a_viewer_learns_which_permissions_they_lack_before_they_need_them() {
    let f = fixture().await;
    let (code, out) = f.doctor(&args(&["--context", "eu-west=eu-west-viewer"], &SEED_KEY)).await;
    assert_eq!(out, VIEWER);
    assert_eq!(code, Some(1));
    let (_, json) = f.doctor(&args(&["--context", "eu-west=eu-west-viewer", "-o", "json"], &SEED_KEY)).await;
    let report: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(report["ready"], false);
    let denied: Vec<String> = report["regions"][0]["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter(|p| p["allowed"] == false)
        .map(|p| format!("{} {}", p["verb"].as_str().unwrap(), p["resource"].as_str().unwrap()))
        .collect();
    assert_eq!(
        denied,
        [
            "create pods",
            "create configmaps",
            "patch pods",
            "create events",
            "create configmaps",
            "update configmaps",
            "create workflows.argoproj.io",
            "patch workflows.argoproj.io",
            "update workflows.argoproj.io",
            "delete pods"
        ]
    );
}

#[tokio::test]
async fn a_user_confined_to_one_namespace_sees_what_the_cluster_scope_denies_them() {
    let f = fixture().await;
    let (code, out) = f.doctor(&args(&["--context", "eu-west=eu-west-team"], &SEED_KEY)).await;
    assert_eq!(out, TEAM);
    assert_eq!(code, Some(1));
    let confined = ["--context", "eu-west=eu-west-team", "--job-namespace", "billing"];
    let (code, out) = f.doctor(&args(&confined, &SEED_KEY)).await;
    assert_eq!(out, TEAM_BILLING);
    assert_eq!(code, Some(1));
}

#[tokio::test]
async fn a_wrong_annotation_key_is_answered_with_the_key_the_suspended_jobs_carry() {
    let f = fixture().await;
    let (code, out) = f.doctor(&["--context", "eu-west"]).await;
    assert_eq!(out, around_all_allowed(WRONG_KEY[0], WRONG_KEY[1]));
    assert_eq!(code, Some(1));
}

#[tokio::test]
async fn a_down_region_is_named_with_its_reason_and_the_others_are_still_examined() {
    let f = fixture().await;
    let (code, out) = f.doctor(&args(&["--context", "eu-west", "--context", "ap-south"], &SEED_KEY)).await;
    let expected = around_all_allowed(DOWN[0], DOWN[1]).replace("@@PORT@@", &f.dead_port.to_string());
    assert_eq!(out, expected);
    assert_eq!(code, Some(1));
}

#[tokio::test]
async fn with_argo_as_the_engine_the_template_and_its_permissions_are_needed() {
    let f = fixture().await;
    let config = f.dir.path().join("argo.toml");
    std::fs::write(&config, "[run]\nengine = \"argo\"\n").expect("config");
    let config = config.display().to_string();
    let (code, out) = f.doctor(&args(&["--config", &config, "--context", "eu-west"], &SEED_KEY)).await;
    assert_eq!(code, Some(1));
    assert!(out.starts_with("tlc doctor: engine argo, lifecycle annotation collibra.com/tenant.lifecycle\n"), "{out}");
    assert!(
        out.contains(
            "  FAIL  Argo template   argo/tenant-lifecycle is not installed, and run.engine is argo\n                        install tlc's Argo kit (kubectl apply -f deploy/argo/; see docs/argo.md), or run with --engine direct\n"
        ),
        "{out}"
    );
    assert!(out.contains("  yes      create  pods                           (all)                 starting branch pods (direct engine)\n"), "not needed by argo: {out}");
    assert!(
        out.contains(
            "  yes      create  workflows.argoproj.io          argo         needed   submitting Workflows (argo engine)\n"
        ),
        "{out}"
    );
}

/// The permissions table of a user who may do everything tlc does.
const ALL_ALLOWED: &str = r#"  ALLOWED  VERB    RESOURCE                       NAMESPACE    TRIGGER  NEEDED FOR
  yes      list    jobs.batch                     (all)        needed   discovering lifecycle Jobs
  yes      watch   jobs.batch                     (all)                 the console's Jobs view, live
  yes      list    configmaps                     tenants      needed   reading tenants
  yes      watch   configmaps                     tenants               the console's tenants view, live
  yes      create  pods                           (all)        needed   starting branch pods (direct engine)
  yes      create  configmaps                     (all)        needed   each branch's mounted files (direct engine)
  yes      list    pods                           (all)                 runs and their branches
  yes      watch   pods                           (all)                 following branches live
  yes      get     pods/log                       (all)                 branch logs
  yes      patch   pods                           (all)                 cancelling a batch (stops its pods, keeps them)
  yes      create  events                         (all)        needed   the audit trail (Events)
  yes      create  configmaps                     tlc-records           batch records (else only the local history)
  yes      update  configmaps                     tlc-records           batch records: cancels, retries, outcomes
  yes      list    configmaps                     tlc-records           runs whose pods are gone, tlc history
  yes      watch   configmaps                     tlc-records           the console's runs from records, live
  yes      get     workflowtemplates.argoproj.io  argo                  checking the Argo template
  yes      create  workflows.argoproj.io          argo                  submitting Workflows (argo engine)
  yes      list    workflows.argoproj.io          argo                  runs on the Argo engine
  yes      watch   workflows.argoproj.io          argo                  following Workflows live
  yes      patch   workflows.argoproj.io          argo                  cancel: Argo's Stop and Terminate
  yes      update  workflows.argoproj.io          argo                  retrying a Workflow
  yes      delete  pods                           argo                  retrying a Workflow (its failed pods)
"#;

fn around_all_allowed(before: &str, after: &str) -> String {
    format!("{before}{ALL_ALLOWED}{after}")
}

const ADMIN: [&str; 2] = [
    r#"tlc doctor: engine direct, lifecycle annotation collibra.com/tenant.lifecycle

eu-west (context eu-west): ready to trigger
  ok    cluster         answers: Kubernetes v1.33.0-tlc.embedded
  ok    lifecycle Jobs  16 Jobs carry collibra.com/tenant.lifecycle in every namespace, 14 runnable
                        `tlc jobs` shows what is wrong with the others
  ok    tenants         6 found in ConfigMaps labelled tlc.dev/tenant=true in namespace tenants
  note  Argo template   argo/tenant-lifecycle is not installed (only the argo engine needs it)
  ok    permissions     22 of 22 allowed

"#,
    r#"
ready to trigger in eu-west
"#,
];

const WRONG_KEY: [&str; 2] = [
    r#"tlc doctor: engine direct, lifecycle annotation tlc.dev/lifecycle

eu-west (context eu-west): NOT ready to trigger
  ok    cluster         answers: Kubernetes v1.33.0-tlc.embedded
  FAIL  lifecycle Jobs  no Job carries tlc.dev/lifecycle in every namespace (17 Jobs looked at, 16 of them suspended)
                        suspended Jobs carry collibra.com/tenant.lifecycle (15 Jobs): use --annotation collibra.com/tenant.lifecycle or set lifecycle.annotation in the configuration
  ok    tenants         6 found in ConfigMaps labelled tlc.dev/tenant=true in namespace tenants
  note  Argo template   argo/tenant-lifecycle is not installed (only the argo engine needs it)
  ok    permissions     22 of 22 allowed

"#,
    r#"
not ready to trigger in eu-west: fix what says FAIL above
"#,
];

const DOWN: [&str; 2] = [
    r#"tlc doctor: engine direct, lifecycle annotation collibra.com/tenant.lifecycle

eu-west (context eu-west): ready to trigger
  ok    cluster         answers: Kubernetes v1.33.0-tlc.embedded
  ok    lifecycle Jobs  16 Jobs carry collibra.com/tenant.lifecycle in every namespace, 14 runnable
                        `tlc jobs` shows what is wrong with the others
  ok    tenants         6 found in ConfigMaps labelled tlc.dev/tenant=true in namespace tenants
  note  Argo template   argo/tenant-lifecycle is not installed (only the argo engine needs it)
  ok    permissions     22 of 22 allowed

"#,
    r#"
ap-south (context ap-south): NOT ready to trigger
  FAIL  cluster  cannot reach https://127.0.0.1:@@PORT@@/: Connection refused (os error 111)
                 nothing else can be checked until the region answers

not ready to trigger in ap-south: fix what says FAIL above
"#,
];

const VIEWER: &str = r#"tlc doctor: engine direct, lifecycle annotation collibra.com/tenant.lifecycle

eu-west (context eu-west-viewer): NOT ready to trigger
  ok    cluster         answers: Kubernetes v1.33.0-tlc.embedded
  ok    lifecycle Jobs  16 Jobs carry collibra.com/tenant.lifecycle in every namespace, 14 runnable
                        `tlc jobs` shows what is wrong with the others
  ok    tenants         6 found in ConfigMaps labelled tlc.dev/tenant=true in namespace tenants
  note  Argo template   argo/tenant-lifecycle is not installed (only the argo engine needs it)
  FAIL  permissions     12 of 22 allowed
                        triggering needs: create pods, create configmaps, create events

  ALLOWED  VERB    RESOURCE                       NAMESPACE    TRIGGER  NEEDED FOR
  yes      list    jobs.batch                     (all)        needed   discovering lifecycle Jobs
  yes      watch   jobs.batch                     (all)                 the console's Jobs view, live
  yes      list    configmaps                     tenants      needed   reading tenants
  yes      watch   configmaps                     tenants               the console's tenants view, live
  DENIED   create  pods                           (all)        needed   starting branch pods (direct engine)
  DENIED   create  configmaps                     (all)        needed   each branch's mounted files (direct engine)
  yes      list    pods                           (all)                 runs and their branches
  yes      watch   pods                           (all)                 following branches live
  yes      get     pods/log                       (all)                 branch logs
  DENIED   patch   pods                           (all)                 cancelling a batch (stops its pods, keeps them)
  DENIED   create  events                         (all)        needed   the audit trail (Events)
  DENIED   create  configmaps                     tlc-records           batch records (else only the local history)
  DENIED   update  configmaps                     tlc-records           batch records: cancels, retries, outcomes
  yes      list    configmaps                     tlc-records           runs whose pods are gone, tlc history
  yes      watch   configmaps                     tlc-records           the console's runs from records, live
  yes      get     workflowtemplates.argoproj.io  argo                  checking the Argo template
  DENIED   create  workflows.argoproj.io          argo                  submitting Workflows (argo engine)
  yes      list    workflows.argoproj.io          argo                  runs on the Argo engine
  yes      watch   workflows.argoproj.io          argo                  following Workflows live
  DENIED   patch   workflows.argoproj.io          argo                  cancel: Argo's Stop and Terminate
  DENIED   update  workflows.argoproj.io          argo                  retrying a Workflow
  DENIED   delete  pods                           argo                  retrying a Workflow (its failed pods)

not ready to trigger in eu-west: fix what says FAIL above
"#;

const TEAM: &str = r#"tlc doctor: engine direct, lifecycle annotation collibra.com/tenant.lifecycle

eu-west (context eu-west-team): NOT ready to trigger
  ok    cluster         answers: Kubernetes v1.33.0-tlc.embedded
  FAIL  lifecycle Jobs  eu-west: forbidden: cannot list jobs (jobs.batch is forbidden: User "team" cannot list resource "jobs" in API group "batch" at the cluster scope)
  FAIL  tenants         eu-west: forbidden: cannot list configmaps in namespace tenants (configmaps is forbidden: User "team" cannot list resource "configmaps" in API group "" in the namespace "tenants")
  note  Argo template   argo/tenant-lifecycle is not installed (only the argo engine needs it)
  FAIL  permissions     0 of 22 allowed
                        triggering needs: list jobs.batch, list configmaps in tenants, create pods, create configmaps, create events

  ALLOWED  VERB    RESOURCE                       NAMESPACE    TRIGGER  NEEDED FOR
  DENIED   list    jobs.batch                     (all)        needed   discovering lifecycle Jobs
  DENIED   watch   jobs.batch                     (all)                 the console's Jobs view, live
  DENIED   list    configmaps                     tenants      needed   reading tenants
  DENIED   watch   configmaps                     tenants               the console's tenants view, live
  DENIED   create  pods                           (all)        needed   starting branch pods (direct engine)
  DENIED   create  configmaps                     (all)        needed   each branch's mounted files (direct engine)
  DENIED   list    pods                           (all)                 runs and their branches
  DENIED   watch   pods                           (all)                 following branches live
  DENIED   get     pods/log                       (all)                 branch logs
  DENIED   patch   pods                           (all)                 cancelling a batch (stops its pods, keeps them)
  DENIED   create  events                         (all)        needed   the audit trail (Events)
  DENIED   create  configmaps                     tlc-records           batch records (else only the local history)
  DENIED   update  configmaps                     tlc-records           batch records: cancels, retries, outcomes
  DENIED   list    configmaps                     tlc-records           runs whose pods are gone, tlc history
  DENIED   watch   configmaps                     tlc-records           the console's runs from records, live
  DENIED   get     workflowtemplates.argoproj.io  argo                  checking the Argo template
  DENIED   create  workflows.argoproj.io          argo                  submitting Workflows (argo engine)
  DENIED   list    workflows.argoproj.io          argo                  runs on the Argo engine
  DENIED   watch   workflows.argoproj.io          argo                  following Workflows live
  DENIED   patch   workflows.argoproj.io          argo                  cancel: Argo's Stop and Terminate
  DENIED   update  workflows.argoproj.io          argo                  retrying a Workflow
  DENIED   delete  pods                           argo                  retrying a Workflow (its failed pods)

not ready to trigger in eu-west: fix what says FAIL above
"#;

const TEAM_BILLING: &str = r#"tlc doctor: engine direct, lifecycle annotation collibra.com/tenant.lifecycle

eu-west (context eu-west-team): NOT ready to trigger
  ok    cluster         answers: Kubernetes v1.33.0-tlc.embedded
  ok    lifecycle Jobs  2 Jobs carry collibra.com/tenant.lifecycle in namespace billing, 1 runnable
                        `tlc jobs` shows what is wrong with the others
  FAIL  tenants         eu-west: forbidden: cannot list configmaps in namespace tenants (configmaps is forbidden: User "team" cannot list resource "configmaps" in API group "" in the namespace "tenants")
  note  Argo template   argo/tenant-lifecycle is not installed (only the argo engine needs it)
  FAIL  permissions     7 of 22 allowed
                        triggering needs: list configmaps in tenants

  ALLOWED  VERB    RESOURCE                       NAMESPACE    TRIGGER  NEEDED FOR
  yes      list    jobs.batch                     billing      needed   discovering lifecycle Jobs
  yes      watch   jobs.batch                     billing               the console's Jobs view, live
  DENIED   list    configmaps                     tenants      needed   reading tenants
  DENIED   watch   configmaps                     tenants               the console's tenants view, live
  yes      create  pods                           billing      needed   starting branch pods (direct engine)
  yes      create  configmaps                     billing      needed   each branch's mounted files (direct engine)
  DENIED   list    pods                           (all)                 runs and their branches
  DENIED   watch   pods                           (all)                 following branches live
  yes      get     pods/log                       billing               branch logs
  yes      patch   pods                           billing               cancelling a batch (stops its pods, keeps them)
  yes      create  events                         billing      needed   the audit trail (Events)
  DENIED   create  configmaps                     tlc-records           batch records (else only the local history)
  DENIED   update  configmaps                     tlc-records           batch records: cancels, retries, outcomes
  DENIED   list    configmaps                     tlc-records           runs whose pods are gone, tlc history
  DENIED   watch   configmaps                     tlc-records           the console's runs from records, live
  DENIED   get     workflowtemplates.argoproj.io  argo                  checking the Argo template
  DENIED   create  workflows.argoproj.io          argo                  submitting Workflows (argo engine)
  DENIED   list    workflows.argoproj.io          argo                  runs on the Argo engine
  DENIED   watch   workflows.argoproj.io          argo                  following Workflows live
  DENIED   patch   workflows.argoproj.io          argo                  cancel: Argo's Stop and Terminate
  DENIED   update  workflows.argoproj.io          argo                  retrying a Workflow
  DENIED   delete  pods                           argo                  retrying a Workflow (its failed pods)

not ready to trigger in eu-west: fix what says FAIL above
"#;
