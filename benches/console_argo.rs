//! The real console following a 2,000-branch Argo fan-out whose status is compressed, measured
//! (never asserted): `cargo bench --bench console_argo`.
//!
//! `tlc sim --regions eu-west --estate generated --tenants 1 --namespaces 200 --jobs 10
//! --log-lines 10 --log-rate 1 --speed 4` (2,000 lifecycle Jobs, each printing a line a simulated
//! second for ten; the region equipped with tlc's Argo kit and Argo's controller), then `tlc` in a
//! 200×50 pty on its `:runs` view. A Workflow of the `tenant-lifecycle` template is created for
//! the tenant the way the shipped Sensor creates one (`tlc::demo::argo::submit_as_sensor`:
//! `workflowTemplateRef` and parameters only); the template fans it out to 2,000 bridges, 50 at a
//! time. Once the controller writes its nodes compressed (`status.compressedNodes`, past Argo's
//! 1 MiB), the console's CPU time is read from `/proc/<pid>/stat` every 100 ms over a window in
//! the runs view, then over one in the batch view (which also follows the running branches'
//! logs). A watch of the Workflow from this process counts the status writes in each window and
//! their size. Reported per window: the console's CPU as a share of one core, overall and between
//! changes (100 ms slots at least 300 ms after the last status write and before the next), the
//! status writes per second and the console's CPU per write, `tlc sim`'s CPU, the load average.
//!
//! `TLC_BIN=path` runs another build of `tlc` (the sim and the console) to compare two builds.
//!
//! The bar is console CPU ≤ 10 % of a core with the status changing every second; the emulated
//! controller writes it whenever pods change (at most every 50 ms), so the window usually sees
//! more than one write a second — the figures say how many.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failed run with its message

#[path = "../tests/integration/common/pty.rs"]
mod pty;
#[path = "common/sim.rs"]
mod sim;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::{self, Event, watcher};
use pty::Console;
use sim::{Sim, cpu_time};

/// Terminal size: rows, columns.
const SIZE: (u16, u16) = (50, 200);
const REGION: &str = "eu-west";
const NAMESPACES: usize = 200;
const JOBS: usize = 10;
/// Each Job prints this many lines, one a simulated second.
const LOG_LINES: usize = 10;
/// Simulated seconds per real second.
const SPEED: &str = "4";
/// How long each view is measured.
const WINDOW: Duration = Duration::from_secs(20);
/// How often the console's CPU time is read.
const SAMPLE: Duration = Duration::from_millis(100);
/// A slot this close after a status write (or before the next) is not "between changes".
const AFTER_WRITE: Duration = Duration::from_millis(300);
/// Longest wait for the status to be compressed.
const COMPRESSED_WITHIN: Duration = Duration::from_secs(900);

/// A status write as this process's watch saw it.
#[derive(Clone)]
struct Write {
    at: Instant,
    /// Bytes of `status.compressedNodes` (0: plain `status.nodes`).
    compressed: usize,
    progress: String,
    phase: String,
}

/// Watches the Workflow `name` in `argo`, recording every write, until the process ends.
fn watch_workflow(kubeconfig: std::path::PathBuf, name: String, writes: Arc<Mutex<Vec<Write>>>) {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let client = client(&kubeconfig).await;
            let api: Api<DynamicObject> =
                Api::namespaced_with(client, "argo", &tlc::lifecycle::engine::argo::resource("Workflow"));
            let stream = watcher(api, watcher::Config::default().fields(&format!("metadata.name={name}")));
            futures::pin_mut!(stream);
            let mut version = String::new();
            while let Some(event) = stream.next().await {
                let Ok(Event::Apply(w) | Event::InitApply(w)) = event else { continue };
                let rv = w.metadata.resource_version.clone().unwrap_or_default();
                if rv == version {
                    continue;
                }
                version = rv;
                let status = w.data.get("status");
                let text = |k: &str| status.and_then(|s| s.get(k)).and_then(|v| v.as_str()).unwrap_or("").to_string();
                writes.lock().unwrap().push(Write {
                    at: Instant::now(),
                    compressed: text("compressedNodes").len(),
                    progress: text("progress"),
                    phase: text("phase"),
                });
            }
        });
    });
}

/// A client for the sim's region, from the kubeconfig it wrote.
async fn client(kubeconfig: &std::path::Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).expect("kubeconfig");
    let options = kube::config::KubeConfigOptions { context: Some(REGION.into()), ..Default::default() };
    let config = kube::Config::from_custom_kubeconfig(kc, &options).await.expect("config");
    kube::Client::try_from(config).expect("client")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The console's CPU time every [`SAMPLE`] for [`WINDOW`].
