//! Issue-3 benchmarks, side by side with kubectl on the same embedded cluster, each tool run as a
//! process under GNU time (wall, user+sys CPU, peak RSS):
//!
//! 1. fan-out: `tlc run` of one tenant over 1,000 lifecycle Jobs in 100 namespaces, against
//!    `kubectl create -f` of the same 1,000 branch pods; the time until all 1,000 pods exist is
//!    read from the cluster's own change history;
//! 2. logs: a finished batch of 200 branches × 5,000 lines, read by `tlc logs -f` and by
//!    `kubectl logs -f -l … --prefix --max-log-requests=200`; every line of every branch is
//!    checked (0 lost, 0 duplicated, in order).
//!
//! Run: `cargo bench --bench lifecycle` (needs kubectl and /usr/bin/time; RUNS=n to repeat).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use embedded_cluster::store::history::ChangeKind;
use embedded_cluster::store::resource::Resource;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use tlc::contract::Operation;
use tlc::demo::GeneratedEstate;
use tlc::lifecycle::bridge::branch_pod;
use tlc::lifecycle::discovery::{self, Scope};
use tlc::lifecycle::engine::{DirectEngine, Request, plan};
use tlc::lifecycle::regions::{Region, Regions};
use tlc::tenants::configmaps::{self, ConfigMapSource};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const ANNOTATION: &str = "collibra.com/tenant.lifecycle";
const MOUNT: &str = "/var/run/tlc/lifecycle";

/// What GNU time reported about a process.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    wall: f64,
    cpu: f64,
    peak_mib: f64,
}

fn parse_time(stderr: &str) -> Usage {
    // The last line is ours: "TIME wall user sys maxrss_kb".
    let line = stderr.lines().rev().find(|l| l.starts_with("TIME ")).unwrap_or_default();
    let f: Vec<f64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    if f.len() < 4 {
        return Usage::default();
    }
    Usage { wall: f[0], cpu: f[1] + f[2], peak_mib: f[3] / 1024.0 }
}

struct Setup {
    cluster: EmbeddedCluster,
    dir: tempfile::TempDir,
    tlc_config: PathBuf,
    kubeconfig: PathBuf,
}

async fn setup(estate: GeneratedEstate) -> Setup {
    let mut config = ClusterConfig::new("bench").with_time_scale(0.0);
    config.history_capacity = 1_000_000;
    config.kubelet.events = false;
    let cluster = EmbeddedCluster::start(config).await.expect("cluster");
    estate.seed(cluster.store(), "bench").expect("estate");
    let dir = tempfile::tempdir().expect("dir");
    let kubeconfig = dir.path().join("kubeconfig");
    embedded_cluster::kubeconfig::write(&kubeconfig, &cluster.kubeconfig_entries(), "bench", "# bench")
        .expect("kubeconfig");
    let tlc_config = dir.path().join("tlc.toml");
    std::fs::write(&tlc_config, format!("[cluster]\nkubeconfig = {:?}\ncontexts = [\"bench\"]\n[lifecycle]\nannotation = \"{ANNOTATION}\"\n[run]\nconcurrency = 1000\n", kubeconfig.display().to_string()))
        .expect("config");
    Setup { cluster, dir, tlc_config, kubeconfig }
}

/// Waits until `count` pods have been added to the store since `from`; returns when that happened.
/// The plan `tlc run` would make for the estate's one tenant (and the regions to run it in).
async fn plan_estate(s: &Setup) -> (tlc::lifecycle::engine::Plan, Regions) {
    let client = s.cluster.client().await.expect("client");
    let regions = Regions::new(vec![Region {
        name: "bench".into(),
        context: "bench".into(),
        url: s.cluster.url(),
        client: client.clone(),
    }]);
    let scope = Scope { annotation: ANNOTATION.into(), namespaces: vec![], mount_dir: MOUNT.into() };
    let jobs = discovery::discover(&client, "bench", &scope).await.expect("discover");
    let source = ConfigMapSource::defaults().expect("configmaps");
    let tenants = configmaps::list(&client, &source, "bench").await.expect("tenants");
    let request = Request {
        tenants,
        operation: Operation::new("lifecycle.upsert").expect("op"),
        changeset_yaml: "{}\n".into(),
        only_jobs: None,
        engine: tlc::contract::Engine::Direct,
        mount_dir: MOUNT.into(),
        migration: None,
    };
    (plan(&request, &[("bench".to_string(), jobs)].into_iter().collect()), regions)
}

