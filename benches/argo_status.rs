//! Reading and following a large Argo Workflow's status, measured (never asserted):
//! `cargo bench --bench argo_status` (`-- decode` or `-- follow` for one part).
//!
//! A Workflow of tlc's template (`deploy/argo/workflow-template.yaml`) with 2,000 branches, as
//! the controller would store it: every node with the fields Argo writes (ids, names, scope,
//! times, progress, resources, inputs, the bridge's log artifact), one branch in ten with a
//! retried attempt, one in fifty failed; the node map gzip-compressed into
//! `status.compressedNodes` (it is far past Argo's 1 MiB limit as JSON).
//!
//! `decode` reports the sizes, and min/median/max over the iterations of
//!
//! - decode + map: `WorkflowRun::from_value` on the object as a watch delivers it (base64,
//!   gunzip, JSON, mapping) — the bar is 20 ms;
//! - the same from the object's JSON text (the parse a watch event costs on top);
//!   Its mean CPU time is reported too: wall-clock times on a machine shared with other work
//!   include the time the scheduler gave to others;
//! - formulating a retry of the same workflow marked Failed (decode, plan, re-compress).
//!
//! `follow` is the console following such a run: 25 branches start and 25 end every second (50 in
//! flight, the template's parallelism), the status written once a second (every branch's node,
//! pending ones included), each branch pod reported when created, running and ended. Every second
//! of it is replayed into the real console state and views, in-process, as the console's loop
//! does it: the watch task parses the event's JSON and reads the Workflow (`WorkflowSeen::read`),
//! the loop applies it and that second's pod events with `tlc::tui::app::update`, scans for new
//! log streams after each (`tlc::tui::runtime::new_log_streams`, in the batch view) and draws one
//! frame (ratatui's `TestBackend`, 200×50); half a second later the clock ticks and draws one more.
//! In the runs view and in the batch view: the status writes' sizes; parse, read and frame times
//! (p50/p99/max); CPU per second followed — the bars are frame p99 ≤ 8 ms and ≤ 10 % of a core —
//! from `/proc/self/stat` (utime + stime, 10 ms ticks) and from summed step times.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failed run with its message

use std::io::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use jiff::Timestamp;
use kube::api::DynamicObject;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;
use serde_json::{Map, Value, json};
use tlc::contract::{BranchIdentity, Engine, branch_pod_name};
use tlc::lifecycle::argo::actions;
use tlc::lifecycle::argo::mapping::{Stage, State, WorkflowRun};
use tlc::lifecycle::argo::status::{self, node_id};
use tlc::lifecycle::run::{Phase, PodSnapshot, RunEvent, WorkflowSeen};
use tlc::tui::app::{App, Msg, View, update};
use tlc::tui::data::DataEvent;
use tlc::tui::runtime::{Requested, new_log_streams};
use tlc::tui::theme::Theme;

const WF: &str = "tenant-lifecycle-bench1";
const BRANCHES: usize = 2_000;
const ITERATIONS: usize = 60;
const BATCH: &str = "019a0000-0000-7000-8000-00000000beef";

struct Nodes {
    map: Map<String, Value>,
}

/// An attempt: phase, exit code, message.
type AttemptSpec<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

impl Nodes {
    #[allow(clippy::too_many_arguments)] // one node's fields, named at each call
    fn add(
        &mut self,
        name: &str,
        display: &str,
        kind: &str,
        phase: &str,
        template: &str,
        parent: Option<&str>,
        extra: Value,
    ) -> String {
        let id = node_id(WF, name);
        let mut node = json!({
            "id": id, "name": name, "displayName": display, "type": kind, "phase": phase,
            "templateName": template, "templateScope": "namespaced/tenant-lifecycle",
            "startedAt": "2026-11-21T10:00:10Z",
        });
        if name != WF {
            node["boundaryID"] = json!(WF);
        }
        for (k, v) in extra.as_object().unwrap() {
            node[k] = v.clone();
        }
        self.map.insert(id.clone(), node);
        if let Some(parent) = parent {
            let children = self.map[parent].as_object_mut().unwrap().entry("children").or_insert(json!([]));
            children.as_array_mut().unwrap().push(json!(id));
        }
        id
    }
}

