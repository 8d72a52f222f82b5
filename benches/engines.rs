//! The two engines side by side on the same fan-out, measured (never asserted):
//! `cargo bench --bench engines` (`RUNS=n` runs per engine, default 3; `TIME_SCALE=x`, default
//! 0.01; `-- direct` / `-- argo` / `-- 200` to run only the configurations whose label contains
//! one of the words).
//!
//! One region: an embedded cluster with a generated estate of one tenant, 100 team namespaces ×
//! 10 lifecycle Jobs (1,000 branches of `lifecycle.upsert`, each Job printing two lines), equipped
//! with tlc's in-cluster kit (`tlc::demo::argo::equip`: the shipped WorkflowTemplate, its RBAC,
//! `tlc` as an in-process binary and Argo's controller). Each run gets a fresh region, plans the
//! upsert as `tlc run` does and hands the plan to `Runner::submit` (the path `tlc run` and the
//! console take) with
//!
//! - the direct engine at the configuration's default concurrency (`run.concurrency`, 16),
//! - the direct engine at 200 branches in flight (the template's Argo fan-out runs 50 bridges at
//!   once: `parallelism: 50`; 16 is not a like-for-like comparison, 200 shows the engine unbound),
//! - the Argo engine (one Workflow of the `tenant-lifecycle` template: discovery, then 1,000
//!   bridges, each creating its branch pod and following it).
//!
//! Measured from the call to `submit`, on a watch of the batch's branch pods by the contract's
//! labels (`tlc.dev/batch-id`): when the 1,000th branch pod exists, when every branch pod has
//! finished, and when `submit` returned (for Argo: the Workflow ended); whether every branch
//! succeeded (exit code 0 in `submit`'s results, and `Succeeded` on the watch).
//!
//! Time scale: 0.01 by default (a simulated second is 10 ms): containers start in 4 ms instead of
//! 400 ms, and the template's durations stay far away (the Workflow's 6 h deadline is 216 s, its
//! TTL 100 min). At 0 the TTL deletes the Workflow the moment it ends, and at 0.001 its
//! deadline would be 21.6 s — shorter than a slow run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failed run with its message

use std::collections::HashMap;
use std::time::{Duration, Instant};

use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher::{self, Event, watcher};
use tlc::contract::labels::batch_selector;
use tlc::contract::{Engine, Operation};
use tlc::demo::GeneratedEstate;
use tlc::lifecycle::discovery::{self, Scope};
use tlc::lifecycle::engine::argo::{ArgoSettings, resource};
use tlc::lifecycle::engine::{Plan, Request, Runner, plan};
use tlc::lifecycle::regions::{Region, Regions};
use tlc::tenants::configmaps::{self, ConfigMapSource};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const REGION: &str = "bench";
const NAMESPACES: usize = 100;
const JOBS_PER_NAMESPACE: usize = 10;
const BRANCHES: usize = NAMESPACES * JOBS_PER_NAMESPACE;
const OPERATION: &str = "lifecycle.upsert";
/// Longest a run may take before it is reported as not ending.
const RUN_DEADLINE: Duration = Duration::from_secs(900);

/// One engine configuration.
#[derive(Clone, Copy)]
struct Setup {
    label: &'static str,
    engine: Engine,
    concurrency: usize,
}

/// What one run measured.
struct Figures {
    /// From `submit` to the watch seeing the 1,000th branch pod.
    all_created: Option<Duration>,
    /// From `submit` to the watch seeing every branch pod finished.
    all_finished: Option<Duration>,
    /// From `submit` to its return.
    returned: Duration,
    /// Branches `submit` reported with exit code 0.
    succeeded: usize,
    /// What `submit` reported otherwise (first few).
    problems: Vec<String>,
    /// Branch pods the watch saw finish as `Succeeded`, and as `Failed`.
    watched_succeeded: usize,
    watched_failed: usize,
    /// For Argo: the Workflow's phase and how large it was as written.
    workflow: Option<String>,
}

