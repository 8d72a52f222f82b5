//! The headless commands as scripts use them: the real `tlc` binary against embedded clusters
//! seeded with the demo estate — outputs, exit codes, confirmations, read-only, RBAC messages.

use std::path::PathBuf;
use std::process::Output;

use crate::common::{DEADLINE, cluster_with};
use embedded_cluster::auth::User;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use tlc::demo;

struct Fixture {
    _clusters: Vec<EmbeddedCluster>,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

async fn fixture(time_scale: f64) -> Fixture {
    fixture_with(time_scale, None).await
}

/// Both regions, their Events expiring after `event_ttl` when given (as a real API server's).
async fn fixture_with(time_scale: f64, event_ttl: Option<std::time::Duration>) -> Fixture {
    let mut clusters = Vec::new();
    let mut entries = Vec::new();
    for region in ["eu-west", "us-east"] {
        let mut config = ClusterConfig::new(region).with_time_scale(time_scale);
        config.event_ttl = event_ttl;
        let c = cluster_with(config).await;
        demo::examples::seed(c.store(), region).expect("estate");
        c.add_user(User::read_only("viewer", &format!("{region}-viewer-token")));
        entries.extend(c.kubeconfig_entries());
        clusters.push(c);
    }
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    embedded_cluster::kubeconfig::write(&kubeconfig, &entries, "eu-west", "# test").expect("kubeconfig");
    Fixture { _clusters: clusters, kubeconfig, dir }
}

impl Fixture {
    async fn tlc(&self, args: &[&str]) -> Output {
        self.tlc_as(&["--context", "eu-west", "--context", "us-east"], args).await
    }

    /// `tlc` on eu-west started in the background (its stdout and stderr piped), for a test to act
    /// while it runs.
    fn spawn_in_eu_west(&self, args: &[&str]) -> tokio::process::Child {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"))
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--annotation", "collibra.com/tenant.lifecycle", "--context", "eu-west"])
            .args(args)
            .env_remove("TLC_CONFIG")
            .env("TLC_DATA_DIR", self.dir.path().join("data"))
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("tlc starts")
    }

    /// `tlc` as a teammate on another machine runs it: the same clusters, no local history.
    async fn tlc_elsewhere(&self, args: &[&str]) -> Output {
        self.tlc_with_data(&["--context", "eu-west", "--context", "us-east"], args, "elsewhere").await
    }

    async fn tlc_as(&self, contexts: &[&str], args: &[&str]) -> Output {
        self.tlc_with_data(contexts, args, "data").await
    }

    async fn tlc_with_data(&self, contexts: &[&str], args: &[&str], data: &str) -> Output {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"));
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--annotation", "collibra.com/tenant.lifecycle"])
            .args(contexts)
            .args(args);
        cmd.env_remove("TLC_CONFIG")
            .env_remove("TLC_LOG")
            .env_remove("TLC_LOG_LEVEL")
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        cmd.env("TLC_DATA_DIR", self.dir.path().join(data));
        tokio::time::timeout(DEADLINE, cmd.output()).await.expect("tlc finishes").expect("tlc runs")
    }
}

impl Fixture {
    /// The audit history the commands wrote, one JSON record per line.
    fn history(&self) -> Vec<serde_json::Value> {
        let path = self.dir.path().join("data").join("history.jsonl");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
    }
}

/// `tlc bridge` arguments for the lineage-graph Job.
fn bridge_args<'a>(tenant: &'a str, batch: &'a str) -> [&'a str; 11] {
    [
        "bridge",
        "--job",
        "lineage/lineage-graph",
        "--tenant",
        tenant,
        "--operation",
        "lifecycle.upsert",
        "--batch",
        batch,
        "--region",
        "eu-west",
    ]
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn tenants_jobs_and_discover() {
    let f = fixture(0.0).await;
    let out = f.tlc(&["tenants"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 13, "header + 12 tenants:\n{text}");
    assert!(text.lines().any(|l| l.starts_with("globex-prod")
        && l.contains("740faf5f-42fd-4e28-9f5a-65f900eda1c0")
        && l.contains("eu-west")));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&f.tlc(&["tenants", "-o", "json"]).await)).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(12));

    let jobs = stdout(&f.tlc(&["jobs", "--region", "eu-west", "--operation", "team.operation"]).await);
    let names: Vec<&str> = jobs.lines().skip(1).filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(
        names,
        vec![
            "billing/billing-usage-export",
            "identity/identity-rotate-keys",
            "notifications/notifications-resend-digests",
            "search/search-reindex"
        ],
        "{jobs}"
    );
    assert!(jobs.contains("problem: bad annotation"), "{jobs}");

    let seed = f.tlc(&["discover", "--operation", "lifecycle.migrate-in", "--region", "us-east"]).await;
    let list: Vec<serde_json::Value> = serde_json::from_str(&stdout(&seed)).expect("seed json");
    assert_eq!(list.len(), 8);
    assert!(
        list.iter().all(|j| j
            .as_object()
            .is_some_and(|o| o.len() == 2 && o.contains_key("name") && o.contains_key("namespace")))
    );
    let wide = stdout(&f.tlc(&["discover", "--operation", "lifecycle.upsert", "-o", "wide"]).await);
    assert!(
        wide.lines().any(|l| l.starts_with("notifications")
            && l.contains("notifications-webhooks")
            && l.contains(" no ")
            && l.contains("not suspended")),
        "{wide}"
    );
    let bad = f.tlc(&["discover", "--operation", "Lifecycle Upsert"]).await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).starts_with("tlc: --operation: \"Lifecycle Upsert\" is not an operation name"),
        "{}",
        stderr(&bad)
    );
}