fn pod_extra(phase: &str, exit: Option<&str>, message: Option<&str>, log_key: &str) -> Value {
    let mut extra = json!({
        "hostNodeName": "ip-10-0-12-34.eu-west-1.compute.internal",
        "nodeFlag": {"retried": true},
        "resourcesDuration": {"cpu": 3, "memory": 14},
        "progress": if phase == "Succeeded" { "1/1" } else { "0/1" },
    });
    if matches!(phase, "Succeeded" | "Failed" | "Error") {
        extra["finishedAt"] = json!("2026-11-21T10:04:51Z");
        extra["outputs"] = json!({
            "artifacts": [{"name": "main-logs", "s3": {"key": log_key}}],
        });
        if let Some(exit) = exit {
            extra["outputs"]["exitCode"] = json!(exit);
        }
    } else {
        extra["finishedAt"] = Value::Null;
    }
    if let Some(m) = message {
        extra["message"] = json!(m);
    }
    extra
}

/// Where a branch is at a moment of the run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum At {
    /// Its node exists; no pod yet.
    Pending,
    /// Its (last) attempt runs.
    Running,
    /// It ended as [`outcome`] says.
    Done,
}

/// How branch `i` ends: one in fifty failed with exit 3, one in ten retried after an
/// infrastructure error (the bridge pod deleted) and then succeeded, the rest succeeded.
fn outcome(i: usize) -> (&'static str, Vec<AttemptSpec<'static>>) {
    if i % 50 == 7 {
        ("Failed", vec![("Failed", Some("3"), Some("main: Error (exit code 3)"))])
    } else if i % 10 == 3 {
        ("Succeeded", vec![("Error", None, Some("pod deleted")), ("Succeeded", Some("0"), None)])
    } else {
        ("Succeeded", vec![("Succeeded", Some("0"), None)])
    }
}

/// Branch `i`'s Job: (namespace, name).
fn job(i: usize) -> (String, String) {
    (format!("team-{:03}", i % 400), format!("team-{i:04}-lifecycle"))
}