/// A fresh region: the cluster, its estate, the kit and Argo's controller.
async fn region(scale: f64) -> (EmbeddedCluster, tlc::demo::argo::Equipped, Regions) {
    let mut config = ClusterConfig::new(REGION).with_time_scale(scale);
    config.history_capacity = 1_000_000;
    config.kubelet.events = false;
    let cluster = EmbeddedCluster::start(config).await.expect("cluster");
    GeneratedEstate {
        tenants: 1,
        namespaces: NAMESPACES,
        jobs_per_namespace: JOBS_PER_NAMESPACE,
        log_lines: 2,
        ..Default::default()
    }
    .seed(cluster.store(), REGION)
    .expect("estate");
    let equipped = tlc::demo::argo::equip(&cluster).expect("the kit");
    let client = cluster.client().await.expect("client");
    let regions =
        Regions::new(vec![Region { name: REGION.into(), context: REGION.into(), url: cluster.url(), client }]);
    (cluster, equipped, regions)
}

/// The plan `tlc run --tenant tenant-00000 --operation lifecycle.upsert --engine E` makes.
async fn plan_upsert(regions: &Regions, engine: Engine) -> Plan {
    let client = regions.get(REGION).expect("region").client.clone();
    let config = tlc::config::Config::defaults().expect("defaults");
    let scope = Scope {
        annotation: tlc::demo::generated::ANNOTATION.into(),
        namespaces: vec![],
        mount_dir: config.lifecycle.mount_dir.clone(),
    };
    let jobs = discovery::discover(&client, REGION, &scope).await.expect("discover");
    let tenants =
        configmaps::list(&client, &ConfigMapSource::defaults().expect("source"), REGION).await.expect("tenants");
    let request = Request {
        tenants,
        operation: Operation::new(OPERATION).expect("operation"),
        changeset_yaml: "{}\n".into(),
        only_jobs: None,
        engine,
        mount_dir: config.lifecycle.mount_dir.clone(),
        migration: None,
    };
    let p = plan(&request, &[(REGION.to_string(), jobs)].into_iter().collect());
    assert!(p.is_runnable(), "{:?}", p.problems);
    assert_eq!(p.batches.len(), 1);
    assert_eq!(p.batches[0].branches.len(), BRANCHES, "every generated Job handles {OPERATION}");
    p
}

/// What the branch-pod watch saw: when the last pod appeared, when the last one finished, and how
/// they ended.
#[derive(Default)]
struct Watched {
    all_created: Option<Instant>,
    all_finished: Option<Instant>,
    succeeded: usize,
    failed: usize,
}

/// Watches the batch's branch pods by its label until every one has finished (or `give_up`);
/// `ready` is sent once the watch is established (its initial list done).
async fn watch_branch_pods(
    client: kube::Client,
    batch_id: String,
    ready: tokio::sync::oneshot::Sender<()>,
    give_up: CancellationToken,
) -> Watched {
    let pods: Api<Pod> = Api::all(client);
    let stream = watcher(pods, watcher::Config::default().labels(&batch_selector(&batch_id)));
    futures::pin_mut!(stream);
    let mut ready = Some(ready);
    let mut phases: HashMap<String, String> = HashMap::new();
    let mut out = Watched::default();
    loop {
        let event = tokio::select! {
            e = stream.next() => e,
            () = give_up.cancelled() => break,
        };
        let Some(event) = event else { break };
        let pod = match event {
            Ok(Event::InitDone) => {
                if let Some(r) = ready.take() {
                    let _ = r.send(());
                }
                continue;
            }
            Ok(Event::Apply(p) | Event::InitApply(p)) => p,
            Ok(Event::Init | Event::Delete(_)) => continue,
            Err(e) => {
                eprintln!("branch pod watch: {e}");
                continue;
            }
        };
        let now = Instant::now();
        let name = format!("{}/{}", pod.metadata.namespace.unwrap_or_default(), pod.metadata.name.unwrap_or_default());
        let phase = pod.status.and_then(|s| s.phase).unwrap_or_default();
        phases.insert(name, phase);
        if out.all_created.is_none() && phases.len() == BRANCHES {
            out.all_created = Some(now);
        }
        if phases.len() == BRANCHES && phases.values().all(|p| p == "Succeeded" || p == "Failed") {
            out.all_finished = Some(now);
            break;
        }
    }
    out.succeeded = phases.values().filter(|p| *p == "Succeeded").count();
    out.failed = phases.values().filter(|p| *p == "Failed").count();
    out
}