#[tokio::test]
async fn run_plans_confirms_fans_out_and_summarises() {
    let f = fixture(0.0).await;
    let dry = f.tlc(&["run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert", "--dry-run"]).await;
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let plan = stdout(&dry);
    assert!(plan.starts_with("Plan: lifecycle.upsert for 1 tenant, 8 branches"), "{plan}");
    assert!(
        plan.contains("skip  notifications/notifications-webhooks")
            && plan.contains("LIFECYCLE_TENANT_ENV_ID=740faf5f-42fd-4e28-9f5a-65f900eda1c0"),
        "{plan}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(
        &f.tlc(&["run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert", "--dry-run", "-o", "json"]).await,
    ))
    .expect("plan json");
    assert_eq!(json["batches"][0]["run"].as_array().map(Vec::len), Some(8));
    assert_eq!(json["batches"][0]["env"]["LIFECYCLE_OPERATION_NAME"], "lifecycle.upsert");

    // Without a terminal and without --yes nothing runs.
    let refused = f.tlc(&["run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert"]).await;
    assert_eq!(refused.status.code(), Some(4));
    assert_eq!(
        stderr(&refused).trim(),
        "tlc: refusing to run lifecycle.upsert without confirmation: there is no terminal to ask on; pass --yes"
    );
    let read_only =
        f.tlc(&["--read-only", "run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert", "--yes"]).await;
    assert_eq!(read_only.status.code(), Some(4));
    assert_eq!(stderr(&read_only).trim(), "tlc: read-only mode: refusing to run lifecycle.upsert");
    let runs = stdout(&f.tlc(&["runs"]).await);
    assert_eq!(runs.trim(), "No batches in eu-west, us-east.", "nothing was created");

    let out = f.tlc(&["run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert", "--yes"]).await;
    assert_eq!(out.status.code(), Some(3), "a failed branch is exit code 3: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("lineage/lineage-graph") && text.contains("Error: lineage graph for tenant 740faf5f"),
        "{text}"
    );
    assert!(text.contains("── failed with exit code 2"), "{text}");
    let summary = text.lines().skip_while(|l| !l.starts_with("batch ")).collect::<Vec<_>>();
    assert!(
        summary[0].ends_with("8 branches: 7 succeeded, 1 failed, 0 cancelled, 0 running, 0 pending"),
        "{summary:?}"
    );
    assert!(
        summary.iter().any(|l| l.starts_with("lineage/lineage-graph") && l.contains(" failed ") && l.contains(" 2 ")),
        "{summary:?}"
    );
    // Every line of a branch, in order: identity's terraform output ends with its last line.
    let identity: Vec<&str> =
        text.lines().filter(|l| l.starts_with("identity/identity-realm") && l.contains(" │ ")).collect();
    assert!(identity.iter().any(|l| l.ends_with("── running")), "{identity:?}");
    assert!(
        identity[identity.len() - 2].ends_with("Apply complete! Resources: 2 added, 1 changed, 0 destroyed."),
        "{identity:?}"
    );
    assert!(
        identity.last().is_some_and(|l| l.contains("── succeeded")),
        "the final status comes after the last log line: {identity:?}"
    );

    let ok = f.tlc(&["run", "--tenant", "stark-prod", "--operation", "lifecycle.upsert", "--yes", "-o", "json"]).await;
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let batches: serde_json::Value = serde_json::from_str(&stdout(&ok)).expect("json");
    assert_eq!(batches[0]["region"], "us-east");
    assert_eq!(batches[0]["branches"].as_array().map(Vec::len), Some(8));

    let runs = stdout(&f.tlc(&["runs"]).await);
    assert_eq!(runs.lines().count(), 3, "{runs}");
    assert!(
        runs.lines().any(|l| l.contains("globex-prod") && l.contains("7/8 ok, 1 failed") && l.ends_with("failed")),
        "{runs}"
    );
}