/// The workflow with every branch where `at` says, its node count and its JSON node map size.
/// `revision` is its resourceVersion.
fn workflow(at: impl Fn(usize) -> At, revision: u64) -> (Value, usize, usize) {
    let mut nodes = Nodes { map: Map::new() };
    let done = (0..BRANCHES).filter(|&i| at(i) == At::Done).count();
    let finished = done == BRANCHES;
    let progress = format!("{}/{}", done + 1, BRANCHES + 1);
    let phase = if finished { "Failed" } else { "Running" };
    let mut root_extra = json!({"progress": progress});
    if finished {
        root_extra["finishedAt"] = json!("2026-11-21T10:09:51Z");
        root_extra["message"] = json!("child 'tenant-lifecycle-bench1-1' failed");
    }
    nodes.add(WF, WF, "Steps", phase, "lifecycle", None, root_extra);
    let sg0 = nodes.add(&format!("{WF}[0]"), "[0]", "StepGroup", "Succeeded", "lifecycle", Some(WF), json!({}));
    let jobs: Vec<Value> = (0..BRANCHES)
        .map(|i| {
            let (namespace, name) = job(i);
            json!({"name": name, "namespace": namespace})
        })
        .collect();
    let jobs_text = serde_json::to_string(&jobs).unwrap();
    let outputs = json!({"exitCode": "0", "parameters": [
        {"name": "jobs", "value": jobs_text, "valueFrom": {"path": "/tmp/tlc/jobs.json"}},
        {"name": "batch", "value": BATCH, "valueFrom": {"path": "/tmp/tlc/batch"}}]});
    let disc = nodes.add(
        &format!("{WF}[0].discovery"),
        "discovery",
        "Retry",
        "Succeeded",
        "discover",
        Some(&sg0),
        json!({"outputs": outputs, "finishedAt": "2026-11-21T10:00:09Z", "progress": "1/1"}),
    );
    let mut extra = pod_extra("Succeeded", Some("0"), None, "discovery/main.log");
    extra["outputs"]["parameters"] = outputs["parameters"].clone();
    let disc0 =
        nodes.add(&format!("{WF}[0].discovery(0)"), "discovery(0)", "Pod", "Succeeded", "discover", Some(&disc), extra);
    let sg1 = nodes.add(&format!("{WF}[1]"), "[1]", "StepGroup", phase, "lifecycle", Some(&disc0), json!({}));
    for (i, job) in jobs.iter().enumerate() {
        let (name, namespace) = (job["name"].as_str().unwrap(), job["namespace"].as_str().unwrap());
        let display = format!("bridge({i}:name:{name},namespace:{namespace})");
        let full = format!("{WF}[1].{display}");
        let (phase, attempts): (&str, Vec<AttemptSpec>) = match at(i) {
            At::Pending => ("Pending", vec![]),
            At::Running => {
                let (_, mut attempts) = outcome(i);
                let last = attempts.len() - 1;
                attempts[last] = ("Running", None, None);
                ("Running", attempts)
            }
            At::Done => outcome(i),
        };
        let mut extra = json!({"inputs": {"parameters": [{"name": "job", "value": format!("{namespace}/{name}")}, {"name": "batch", "value": BATCH}]}});
        if let Some((_, exit, message)) = attempts.last().copied().filter(|_| at(i) == At::Done) {
            extra["finishedAt"] = json!("2026-11-21T10:04:51Z");
            if let Some(exit) = exit {
                extra["outputs"] = json!({"exitCode": exit});
            }
            if let Some(m) = message {
                extra["message"] = json!(m);
            }
        }
        let retry = nodes.add(&full, &display, "Retry", phase, "bridge", Some(&sg1), extra);
        for (k, (phase, exit, message)) in attempts.iter().enumerate() {
            let mut extra = pod_extra(phase, *exit, *message, &format!("{WF}/{retry}-{k}/main.log"));
            extra["inputs"] = json!({"parameters": [{"name": "job", "value": format!("{namespace}/{name}")}, {"name": "batch", "value": BATCH}]});
            nodes.add(&format!("{full}({k})"), &format!("{display}({k})"), "Pod", phase, "bridge", Some(&retry), extra);
        }
    }
    let count = nodes.map.len();
    let json = serde_json::to_vec(&Value::Object(nodes.map)).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&json).unwrap();
    let compressed = gz.finish().unwrap();
    let mut status = json!({"phase": phase, "startedAt": "2026-11-21T10:00:00Z", "progress": progress,
        "compressedNodes": base64::engine::general_purpose::STANDARD.encode(&compressed)});
    if finished {
        status["finishedAt"] = json!("2026-11-21T10:09:51Z");
    }
    let wf = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": WF, "namespace": "argo", "uid": "5f0c1c5e-0000-4000-8000-00000000beef", "resourceVersion": revision.to_string(),
            "labels": {"app.kubernetes.io/managed-by": "tlc", "tlc.dev/engine": "argo", "tlc.dev/template": "tenant-lifecycle",
                "tlc.dev/operation": "lifecycle.upsert", "tlc.dev/batch-id": BATCH, "workflows.argoproj.io/phase": phase},
            "annotations": {"tlc.dev/tenant": "globex-prod", "workflows.argoproj.io/pod-name-format": "v2"}},
        "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"},
            "arguments": {"parameters": [{"name": "tenant", "value": "globex-prod"}, {"name": "operation", "value": "lifecycle.upsert"}]}},
        "status": status,
    });
    (wf, count, json.len())
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<44} min {:>7.2} ms   median {:>7.2} ms   max {:>7.2} ms   ({} iterations)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