/// Waits until `count` pods have been added to the store since `from`; returns when that happened.
async fn pods_created(cluster: &EmbeddedCluster, from: u64, count: usize, start: Instant) -> Duration {
    let mut rx = cluster.store().subscribe();
    loop {
        let added = cluster
            .store()
            .changes_since(from, usize::MAX)
            .map(|c| c.iter().filter(|c| c.resource == Resource::Pods && c.kind == ChangeKind::Added).count())
            .unwrap_or(0);
        if added >= count {
            return start.elapsed();
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), rx.changed()).await;
    }
}

/// After the creating process ended: the time if all pods exist, else a huge value (reported).
async fn pods_created_or_report(cluster: &EmbeddedCluster, from: u64) -> Duration {
    let added = cluster
        .store()
        .changes_since(from, usize::MAX)
        .map(|c| c.iter().filter(|c| c.resource == Resource::Pods && c.kind == ChangeKind::Added).count())
        .unwrap_or(0);
    println!("fan-out  kubectl stopped after creating {added} pods");
    Duration::from_secs(3600)
}

fn timed(program: &Path, args: &[String]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("/usr/bin/time");
    c.arg("-f").arg("TIME %e %U %S %M").arg(program).args(args).kill_on_drop(true);
    c
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

async fn fan_out(kubectl: &Path) {
    let s = setup(GeneratedEstate {
        tenants: 1,
        namespaces: 100,
        jobs_per_namespace: 10,
        log_lines: 1,
        ..Default::default()
    })
    .await;
    let tlc = PathBuf::from(env!("CARGO_BIN_EXE_tlc"));
    // tlc: plan, confirm (--yes), fan out 1,000 branches, follow them to the end.
    let from = s.cluster.store().revision();
    let start = Instant::now();
    let args: Vec<String> =
        ["run", "--tenant", "tenant-00000", "--operation", "lifecycle.upsert", "--yes", "-o", "json"]
            .iter()
            .map(|a| a.to_string())
            .collect();
    let child = timed(&tlc, &args)
        .env("TLC_CONFIG", &s.tlc_config)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tlc");
    let created = pods_created(&s.cluster, from, 1000, start).await;
    let out = child.wait_with_output().await.expect("tlc ends");
    let tlc_usage = parse_time(&String::from_utf8_lossy(&out.stderr));
    println!(
        "fan-out  tlc run      1000 branches / 100 namespaces: all pods created in {:.3} s; whole run (plan, create, follow to the end) {:.2} s wall, {:.2} s CPU, {:.0} MiB peak",
        created.as_secs_f64(),
        tlc_usage.wall,
        tlc_usage.cpu,
        tlc_usage.peak_mib
    );
    // kubectl: the same 1,000 branch pods (another batch id, so other names), from one file.
    let (p, regions) = plan_estate(&s).await;
    let items: Vec<_> = p.batches[0].branches.iter().map(branch_pod).collect();
    assert_eq!(items.len(), 1000);
    // One document per pod (kubectl validates a `List` client-side against OpenAPI v2, which the
    // embedded cluster does not serve).
    let mut text = String::new();
    for pod in &items {
        text.push_str("---\n");
        text.push_str(&serde_json::to_string(pod).expect("json"));
        text.push('\n');
    }
    let file = s.dir.path().join("pods.yaml");
    std::fs::write(&file, text).expect("write");
    let from = s.cluster.store().revision();
    let start = Instant::now();
    let args = vec!["create".to_string(), "-f".into(), file.display().to_string()];
    let child = timed(kubectl, &args)
        .env("KUBECONFIG", &s.kubeconfig)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl");
    let waiting = tokio::spawn(async move { child.wait_with_output().await });
    let k_created = tokio::select! {
        d = pods_created(&s.cluster, from, 1000, start) => d,
        () = async { loop { if waiting.is_finished() { break; } tokio::time::sleep(Duration::from_millis(100)).await; } } => {
            // kubectl ended before creating them all: show why.
            pods_created_or_report(&s.cluster, from).await
        }
    };
    let out = waiting.await.expect("joins").expect("kubectl ends");
    let k_usage = parse_time(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        println!(
            "fan-out  kubectl create -f failed: {}",
            String::from_utf8_lossy(&out.stderr).lines().take(5).collect::<Vec<_>>().join(" | ")
        );
    }
    println!(
        "fan-out  kubectl create -f  the same 1000 pods: all pods created in {:.3} s; {:.2} s wall, {:.2} s CPU, {:.0} MiB peak",
        k_created.as_secs_f64(),
        k_usage.wall,
        k_usage.cpu,
        k_usage.peak_mib
    );
    println!(
        "fan-out  ratio: kubectl takes {:.1}x as long as tlc to create the 1000 pods",
        k_created.as_secs_f64() / created.as_secs_f64()
    );
    drop(regions);
}

/// Checks that every branch has exactly lines 0..lines, in order; returns (branches, lines, lost, duplicated).
fn verify(per_branch: &BTreeMap<String, Vec<u64>>, lines: u64) -> (usize, u64, u64, u64) {
    let mut total = 0;
    let mut lost = 0;
    let mut dup = 0;
    for steps in per_branch.values() {
        total += steps.len() as u64;
        let mut seen = vec![0u32; lines as usize];
        for s in steps {
            if let Some(c) = seen.get_mut(*s as usize) {
                *c += 1;
            }
        }
        lost += seen.iter().filter(|c| **c == 0).count() as u64;
        dup += seen.iter().map(|c| u64::from(c.saturating_sub(1))).sum::<u64>();
        assert!(steps.windows(2).all(|w| w[0] < w[1]), "lines of a branch out of order");
    }
    (per_branch.len(), total, lost, dup)
}

/// The step number in a generated line: "... step N of M: ...".
fn step(line: &str) -> Option<u64> {
    line.split(" step ").nth(1)?.split(' ').next()?.parse().ok()
}

async fn logs(kubectl: &Path) {
    const BRANCHES: usize = 200;
    const LINES: usize = 5000;
    let s = setup(GeneratedEstate {
        tenants: 1,
        namespaces: 1,
        jobs_per_namespace: BRANCHES,
        log_lines: LINES,
        ..Default::default()
    })
    .await;
    let (p, regions) = plan_estate(&s).await;
    let batch = p.batches[0].batch_id.clone();
    let engine = DirectEngine { regions, concurrency: 1000 };
    let (tx, _rx) = mpsc::unbounded_channel();
    let t = Instant::now();
    engine.execute(&p, &tx, &CancellationToken::new()).await.expect("batch runs");
    println!(
        "logs     batch of {BRANCHES} branches x {LINES} lines ran to the end in {:.2} s (the simulated kubelet interpreting the scripts)",
        t.elapsed().as_secs_f64()
    );

    let tlc = PathBuf::from(env!("CARGO_BIN_EXE_tlc"));
    let args = vec!["logs".to_string(), batch.clone(), "--follow".into()];
    let out = timed(&tlc, &args)
        .env("TLC_CONFIG", &s.tlc_config)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("tlc logs");
    let usage = parse_time(&String::from_utf8_lossy(&out.stderr));
    let mut per_branch: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((prefix, text)) = line.split_once(" │ ")
            && let Some(n) = step(text)
        {
            per_branch.entry(prefix.trim().to_string()).or_default().push(n);
        }
    }
    let (branches, total, lost, dup) = verify(&per_branch, LINES as u64);
    println!(
        "logs     tlc logs -f    {branches} branches, {total} lines ({lost} lost, {dup} duplicated): {:.2} s wall, {:.2} s CPU, {:.0} MiB peak",
        usage.wall, usage.cpu, usage.peak_mib
    );

    let args: Vec<String> = vec![
        "logs".into(),
        "-f".into(),
        "-l".into(),
        format!("tlc.dev/batch-id={batch}"),
        "-n".into(),
        "team-0000".into(),
        "--prefix".into(),
        "--max-log-requests=200".into(),
        "--tail=-1".into(),
    ];
    let out = timed(kubectl, &args)
        .env("KUBECONFIG", &s.kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("kubectl logs");
    let k = parse_time(&String::from_utf8_lossy(&out.stderr));
    let mut per_pod: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((prefix, text)) = line.split_once("] ")
            && let Some(n) = step(text)
        {
            per_pod.entry(prefix.to_string()).or_default().push(n);
        }
    }
    let (pods, total, lost, dup) = verify(&per_pod, LINES as u64);
    println!(
        "logs     kubectl logs -f -l --prefix --max-log-requests=200 --tail=-1    {pods} pods, {total} lines ({lost} lost, {dup} duplicated): {:.2} s wall, {:.2} s CPU, {:.0} MiB peak",
        k.wall, k.cpu, k.peak_mib
    );
}

#[tokio::main]
async fn main() {
    let Some(kubectl) = which("kubectl") else {
        eprintln!("lifecycle bench: needs kubectl on PATH");
        return;
    };
    if !Path::new("/usr/bin/time").is_file() {
        eprintln!("lifecycle bench: needs GNU time at /usr/bin/time (Debian package `time`)");
        return;
    }
    let runs: usize = std::env::var("RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(1);
    println!(
        "lifecycle benchmark: tlc vs kubectl on the embedded cluster, {} CPU(s), {runs} run(s)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for _ in 0..runs {
        fan_out(&kubectl).await;
        logs(&kubectl).await;
    }
}