#[tokio::test]
async fn logs_retry_and_the_bridge_exit_code() {
    let f = fixture(0.0).await;
    let out =
        f.tlc(&["run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert", "--yes", "-o", "json"]).await;
    let batches: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let batch = batches[0]["id"].as_str().expect("id").to_string();
    let logs = f.tlc(&["logs", &batch, "--branch", "lineage/lineage-graph"]).await;
    assert_eq!(logs.status.code(), Some(3), "{}", stderr(&logs));
    let text = stdout(&logs);
    assert!(text.lines().all(|l| l.starts_with("lineage/lineage-graph │ ")), "{text}");
    assert!(text.contains("exceeds the 2,000,000-node quota"), "{text}");
    let json = f.tlc(&["logs", &batch, "--branch", "lineage/lineage-graph", "-o", "json"]).await;
    let records: Vec<serde_json::Value> =
        stdout(&json).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(records.len(), text.lines().count(), "one record per line");
    assert!(
        records
            .iter()
            .all(|r| r["branch"] == "lineage/lineage-graph" && r["batch"] == batch.as_str() && r["time"].is_string())
    );
    let missing = f.tlc(&["logs", "01000000-0000-7000-8000-000000000000"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no batch 01000000-0000-7000-8000-000000000000"), "{}", stderr(&missing));

    let retry = f.tlc(&["retry", &batch, "--yes"]).await;
    assert_eq!(retry.status.code(), Some(3), "{}", stderr(&retry));
    assert!(stdout(&retry).contains("(attempt 2)"), "{}", stdout(&retry));
    // The headless commands are audited like the console: the trigger and the retry of this batch.
    let actions: Vec<(String, String)> = f
        .history()
        .into_iter()
        .filter(|r| r["batch_id"] == batch.as_str())
        .map(|r| (r["action"].as_str().unwrap_or_default().into(), r["outcome"].as_str().unwrap_or_default().into()))
        .collect();
    assert_eq!(actions, vec![("trigger".into(), "ok".into()), ("retry".into(), "ok".into())]);

    // The bridge exits with the container's exit code.
    let bridge = f.tlc(&bridge_args("globex-prod", "01000000-0000-7000-8000-0000000000aa")).await;
    assert_eq!(bridge.status.code(), Some(2), "{}", stderr(&bridge));
    assert!(stdout(&bridge).contains("Error: lineage graph"), "{}", stdout(&bridge));
    let fine = f.tlc(&bridge_args("acme-prod", "01000000-0000-7000-8000-0000000000bb")).await;
    assert_eq!(fine.status.code(), Some(0), "{}", stderr(&fine));
    // Re-issuing the same bridge attaches to the same pod.
    let again = f.tlc(&bridge_args("acme-prod", "01000000-0000-7000-8000-0000000000bb")).await;
    assert_eq!(again.status.code(), Some(0));
    // A batch the Argo bridge started is re-attached like any other, by its labels.
    let runs = stdout(&f.tlc(&["runs", "-o", "json"]).await);
    let batches: Vec<serde_json::Value> = serde_json::from_str(&runs).expect("json");
    let argo = batches
        .iter()
        .find(|b| b["id"] == "01000000-0000-7000-8000-0000000000bb")
        .expect("the bridge's batch is listed");
    assert_eq!((argo["engine"].as_str(), argo["tenant_name"].as_str()), (Some("argo"), Some("acme-prod")));
    assert!(stderr(&again).contains("attached to pod"), "{}", stderr(&again));
    let wrong = f
        .tlc(&[
            "bridge",
            "--job",
            "billing/billing-usage-export",
            "--tenant",
            "acme-prod",
            "--operation",
            "lifecycle.upsert",
            "--batch",
            "01000000-0000-7000-8000-0000000000cc",
            "--region",
            "eu-west",
        ])
        .await;
    assert_eq!(wrong.status.code(), Some(125));
    assert!(
        stderr(&wrong).starts_with("tlc: job billing/billing-usage-export cannot run: bad annotation"),
        "{}",
        stderr(&wrong)
    );
    let not_a_batch = f.tlc(&bridge_args("acme-prod", "b")).await;
    assert_eq!(not_a_batch.status.code(), Some(125));
    assert_eq!(stderr(&not_a_batch).trim(), "tlc: --batch \"b\" is not a batch id (a UUID)");
}

#[tokio::test]
async fn bad_input_and_rbac_say_what_was_wrong() {
    let f = fixture(0.0).await;
    let cases: &[(&[&str], u8, &str)] = &[
        (
            &["run", "--tenant", "nobody", "--operation", "lifecycle.upsert", "--yes"],
            1,
            "tlc: no tenant named or with id \"nobody\" in eu-west, us-east",
        ),
        (
            &["run", "--tenant", "acme-prod", "--operation", "lifecycle.backup", "--yes"],
            1,
            "tlc: nothing was run: no runnable lifecycle job handles lifecycle.backup in region eu-west (for tenant acme-prod)",
        ),
        (
            &["run", "--tenant", "acme-prod", "--operation", "team.operation", "--job", "search-reindex", "--yes"],
            1,
            "tlc: --job must be NAMESPACE/NAME, got \"search-reindex\"",
        ),
        (
            &["run", "--tenant", "acme-prod", "--operation", "lifecycle.upsert", "--changeset", "/nonexistent.yaml"],
            1,
            "tlc: changeset /nonexistent.yaml: No such file or directory (os error 2)",
        ),
        (
            &["runs", "--region", "ap-south"],
            1,
            "tlc: region \"ap-south\" is not configured (configured: eu-west, us-east)",
        ),
    ];
    for (args, code, message) in cases {
        let out = f.tlc(args).await;
        assert_eq!(out.status.code(), Some(i32::from(*code)), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).trim(), *message, "{args:?}");
    }
    let dir = tempfile::tempdir().expect("dir");
    let bad = dir.path().join("changeset.yaml");
    std::fs::write(&bad, "settings: [unclosed\n").expect("write");
    let out = f
        .tlc(&[
            "run",
            "--tenant",
            "acme-prod",
            "--operation",
            "lifecycle.upsert",
            "--changeset",
            bad.to_str().unwrap_or_default(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with(&format!("tlc: changeset {}: not valid YAML", bad.display())), "{}", stderr(&out));

    // A read-only user's run is refused by the cluster, and the message says what and where.
    let out = f
        .tlc_as(
            &["--context", "eu-west=eu-west-viewer"],
            &["run", "--tenant", "acme-prod", "--operation", "lifecycle.upsert", "--yes"],
        )
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("── failed: eu-west: forbidden: cannot create pods in namespace billing (pods is forbidden: User \"viewer\" cannot create resource \"pods\" in API group \"\" in the namespace \"billing\")"), "{text}");
    let unreachable = f.tlc_as(&["--context", "nowhere"], &["tenants"]).await;
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        stderr(&unreachable)
            .starts_with("tlc: kube context \"nowhere\" (region nowhere) is not in the kubeconfig; it has: eu-west"),
        "{}",
        stderr(&unreachable)
    );
}

#[tokio::test]
async fn migrate_previews_both_halves_then_runs_migrate_in_only_after_migrate_out_succeeded() {
    let f = fixture(0.0).await;
    let dry = f.tlc(&["migrate", "--tenant", "acme-prod", "--to", "us-east", "--dry-run"]).await;
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    let text = stdout(&dry);
    assert!(
        text.starts_with(
            "Migration to us-east: migrate-out first; then, only if every migrate-out branch succeeds, migrate-in in us-east."
        ),
        "{text}"
    );
    assert!(
        text.contains("1. Plan: lifecycle.migrate-out for 1 tenant") && text.contains(") in eu-west  batch "),
        "{text}"
    );
    assert!(
        text.contains("2. Plan: lifecycle.migrate-in for 1 tenant")
            && text.contains(") in us-east  batch (a new id when it starts)"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(
        &f.tlc(&["migrate", "--tenant", "acme-prod", "--to", "us-east", "--dry-run", "-o", "json"]).await,
    ))
    .expect("plan json");
    assert_eq!(json["target"], "us-east");
    assert_eq!(json["migrate_out"]["batches"][0]["region"], "eu-west");
    assert_eq!(json["migrate_in"]["batches"][0]["region"], "us-east");

    let same = f.tlc(&["migrate", "--tenant", "stark-prod", "--to", "us-east", "--yes"]).await;
    assert_eq!(same.status.code(), Some(1));
    assert_eq!(stderr(&same).trim(), "tlc: tenant stark-prod is already in us-east: nothing to migrate");
    let nowhere = f.tlc(&["migrate", "--tenant", "acme-prod", "--to", "ap-south", "--yes"]).await;
    assert_eq!(stderr(&nowhere).trim(), "tlc: region \"ap-south\" is not configured (configured: eu-west, us-east)");
    let refused = f.tlc(&["migrate", "--tenant", "acme-prod", "--to", "us-east"]).await;
    assert_eq!(refused.status.code(), Some(4));
    assert_eq!(
        stderr(&refused).trim(),
        "tlc: refusing to migrate to us-east without confirmation: there is no terminal to ask on; pass --yes"
    );

    let moved = f.tlc(&["migrate", "--tenant", "acme-prod", "--to", "us-east", "--yes", "-o", "json"]).await;
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    let batches: serde_json::Value = serde_json::from_str(&stdout(&moved)).expect("json");
    let halves: Vec<(String, String, String)> = batches
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or_default().to_string();
            let phases: std::collections::BTreeSet<String> = b["branches"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|br| br["attempts"].as_array().into_iter().flatten().map(|a| a["phase"].to_string()))
                .collect();
            (s("operation"), s("region"), phases.into_iter().collect::<Vec<_>>().join(","))
        })
        .collect();
    assert_eq!(
        halves,
        vec![
            ("lifecycle.migrate-out".into(), "eu-west".into(), "\"succeeded\"".into()),
            ("lifecycle.migrate-in".into(), "us-east".into(), "\"succeeded\"".into())
        ]
    );
    // Both halves are one migration for any console: the migrate-in pods name the migrate-out batch.
    let out_id = batches[0]["id"].as_str().expect("id");
    assert_eq!(batches[1]["migration"]["id"], out_id);
    let history: Vec<String> = f
        .history()
        .iter()
        .map(|r| format!("{} {}", r["operation"].as_str().unwrap_or(""), r["region"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(history, vec!["lifecycle.migrate-out eu-west", "lifecycle.migrate-in us-east"], "both halves audited");
}

#[tokio::test]
async fn a_diagnostics_log_records_kube_requests_only_when_asked() {
    let f = fixture(0.0).await;
    let log = f.dir.path().join("logs").join("tlc.log");
    let log_arg = log.display().to_string();
    let out = f.tlc(&["--log-file", &log_arg, "tenants"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "nothing on the terminal");
    let text = std::fs::read_to_string(&log).expect("the log file was written");
    assert!(text.contains("tlc started"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("requesting") && l.contains("/api/v1/namespaces/tenants/configmaps")),
        "kube-rs's requests are in it: {text}"
    );
    let bad = f.tlc(&["--log-file", &log_arg, "--log-level", "tlc=loud", "tenants"]).await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).starts_with("tlc: --log-level \"tlc=loud\": "), "{}", stderr(&bad));
    let before = std::fs::read_to_string(&log).expect("log");
    let quiet = f.tlc(&["tenants"]).await;
    assert_eq!(quiet.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&log).expect("log"), before, "off by default");
}

#[tokio::test]
async fn the_argo_steps_settle_the_batch_check_the_tenant_and_attempt_again_after_a_failure() {
    let f = fixture(0.0).await;
    let outputs = f.dir.path().join("outputs");
    let dir = outputs.display().to_string();
    let found = f
        .tlc(&[
            "discover",
            "--operation",
            "lifecycle.upsert",
            "--region",
            "eu-west",
            "--tenant",
            "acme-prod",
            "--batch",
            "",
            "--jobs",
            "",
            "--outputs",
            &dir,
        ])
        .await;
    assert_eq!(found.status.code(), Some(0), "{}", stderr(&found));
    let jobs = std::fs::read_to_string(outputs.join("jobs.json")).expect("jobs.json");
    assert_eq!(stdout(&found).trim(), jobs, "the same list on stdout and in the output file");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&jobs).expect("json").as_array().map(Vec::len), Some(8));
    let batch = std::fs::read_to_string(outputs.join("batch")).expect("batch");
    assert_eq!(uuid::Uuid::parse_str(&batch).map(|u| u.get_version_num()).ok(), Some(7), "a new UUIDv7: {batch}");

    let picked = f
        .tlc(&[
            "discover",
            "--operation",
            "lifecycle.upsert",
            "--region",
            "eu-west",
            "--jobs",
            "lineage/lineage-graph, search/search-index",
        ])
        .await;
    assert_eq!(
        stdout(&picked).trim(),
        r#"[{"name":"lineage-graph","namespace":"lineage"},{"name":"search-index","namespace":"search"}]"#
    );
    let bad_pick = f
        .tlc(&[
            "discover",
            "--operation",
            "lifecycle.upsert",
            "--region",
            "eu-west",
            "--jobs",
            "billing/billing-usage-export",
        ])
        .await;
    assert_eq!(bad_pick.status.code(), Some(1));
    assert!(
        stderr(&bad_pick).starts_with("tlc: job billing/billing-usage-export cannot run: bad annotation"),
        "{}",
        stderr(&bad_pick)
    );
    let nobody =
        f.tlc(&["discover", "--operation", "lifecycle.upsert", "--region", "eu-west", "--tenant", "nobody"]).await;
    assert_eq!(nobody.status.code(), Some(1));
    assert_eq!(stderr(&nobody).trim(), "tlc: no tenant named or with id \"nobody\" in eu-west");
    let nothing = f.tlc(&["discover", "--operation", "lifecycle.restore", "--region", "eu-west"]).await;
    assert_eq!((nothing.status.code(), stdout(&nothing).trim()), (Some(0), "[]"));
    assert_eq!(
        stderr(&nothing).trim(),
        "tlc discover: no runnable lifecycle Job handles lifecycle.restore in eu-west (searched every namespace for the annotation collibra.com/tenant.lifecycle; 16 lifecycle Job(s) found); `tlc doctor` shows which annotation keys the suspended Jobs carry"
    );
    let no_jobs = f.tlc(&["jobs", "--annotation", "example.com/nothing"]).await;
    assert_eq!(no_jobs.status.code(), Some(0));
    assert_eq!(
        stdout(&no_jobs),
        "No lifecycle Job carries the annotation example.com/nothing in every namespace of eu-west, us-east; `tlc doctor` shows which annotation keys the suspended Jobs carry.\n"
    );
    let no_tenants = f.tlc(&["tenants", "--tenant-namespace", "nowhere", "-o", "json"]).await;
    assert_eq!((no_tenants.status.code(), stdout(&no_tenants).trim()), (Some(0), "[]"));
    assert_eq!(
        stderr(&no_tenants),
        "tlc: No tenants in ConfigMaps labelled tlc.dev/tenant=true in namespace nowhere of eu-west, us-east; `tlc doctor` checks the tenant source.\n"
    );

    // A bridge run again for a failed branch (a retried Workflow) runs the next attempt.
    let batch = "01000000-0000-7000-8000-0000000000dd";
    let first = f.tlc(&bridge_args("globex-prod", batch)).await;
    assert_eq!(first.status.code(), Some(2));
    assert!(stderr(&first).contains("(attempt 1)"), "{}", stderr(&first));
    let second = f.tlc(&bridge_args("globex-prod", batch)).await;
    assert_eq!(second.status.code(), Some(2));
    assert!(stderr(&second).contains("tlc bridge: created pod lineage/lineage-graph-"), "{}", stderr(&second));
    assert!(stderr(&second).contains("(attempt 2)"), "{}", stderr(&second));
}