fn measure<T>(mut f: impl FnMut() -> T) -> Vec<Duration> {
    // One untimed run warms caches and the allocator.
    std::hint::black_box(f());
    (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect()
}

/// This process's CPU time (user + system) from `/proc/self/stat`, in clock ticks of 10 ms (the
/// Linux x86-64 USER_HZ); `None` where there is no procfs.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: state is field 3, utime 14 and stime 15 (man 5 proc).
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Mean CPU time per call over many calls: on a machine shared with other work, wall-clock times
/// include the time the scheduler gave to others; CPU time does not.
fn cpu_per_call<T>(label: &str, calls: u32, mut f: impl FnMut() -> T) {
    let (Some(before), start) = (cpu_ticks(), Instant::now()) else {
        println!("{label:<44} CPU time: no /proc/self/stat here");
        return;
    };
    for _ in 0..calls {
        std::hint::black_box(f());
    }
    let wall = start.elapsed();
    let ticks = cpu_ticks().unwrap_or(before) - before;
    println!(
        "{label:<44} CPU {:>7.2} ms per call   wall {:>7.2} ms per call   (mean of {calls}; CPU ±{:.2} ms)",
        ticks as f64 * 10.0 / f64::from(calls),
        wall.as_secs_f64() * 1e3 / f64::from(calls),
        10.0 / f64::from(calls)
    );
}

/// Branches starting in each second of the followed run (as many finish: each runs
/// [`RUNNING_FOR`] seconds, so 50 are in flight, as the template's `parallelism: 50` allows).
const STARTS_PER_SECOND: usize = 25;
/// Seconds a branch of the followed run runs.
const RUNNING_FOR: usize = 2;
/// Times the followed run is replayed per view.
const PASSES: usize = 3;
const REGION: &str = "eu-west";
const TENANT_ID: &str = "1da11ccf-6654-4f57-8807-6bb944658fe6";

/// One second of the followed run: the Workflow as the watch delivers it (JSON text), and the
/// branch-pod events of that second.
struct Second {
    text: String,
    compressed: usize,
    pods: Vec<PodSnapshot>,
}

fn at_second(t: usize) -> Timestamp {
    "2026-11-21T10:00:10Z".parse::<Timestamp>().unwrap() + jiff::SignedDuration::from_secs(t as i64)
}

/// Branch `i`'s pod as the branch-pod watch reports it at second `t`.
fn branch_pod(i: usize, phase: Phase, t: usize) -> PodSnapshot {
    let (namespace, name) = job(i);
    let start = i / STARTS_PER_SECOND;
    let exit_code = match phase {
        Phase::Succeeded => Some(0),
        Phase::Failed => Some(3),
        _ => None,
    };
    PodSnapshot {
        pod_name: branch_pod_name(BATCH, &namespace, &name, 1),
        identity: BranchIdentity {
            batch_id: BATCH.into(),
            tenant_id: TENANT_ID.into(),
            tenant_name: "globex-prod".into(),
            operation: "lifecycle.upsert".into(),
            job_namespace: namespace,
            job_name: name,
            attempt: 1,
            engine: Some(Engine::Argo),
            region: REGION.into(),
            migration: None,
        },
        phase,
        exit_code,
        reason: None,
        created: Some(at_second(start)),
        started: (phase != Phase::Pending).then(|| at_second(start)),
        finished: phase.is_final().then(|| at_second(t)),
        deleting: false,
        containers: vec!["lifecycle".into()],
    }
}

/// The followed run, second by second: branch `i` starts in second `i / 25` and ends two seconds
/// later; the status (every branch's node, pending ones included) is written once a second.
fn followed_run() -> Vec<Second> {
    let seconds = BRANCHES / STARTS_PER_SECOND + RUNNING_FOR;
    (0..seconds)
        .map(|t| {
            let at = |i: usize| {
                let start = i / STARTS_PER_SECOND;
                if t < start {
                    At::Pending
                } else if t < start + RUNNING_FOR {
                    At::Running
                } else {
                    At::Done
                }
            };
            let (wf, _, _) = workflow(at, 1000 + t as u64);
            let compressed = wf["status"]["compressedNodes"].as_str().map_or(0, str::len);
            let mut pods = Vec::new();
            for i in 0..BRANCHES {
                let start = i / STARTS_PER_SECOND;
                if t == start {
                    // Created, then running: two events.
                    pods.push(branch_pod(i, Phase::Pending, t));
                    pods.push(branch_pod(i, Phase::Running, t));
                } else if t == start + RUNNING_FOR {
                    let phase = if outcome(i).0 == "Failed" { Phase::Failed } else { Phase::Succeeded };
                    pods.push(branch_pod(i, phase, t));
                }
            }
            Second { text: serde_json::to_string(&wf).unwrap(), compressed, pods }
        })
        .collect()
}

fn percentiles(label: &str, mut v: Vec<Duration>) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<52} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   (n={})",
        ms(at(0.5)),
        ms(at(0.99)),
        ms(v[v.len() - 1]),
        v.len()
    );
}