fn sample(pid: u32) -> Vec<(Instant, Duration)> {
    let start = Instant::now();
    let mut out = Vec::new();
    while start.elapsed() <= WINDOW {
        if let Some(cpu) = cpu_time(pid) {
            out.push((Instant::now(), cpu));
        }
        std::thread::sleep(SAMPLE);
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Reports one window: the console's CPU overall and between changes, the writes in it.
fn report(view: &str, samples: &[(Instant, Duration)], writes: &[Write], sim_cpu: Option<Duration>) {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        println!("{view}: no CPU samples (no /proc here?)");
        return;
    };
    let span = last.0 - first.0;
    let cpu = last.1 - first.1;
    let inside: Vec<&Write> = writes.iter().filter(|w| w.at >= first.0 && w.at <= last.0).collect();
    let (mut quiet_time, mut quiet_cpu) = (Duration::ZERO, Duration::ZERO);
    for pair in samples.windows(2) {
        let (from, to) = (pair[0].0, pair[1].0);
        let near = writes.iter().any(|w| w.at + AFTER_WRITE >= from && w.at <= to + Duration::from_millis(50));
        if !near {
            quiet_time += to - from;
            quiet_cpu += pair[1].1 - pair[0].1;
        }
    }
    let share = |cpu: Duration, time: Duration| {
        if time.is_zero() { f64::NAN } else { 100.0 * cpu.as_secs_f64() / time.as_secs_f64() }
    };
    let mut sizes: Vec<usize> = inside.iter().map(|w| w.compressed).collect();
    sizes.sort_unstable();
    println!("{view}, {:.1} s window:", span.as_secs_f64());
    println!(
        "  status writes: {} ({:.2} a second), progress {} -> {}, status.compressedNodes {:.0}..{:.0} KiB",
        inside.len(),
        inside.len() as f64 / span.as_secs_f64(),
        inside.first().map_or("?", |w| w.progress.as_str()),
        inside.last().map_or("?", |w| w.progress.as_str()),
        sizes.first().map_or(0.0, |s| *s as f64 / 1024.0),
        sizes.last().map_or(0.0, |s| *s as f64 / 1024.0),
    );
    println!(
        "  console CPU: {:.1} % of a core ({:.0} ms in {:.1} s); per status write {:.1} ms (all of the console's work divided by the writes)",
        share(cpu, span),
        ms(cpu),
        span.as_secs_f64(),
        if inside.is_empty() { f64::NAN } else { ms(cpu) / inside.len() as f64 },
    );
    println!(
        "  console CPU between changes: {:.1} % of a core over {:.1} s of slots with no status write (bar: <= 10 %)",
        share(quiet_cpu, quiet_time),
        quiet_time.as_secs_f64()
    );
    if let Some(sim) = sim_cpu {
        println!("  tlc sim meanwhile (cluster, Argo's controller, bridges): {:.0} % of a core", share(sim, span));
    }
    println!("  load average (1, 5, 15 min) after the window: {}", load_average());
}

fn main() {
    let sim = Sim::start(&[
        "--regions",
        REGION,
        "--estate",
        "generated",
        "--tenants",
        "1",
        "--namespaces",
        &NAMESPACES.to_string(),
        "--jobs",
        &JOBS.to_string(),
        "--log-lines",
        &LOG_LINES.to_string(),
        "--log-rate",
        "1",
        "--speed",
        SPEED,
    ]);
    println!(
        "console_argo: tlc sim with 1 tenant x {NAMESPACES} namespaces x {JOBS} Jobs ({} branches, {LOG_LINES} s each simulated), speed {SPEED}; ready in {:.0} ms; {} CPU(s), load average {}",
        NAMESPACES * JOBS,
        ms(sim.ready_after),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let kubeconfig = sim.kubeconfig.to_str().expect("utf-8 path").to_string();
    let config = sim.config.to_str().expect("utf-8 path").to_string();
    let mut c =
        Console::start_program(&sim::tlc_binary(), &[], &[("KUBECONFIG", &kubeconfig), ("TLC_CONFIG", &config)], SIZE);
    c.wait("the tenant", |s| s.contains("Tenants (1)") && s.contains("eu-west ●"));
    c.keys(":runs\r");
    c.wait("the runs view", |s| s.contains(" Runs ("));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let name = runtime.block_on(async {
        let client = client(&sim.kubeconfig).await;
        tlc::demo::argo::submit_as_sensor(&client, "tenant-00000", "lifecycle.upsert", "").await.expect("submit")
    });
    let submitted = Instant::now();
    let writes = Arc::new(Mutex::new(Vec::new()));
    watch_workflow(sim.kubeconfig.clone(), name.clone(), writes.clone());
    c.wait("the Workflow's batch in :runs", |s| s.contains("tenant-00000"));
    loop {
        if writes.lock().unwrap().iter().any(|w| w.compressed > 0) {
            break;
        }
        assert!(submitted.elapsed() < COMPRESSED_WITHIN, "the status was not compressed within {COMPRESSED_WITHIN:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let progress = writes.lock().unwrap().last().map(|w| w.progress.clone()).unwrap_or_default();
    println!(
        "Workflow argo/{name}: status compressed {:.0} s after submission (progress {progress})",
        submitted.elapsed().as_secs_f64()
    );
    let pid = c.child.process_id().expect("console pid");

    let sim_before = cpu_time(sim.pid());
    let runs = sample(pid);
    let sim_runs = cpu_time(sim.pid()).zip(sim_before).map(|(a, b)| a - b);
    report("runs view", &runs, &writes.lock().unwrap(), sim_runs);

    c.keys("\r");
    c.wait("the batch view", |s| s.contains("Branches ("));
    let sim_before = cpu_time(sim.pid());
    let batch = sample(pid);
    let sim_batch = cpu_time(sim.pid()).zip(sim_before).map(|(a, b)| a - b);
    report("batch view (following the running branches' logs too)", &batch, &writes.lock().unwrap(), sim_batch);

    let last = writes.lock().unwrap().last().cloned();
    if let Some(w) = last {
        println!("  the Workflow at the end: {} {}", w.phase, w.progress);
    }
    c.keys("q");
    let status = c.wait_exit();
    assert!(status.success(), "tlc exited with {status:?}");
}