#[tokio::test]
async fn a_terminated_bridge_stops_its_branch_pod() {
    use tokio::io::AsyncBufReadExt;
    let f = fixture(1.0).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tlc"))
        .arg("--kubeconfig")
        .arg(&f.kubeconfig)
        .args(["--annotation", "collibra.com/tenant.lifecycle", "--context", "eu-west"])
        .args([
            "bridge",
            "--job",
            "workflows/workflows-drain",
            "--tenant",
            "acme-prod",
            "--operation",
            "lifecycle.migrate-out",
            "--batch",
            "01000000-0000-7000-8000-0000000000ee",
        ])
        .env_remove("TLC_CONFIG")
        .env("TLC_DATA_DIR", f.dir.path().join("data"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("tlc runs");
    let mut stderr_lines = tokio::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    let created = tokio::time::timeout(DEADLINE, stderr_lines.next_line())
        .await
        .expect("in time")
        .expect("readable")
        .expect("a line");
    assert!(created.starts_with("tlc bridge: created pod workflows/workflows-drain-"), "{created}");
    let pod = created.split_whitespace().nth(4).and_then(|p| p.split('/').nth(1)).expect("pod name").to_string();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(f._clusters[0].client().await.expect("client"), "workflows");
    crate::common::eventually("the drain to be running", || {
        let (pods, pod) = (pods.clone(), pod.clone());
        async move {
            let p = pods.get(&pod).await.ok()?;
            (p.status.and_then(|s| s.phase).as_deref() == Some("Running")).then_some(())
        }
    })
    .await;
    let pid = child.id().expect("running").to_string();
    let killed = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
    assert!(killed.success());
    let mut rest = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(DEADLINE, stderr_lines.next_line()).await.expect("in time") {
        rest.push(line);
    }
    let status = tokio::time::timeout(DEADLINE, child.wait()).await.expect("exits in time").expect("exits");
    assert_eq!(status.code(), Some(143), "{rest:?}");
    assert!(rest.iter().any(|l| l.starts_with("tlc bridge: stopped (SIGTERM): branch pod workflows/")), "{rest:?}");
    // Stopped, not deleted: the pod ends by its lowered deadline and stays, marked.
    let kept = crate::common::eventually("the branch pod to be stopped", || {
        let (pods, pod) = (pods.clone(), pod.clone());
        async move {
            let p = pods.get_opt(&pod).await.ok()??;
            (p.status.as_ref()?.reason.as_deref() == Some("DeadlineExceeded")).then_some(p)
        }
    })
    .await;
    let by = kept.metadata.annotations.as_ref().and_then(|a| a.get("tlc.dev/cancelled-by")).cloned();
    assert_eq!(by.as_deref(), Some("its Argo Workflow (stopped or terminated)"));
}

#[tokio::test]
async fn a_cancelled_batch_keeps_its_pods_and_logs_and_reads_as_cancelled_in_a_later_command() {
    // A fifth of real time: workflows-drain runs for about six seconds, the others far less.
    let f = fixture(0.2).await;
    let run = f.spawn_in_eu_west(&["run", "--tenant", "acme-prod", "--operation", "lifecycle.migrate-out", "--yes"]);
    /// The drain's first attempt in a batch of `tlc runs -o json`.
    fn drain_attempt(batch: &serde_json::Value) -> Option<&serde_json::Value> {
        let drain = batch["branches"].as_array()?.iter().find(|b| b["job"]["name"] == "workflows-drain")?;
        drain["attempts"].as_array()?.iter().find(|a| a["number"] == 1)
    }
    let drain_running = |runs: &serde_json::Value| -> Option<String> {
        let batch = runs.as_array()?.iter().find(|b| b["tenant_name"] == "acme-prod")?;
        (drain_attempt(batch)?["phase"] == "running").then(|| batch["id"].as_str().unwrap_or_default().to_string())
    };
    let batch = crate::common::eventually("the drain running", || async {
        let out = f.tlc(&["runs", "-o", "json"]).await;
        drain_running(&serde_json::from_slice(&out.stdout).ok()?)
    })
    .await;
    let cancel = f.tlc(&["cancel", &batch, "--yes"]).await;
    assert_eq!(cancel.status.code(), Some(0), "{}", stderr(&cancel));
    let said = stdout(&cancel);
    let (head, pods) = said.trim_end().split_once(": ").expect("what was stopped");
    let pods: Vec<&str> = pods.split(", ").collect();
    assert_eq!(
        head,
        format!("cancelled {} branch pods of batch {batch}, stopped and kept with their logs", pods.len())
    );
    assert!(pods.iter().any(|p| p.starts_with("workflows/workflows-drain-")), "{said}");
    let ran = tokio::time::timeout(DEADLINE, run.wait_with_output()).await.expect("tlc run ends").expect("output");
    assert_eq!(ran.status.code(), Some(3), "a cancelled branch: {}", stdout(&ran));

    // A later command, from the cluster alone: the batch is there, cancelled, and its log readable.
    let runs = f.tlc(&["runs", "-o", "json"]).await;
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("json");
    let b = runs.as_array().and_then(|bs| bs.iter().find(|b| b["id"] == batch.as_str())).expect("the batch");
    let drain = drain_attempt(b).expect("the drain's attempt");
    assert_eq!(drain["phase"], "cancelled", "{b:#}");
    assert_eq!(drain["reason"], format!("cancelled by {}", tlc::audit::actor("eu-west")), "{b:#}");
    assert!(drain["exit_code"].is_i64(), "its exit status is kept: {b:#}");
    let logs = f.tlc(&["logs", &batch, "--branch", "workflows/workflows-drain"]).await;
    assert!(!stdout(&logs).is_empty(), "the cancelled branch's log is still readable: {}", stderr(&logs));
    assert_eq!(logs.status.code(), Some(3), "a cancelled branch");
}

#[tokio::test]
async fn a_batch_outlives_its_pods_and_its_events_in_its_record_for_everyone() {
    // Events expire after four seconds here, as after an hour on a real API server.
    let f = fixture_with(0.0, Some(std::time::Duration::from_secs(4))).await;
    let ran = f.tlc(&["run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert", "--yes"]).await;
    assert!(matches!(ran.status.code(), Some(0 | 3)), "{}", stderr(&ran));
    let runs: serde_json::Value = serde_json::from_slice(&f.tlc(&["runs", "-o", "json"]).await.stdout).expect("json");
    let live =
        runs.as_array().and_then(|bs| bs.iter().find(|b| b["tenant_name"] == "globex-prod")).expect("batch").clone();
    let batch = live["id"].as_str().expect("id").to_string();
    assert!(live.get("from_record").is_none(), "seen from its pods first: {live:#}");

    // Its pods deleted by hand, its Events expired.
    let client = f._clusters[0].client().await.expect("client");
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::all(client.clone());
    let selector = format!("tlc.dev/batch-id={batch}");
    for p in pods.list(&kube::api::ListParams::default().labels(&selector)).await.expect("pods").items {
        let ns = p.metadata.namespace.clone().expect("namespaced");
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client.clone(), &ns);
        api.delete(&p.metadata.name.clone().expect("named"), &kube::api::DeleteParams::default().grace_period(0))
            .await
            .expect("deleted");
    }
    let events: kube::Api<k8s_openapi::api::core::v1::Event> = kube::Api::all(client.clone());
    let audit = events.list(&kube::api::ListParams::default().labels(&selector)).await.expect("events").items;
    assert_eq!(audit.len(), 1, "the trigger's audit Event, until it expires: {audit:#?}");
    crate::common::eventually("the pods and the audit Event gone", || {
        let (pods, events, selector) = (pods.clone(), events.clone(), selector.clone());
        async move {
            let lp = kube::api::ListParams::default().labels(&selector);
            let left = pods.list(&lp).await.ok()?.items.len() + events.list(&lp).await.ok()?.items.len();
            (left == 0).then_some(())
        }
    })
    .await;

    // A teammate's tlc (no local history) still sees the batch, ended as it ended, and who ran it.
    let runs = f.tlc_elsewhere(&["runs", "-o", "json"]).await;
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("json");
    let recorded =
        runs.as_array().and_then(|bs| bs.iter().find(|b| b["id"] == batch.as_str())).expect("from its record");
    assert_eq!(recorded["from_record"], true, "{recorded:#}");
    let phases = |b: &serde_json::Value| -> Vec<(String, String, Option<i64>)> {
        let mut v: Vec<_> = b["branches"]
            .as_array()
            .expect("branches")
            .iter()
            .map(|br| {
                let a = br["attempts"].as_array().and_then(|a| a.last()).expect("an attempt").clone();
                (
                    format!("{}/{}", br["job"]["namespace"].as_str().unwrap(), br["job"]["name"].as_str().unwrap()),
                    a["phase"].as_str().unwrap_or_default().to_string(),
                    a["exit_code"].as_i64(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(phases(recorded), phases(&live), "the record keeps every branch's phase and exit code");
    let table = stdout(&f.tlc_elsewhere(&["runs"]).await);
    let row = table.lines().find(|l| l.starts_with(&batch)).expect("a row");
    assert!(row.ends_with("(record: pods gone)"), "{row}");

    let history = f.tlc_elsewhere(&["history", "-o", "json", "--tenant", "globex-prod"]).await;
    let history: serde_json::Value = serde_json::from_slice(&history.stdout).expect("json");
    let actions: Vec<(String, String, String)> = history
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("action"), s("batch_id"), s("source"))
        })
        .collect();
    assert_eq!(actions, [("trigger".to_string(), batch.clone(), "record".to_string())]);
    let nothing = f.tlc_elsewhere(&["history", "--tenant", "globex-prod", "--operation", "lifecycle.restore"]).await;
    assert_eq!(
        stdout(&nothing),
        "No audited action in eu-west, us-east (batch records in namespace tlc-records, and this machine's history) matching tenant globex-prod, operation lifecycle.restore.\n"
    );
}

#[tokio::test]
async fn tlc_gc_removes_exactly_what_its_preview_listed_never_a_running_batch_and_keeps_records() {
    // A fifth of real time: workflows-drain runs for about six seconds.
    let f = fixture(0.2).await;
    let done = f.tlc(&["run", "--tenant", "globex-prod", "--operation", "lifecycle.upsert", "--yes"]).await;
    assert!(matches!(done.status.code(), Some(0 | 3)), "{}", stderr(&done));
    let running =
        f.spawn_in_eu_west(&["run", "--tenant", "acme-prod", "--operation", "lifecycle.migrate-out", "--yes"]);
    let client = f._clusters[0].client().await.expect("client");
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::all(client.clone());
    let branch_pods = || {
        let pods = pods.clone();
        async move {
            let list = pods.list(&kube::api::ListParams::default().labels("tlc.dev/batch-id")).await.expect("pods");
            list.items
                .into_iter()
                .map(|p| {
                    let labels = p.metadata.labels.clone().unwrap_or_default();
                    let phase = p.status.and_then(|s| s.phase).unwrap_or_default();
                    (
                        labels["tlc.dev/batch-id"].clone(),
                        format!("{}/{}", p.metadata.namespace.unwrap(), p.metadata.name.unwrap()),
                        phase,
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    crate::common::eventually("acme's migrate-out running", || async {
        let all = branch_pods().await;
        all.iter()
            .any(|(_, pod, phase)| pod.starts_with("workflows/workflows-drain-") && phase == "Running")
            .then_some(())
    })
    .await;

    // Without a rule, nothing: the error says what to set.
    let unset = f.tlc(&["gc", "--region", "eu-west"]).await;
    assert_eq!(unset.status.code(), Some(1));
    assert_eq!(
        stderr(&unset).trim(),
        "tlc: no retention is set: set [retention] older_than, keep_last or records_older_than in the configuration (tlc gc also takes --older-than, --keep, --records-older-than)"
    );
    let preview = f.tlc(&["gc", "--region", "eu-west", "--older-than", "0s", "--dry-run", "-o", "json"]).await;
    assert_eq!(preview.status.code(), Some(0), "{}", stderr(&preview));
    let plans: serde_json::Value = serde_json::from_slice(&preview.stdout).expect("json");
    let plan = &plans[0];
    assert_eq!(plan["running"], 1, "acme's migrate-out is not touched: {plan:#}");
    let listed: std::collections::BTreeSet<String> = plan["batches"]
        .as_array()
        .expect("batches")
        .iter()
        .flat_map(|b| b["pods"].as_array().expect("pods").iter().map(|p| p.as_str().expect("text").to_string()))
        .collect();
    let before = branch_pods().await;
    let globex: std::collections::BTreeSet<String> = before
        .iter()
        .filter(|(_, pod, phase)| phase != "Running" && !pod.is_empty())
        .map(|(_, p, _)| p.clone())
        .collect();
    assert!(!listed.is_empty());
    assert!(listed.is_subset(&globex), "only ended pods are listed");

    // Read-only refuses after the preview; --yes removes.
    let refused = f.tlc(&["gc", "--region", "eu-west", "--older-than", "0s", "--read-only", "--yes"]).await;
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    let gc = f.tlc(&["gc", "--region", "eu-west", "--older-than", "0s", "--yes"]).await;
    assert_eq!(gc.status.code(), Some(0), "{}", stderr(&gc));
    let said = stdout(&gc);
    assert!(said.contains(&format!("removed {} branch pods of 1 batch and 0 records in ", listed.len())), "{said}");
    assert!(said.contains("deletecollection pods ×"), "{said}");
    let after: std::collections::BTreeSet<String> = branch_pods().await.into_iter().map(|(_, p, _)| p).collect();
    let before: std::collections::BTreeSet<String> = before.into_iter().map(|(_, p, _)| p).collect();
    let gone: std::collections::BTreeSet<String> = before.difference(&after).cloned().collect();
    assert_eq!(gone, listed, "exactly what the preview listed");
    assert!(after.iter().any(|p| p.starts_with("workflows/workflows-drain-")), "the running batch is untouched");

    // The record stays, with its outcome: the batch still shows, from it.
    let runs = f.tlc(&["runs", "-o", "json", "--region", "eu-west"]).await;
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).expect("json");
    let globex = runs.as_array().and_then(|bs| bs.iter().find(|b| b["tenant_name"] == "globex-prod")).expect("globex");
    assert_eq!(globex["from_record"], true, "{globex:#}");
    assert_eq!(globex["branches"].as_array().map(Vec::len), Some(8), "{globex:#}");
    drop(running);
}