/// Replays the followed run into the console's state and draws it, as the console does: per
/// second, the watch's work on the status (parse the event's JSON, `WorkflowSeen::read`), then
/// `update` with the Workflow and that second's pod events and one frame; half a second later the
/// clock's tick and its frame.
fn follow(seconds: &[Second], view: &str) {
    let theme = Theme::default_theme();
    let (mut parse, mut read, mut change_frames, mut tick_frames) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut apply, mut apply_pods, mut scans, mut draws) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut streams = 0;
    let mut cpu_total = 0;
    let mut busy = Duration::ZERO;
    let mut tick_busy = Duration::ZERO;
    for _ in 0..PASSES {
        let mut app =
            App::new(&[(REGION.to_string(), REGION.to_string())], Engine::Argo, false, "/var/run/tlc/lifecycle");
        app.size = Size::new(200, 50);
        app.now = at_second(0);
        app.view = match view {
            "runs" => View::Runs,
            _ => View::Batch(BATCH.into()),
        };
        if matches!(app.view, View::Batch(_)) {
            // Opening a batch asks for its logs.
            app.log_interest.insert(BATCH.into());
        }
        let mut requested = Requested::default();
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).unwrap();
        let cpu_before = cpu_ticks().unwrap_or(0);
        for (t, second) in seconds.iter().enumerate() {
            let start = Instant::now();
            let object: DynamicObject = serde_json::from_str(&second.text).unwrap();
            let parsed = Instant::now();
            let seen = WorkflowSeen::read(REGION, &object);
            drop(object);
            let read_at = Instant::now();
            update(&mut app, Msg::Data(DataEvent::Run(RunEvent::Workflow(Box::new(seen)))));
            let applied = Instant::now();
            for pod in &second.pods {
                update(&mut app, Msg::Data(DataEvent::Run(RunEvent::Pod(pod.clone()))));
            }
            let pods_applied = Instant::now();
            // After each burst of events the loop asks for the logs of new branch pods (a scan of
            // every branch of the batches looked at): once for the Workflow, once for the pods.
            for _ in 0..2 {
                streams += new_log_streams(&app, |_| true, &mut requested).len();
            }
            let scanned = Instant::now();
            terminal.draw(|f| tlc::tui::views::draw(f, &app, &theme)).unwrap();
            let drawn = Instant::now();
            parse.push(parsed - start);
            read.push(read_at - parsed);
            apply.push(applied - read_at);
            apply_pods.push(pods_applied - applied);
            scans.push(scanned - pods_applied);
            draws.push(drawn - scanned);
            change_frames.push(drawn - read_at);
            busy += drawn - start;
            let tick = Instant::now();
            update(&mut app, Msg::Tick(at_second(t) + jiff::SignedDuration::from_millis(500)));
            terminal.draw(|f| tlc::tui::views::draw(f, &app, &theme)).unwrap();
            tick_frames.push(tick.elapsed());
            busy += tick.elapsed();
            tick_busy += tick.elapsed();
        }
        cpu_total += cpu_ticks().unwrap_or(0) - cpu_before;
        assert_eq!(app.runs.batches.len(), 1, "one batch");
        let batch = &app.runs.batches[BATCH];
        assert_eq!(batch.branches.len(), BRANCHES);
        assert!(batch.is_finished(), "the followed run ended");
        if !app.log_interest.is_empty() {
            assert_eq!(streams, BRANCHES, "each branch pod's log asked for once");
            streams = 0;
        }
    }
    let simulated = (seconds.len() * PASSES) as f64;
    println!("view {view} (200x50):");
    percentiles("  watch: parse the event's JSON", parse);
    percentiles("  watch: WorkflowSeen::read (decode + map)", read);
    let mut all = change_frames.clone();
    all.extend(tick_frames.iter().copied());
    percentiles("  frame after a status change (update + draw)", change_frames);
    percentiles("    of which update with the Workflow", apply);
    percentiles("    of which update with the second's pod events", apply_pods);
    percentiles("    of which the log streams' scan (2 a second)", scans);
    percentiles("    of which draw", draws);
    percentiles("  frame on the clock's tick (update + draw)", tick_frames);
    percentiles("  every frame", all);
    println!(
        "  CPU per second followed (all of the above): {:.1} ms = {:.1} % of a core by /proc/self/stat ({:.1} % by summed step times); between changes (the tick alone): {:.2} % of a core",
        cpu_total as f64 * 10.0 / simulated,
        cpu_total as f64 * 10.0 / simulated / 10.0,
        busy.as_secs_f64() / simulated * 100.0,
        tick_busy.as_secs_f64() / simulated * 100.0
    );
}