async fn run_once(setup: Setup, scale: f64) -> Figures {
    let (cluster, equipped, regions) = region(scale).await;
    let p = plan_upsert(&regions, setup.engine).await;
    let batch_id = p.batches[0].batch_id.clone();
    let client = regions.get(REGION).expect("region").client.clone();
    let config = tlc::config::Config::defaults().expect("defaults");
    let runner = Runner::new(regions.clone(), setup.concurrency, ArgoSettings::from_config(&config));

    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let give_up = CancellationToken::new();
    let watching = tokio::spawn(watch_branch_pods(client.clone(), batch_id.clone(), ready_tx, give_up.clone()));
    ready.await.expect("the branch pod watch is established");
    // The run model's events (what the console and `tlc run` follow) are drained, not measured.
    let (events, mut rx) = mpsc::unbounded_channel();
    let draining = tokio::spawn(async move { while rx.recv().await.is_some() {} });

    let start = Instant::now();
    let ran = tokio::time::timeout(RUN_DEADLINE, runner.submit(&p, "{}\n", &events, &CancellationToken::new()))
        .await
        .expect("the run ends");
    let returned = start.elapsed();
    // The pods' last transitions may still be on their way to the watch.
    let watched = match tokio::time::timeout(Duration::from_secs(60), watching).await {
        Ok(w) => w.expect("watch task"),
        Err(_) => {
            give_up.cancel();
            Watched::default()
        }
    };
    drop(events);
    let _ = draining.await;

    let mut succeeded = 0;
    let mut problems = Vec::new();
    match &ran.results {
        Err(e) => problems.push(format!("nothing ran: {e}")),
        Ok(results) => {
            for r in results {
                match &r.outcome {
                    Some(Ok(o)) if o.exit_code == Some(0) && o.phase == "Succeeded" => succeeded += 1,
                    other => problems.push(format!("{}: {other:?}", r.spec.job.job)),
                }
            }
        }
    }
    problems.extend(ran.audit_problems.iter().map(|a| format!("audit: {a}")));
    let workflow = match setup.engine {
        Engine::Argo => {
            let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client, "argo", &resource("Workflow"));
            let name = tlc::lifecycle::engine::argo::workflow_name(&config.run.workflow_template, &batch_id);
            match api.get(&name).await {
                Ok(w) => {
                    let value = serde_json::to_value(&w).expect("json");
                    let size = serde_json::to_vec(&value).expect("json").len();
                    let compressed = value["status"]["compressedNodes"].as_str().map_or(0, str::len);
                    Some(format!(
                        "Workflow {}; {:.0} KiB as stored{}",
                        value["status"]["phase"].as_str().unwrap_or("?"),
                        size as f64 / 1024.0,
                        if compressed > 0 {
                            format!(" ({:.0} KiB of it status.compressedNodes)", compressed as f64 / 1024.0)
                        } else {
                            String::new()
                        }
                    ))
                }
                Err(e) => Some(format!("Workflow not readable after the run: {e}")),
            }
        }
        Engine::Direct => None,
    };
    let since = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(start));
    let figures = Figures {
        all_created: since(watched.all_created),
        all_finished: since(watched.all_finished),
        returned,
        succeeded,
        problems,
        watched_succeeded: watched.succeeded,
        watched_failed: watched.failed,
        workflow,
    };
    equipped.controller.stop().await;
    cluster.shutdown().await;
    figures
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// `min / median / max` of some durations, in seconds; `—` for runs that never got there.
fn spread(values: &[Option<Duration>]) -> String {
    let mut v: Vec<Duration> = values.iter().flatten().copied().collect();
    if v.is_empty() {
        return "never".into();
    }
    v.sort();
    let missing = values.len() - v.len();
    format!(
        "min {:>6.2} s  median {:>6.2} s  max {:>6.2} s{}",
        secs(v[0]),
        secs(v[v.len() / 2]),
        secs(v[v.len() - 1]),
        if missing > 0 { format!("  ({missing} run(s) never got there)") } else { String::new() }
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn main() {
    // Every submit is audited into the local history: keep it out of the user's, by running this
    // benchmark again with a data directory of its own (no environment change in-process).
    if std::env::var_os("TLC_DATA_DIR").is_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let status = std::process::Command::new(std::env::current_exe().expect("this benchmark"))
            .args(std::env::args_os().skip(1))
            .env("TLC_DATA_DIR", dir.path())
            .status()
            .expect("runs");
        std::process::exit(status.code().unwrap_or(1));
    }
    let runs: usize = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let scale: f64 = std::env::var("TIME_SCALE").ok().and_then(|r| r.parse().ok()).unwrap_or(0.01);
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let default_concurrency = tlc::config::Config::defaults().expect("defaults").run.concurrency;
    let setups = [
        Setup {
            label: "direct, concurrency 16 (the default)",
            engine: Engine::Direct,
            concurrency: default_concurrency,
        },
        Setup { label: "direct, concurrency 200", engine: Engine::Direct, concurrency: 200 },
        Setup { label: "argo (template parallelism 50)", engine: Engine::Argo, concurrency: default_concurrency },
    ];
    let setups: Vec<Setup> =
        setups.into_iter().filter(|s| only.is_empty() || only.iter().any(|o| s.label.contains(o.as_str()))).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!(
        "engines: one tenant x {NAMESPACES} namespaces x {JOBS_PER_NAMESPACE} Jobs = {BRANCHES} branches of {OPERATION}, through Runner::submit, time scale {scale}, {runs} run(s) each, a fresh region per run"
    );
    println!(
        "  machine: {} CPU(s); load average (1, 5, 15 min) at start: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    for setup in setups {
        let mut created = Vec::new();
        let mut finished = Vec::new();
        let mut returned = Vec::new();
        let mut all_ok = 0;
        for run in 0..runs {
            let f = runtime.block_on(run_once(setup, scale));
            let ok = f.succeeded == BRANCHES && f.watched_succeeded == BRANCHES && f.problems.is_empty();
            all_ok += usize::from(ok);
            println!(
                "  {:<40} run {}: {BRANCHES}th branch pod after {}, all finished after {}, submit returned after {:.2} s; {} of {BRANCHES} succeeded (watch: {} Succeeded, {} Failed){}",
                setup.label,
                run + 1,
                f.all_created.map_or("never".into(), |d| format!("{:.2} s", secs(d))),
                f.all_finished.map_or("never".into(), |d| format!("{:.2} s", secs(d))),
                secs(f.returned),
                f.succeeded,
                f.watched_succeeded,
                f.watched_failed,
                f.workflow.map(|w| format!("; {w}")).unwrap_or_default()
            );
            for p in f.problems.iter().take(5) {
                println!("      {p}");
            }
            created.push(f.all_created);
            finished.push(f.all_finished);
            returned.push(Some(f.returned));
        }
        println!("{}:", setup.label);
        let label = |what: &str| format!("  submit -> {what}");
        println!("{:<44}{}", label(&format!("{BRANCHES}th branch pod exists")), spread(&created));
        println!("{:<44}{}", label("every branch pod finished"), spread(&finished));
        println!("{:<44}{}", label("submit returned"), spread(&returned));
        println!("  every branch succeeded in {all_ok} of {runs} run(s)");
    }
    println!("  load average at the end: {}", load_average());
}