fn follow_all() {
    let generating = Instant::now();
    let seconds = followed_run();
    let mut sizes: Vec<usize> = seconds.iter().map(|s| s.text.len()).collect();
    let mut compressed: Vec<usize> = seconds.iter().map(|s| s.compressed).collect();
    sizes.sort_unstable();
    compressed.sort_unstable();
    let kib = |b: usize| b as f64 / 1024.0;
    println!();
    println!(
        "following a {BRANCHES}-branch run: {} status writes, one a second ({STARTS_PER_SECOND} branches start and {STARTS_PER_SECOND} end each second, 50 in flight), {} pod events; replayed {PASSES} times per view (generated in {:.1} s, not measured)",
        seconds.len(),
        seconds.iter().map(|s| s.pods.len()).sum::<usize>(),
        generating.elapsed().as_secs_f64()
    );
    println!(
        "  status writes: whole object min {:.0} / median {:.0} / max {:.0} KiB; status.compressedNodes (base64) min {:.0} / median {:.0} / max {:.0} KiB",
        kib(sizes[0]),
        kib(sizes[sizes.len() / 2]),
        kib(sizes[sizes.len() - 1]),
        kib(compressed[0]),
        kib(compressed[compressed.len() / 2]),
        kib(compressed[compressed.len() - 1])
    );
    for view in ["runs", "batch"] {
        follow(&seconds, view);
    }
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    if wanted("decode") {
        decode();
    }
    if wanted("follow") {
        follow_all();
    }
}

fn decode() {
    // One branch in eight still running (of those not failed or retried), the rest ended.
    let running = |i: usize| i % 8 == 5 && i % 50 != 7 && i % 10 != 3;
    let (wf, nodes, json_len) = workflow(|i| if running(i) { At::Running } else { At::Done }, 991);
    let text = serde_json::to_string(&wf).unwrap();
    let b64_len = wf["status"]["compressedNodes"].as_str().unwrap().len();
    println!("argo_status: tlc's template, {BRANCHES} branches, {nodes} nodes");
    println!(
        "  node map JSON {:.2} MiB; gzip {:.0} KiB; base64 in status.compressedNodes {:.0} KiB; whole object {:.0} KiB",
        json_len as f64 / 1_048_576.0,
        b64_len as f64 * 3.0 / 4.0 / 1024.0,
        b64_len as f64 / 1024.0,
        text.len() as f64 / 1024.0
    );

    let run = WorkflowRun::from_value(&wf).unwrap();
    assert_eq!(run.stage, Stage::FannedOut);
    assert_eq!(run.branches.len(), BRANCHES);
    let counts = run.counts();
    println!(
        "  mapped: {} succeeded, {} failed, {} running; {} attempts",
        counts.get(&State::Succeeded).unwrap_or(&0),
        counts.get(&State::Failed).unwrap_or(&0),
        counts.get(&State::Running).unwrap_or(&0),
        run.branches.iter().map(|b| b.attempts().len()).sum::<usize>()
    );

    if std::env::var_os("ARGO_STATUS_PROFILE").is_some() {
        // For a profiler (`perf record`): decode + map only, many times.
        for _ in 0..500 {
            std::hint::black_box(WorkflowRun::from_value(&wf).unwrap());
        }
        return;
    }
    let compressed = wf["status"]["compressedNodes"].as_str().unwrap();
    report("  of which base64 + gunzip", measure(|| status::decompress_nodes(compressed).unwrap()));
    report(
        "  of which all of decoding (nodes lent)",
        measure(|| status::with_status_nodes(&wf["status"], |d| d.nodes.len()).unwrap()),
    );
    report("decode + map (object as watched)", measure(|| WorkflowRun::from_value(&wf).unwrap()));
    cpu_per_call("decode + map, CPU time", 300, || WorkflowRun::from_value(&wf).unwrap());
    report(
        "parse JSON text + decode + map",
        measure(|| WorkflowRun::from_value(&serde_json::from_str::<Value>(&text).unwrap()).unwrap()),
    );
    let mut failed = wf.clone();
    failed["status"]["phase"] = json!("Failed");
    let plan = actions::retry(&failed, "2026-11-21T12:00:00Z".parse().unwrap()).unwrap();
    println!("  retry: {} pods to delete, {} branches run again", plan.pods_to_delete.len(), plan.rerun.len());
    report(
        "retry (decode, plan, re-compress)",
        measure(|| actions::retry(&failed, "2026-11-21T12:00:00Z".parse().unwrap()).unwrap()),
    );
}
