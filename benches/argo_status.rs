//! Reading a large Argo Workflow's status, measured (never asserted):
//! `cargo bench --bench argo_status`.
//!
//! A Workflow of tlc's template (`deploy/argo/workflow-template.yaml`) with 2,000 branches, as
//! the controller would store it: every node with the fields Argo writes (ids, names, scope,
//! times, progress, resources, inputs, the bridge's log artifact), one branch in ten with a
//! retried attempt, one in fifty failed; the node map gzip-compressed into
//! `status.compressedNodes` (it is far past Argo's 1 MiB limit as JSON). Reported: the sizes, and
//! min/median/max over the iterations of
//!
//! - decode + map: `WorkflowRun::from_value` on the object as a watch delivers it (base64,
//!   gunzip, JSON, mapping) — the bar is 20 ms;
//! - the same from the object's JSON text (the parse a watch event costs on top);
//!   Its mean CPU time is reported too: wall-clock times on a machine shared with other work
//!   include the time the scheduler gave to others;
//! - formulating a retry of the same workflow marked Failed (decode, plan, re-compress).
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failed run with its message

use std::io::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Value, json};
use tlc::lifecycle::argo::actions;
use tlc::lifecycle::argo::mapping::{Stage, State, WorkflowRun};
use tlc::lifecycle::argo::status::{self, node_id};

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

/// The workflow, its node count and its JSON node map size.
fn workflow() -> (Value, usize, usize) {
    let mut nodes = Nodes { map: Map::new() };
    nodes.add(WF, WF, "Steps", "Running", "lifecycle", None, json!({"progress": "1800/2201"}));
    let sg0 = nodes.add(&format!("{WF}[0]"), "[0]", "StepGroup", "Succeeded", "lifecycle", Some(WF), json!({}));
    let jobs: Vec<Value> = (0..BRANCHES)
        .map(|i| json!({"name": format!("team-{i:04}-lifecycle"), "namespace": format!("team-{:03}", i % 400)}))
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
    let sg1 = nodes.add(&format!("{WF}[1]"), "[1]", "StepGroup", "Running", "lifecycle", Some(&disc0), json!({}));
    for (i, job) in jobs.iter().enumerate() {
        let (name, namespace) = (job["name"].as_str().unwrap(), job["namespace"].as_str().unwrap());
        let display = format!("bridge({i}:name:{name},namespace:{namespace})");
        let full = format!("{WF}[1].{display}");
        // One in fifty failed with exit 3, one in ten retried after an infrastructure error,
        // one in eight still running, the rest succeeded.
        let (phase, attempts): (&str, Vec<AttemptSpec>) = if i % 50 == 7 {
            ("Failed", vec![("Failed", Some("3"), Some("main: Error (exit code 3)"))])
        } else if i % 10 == 3 {
            ("Succeeded", vec![("Error", None, Some("pod deleted")), ("Succeeded", Some("0"), None)])
        } else if i % 8 == 5 {
            ("Running", vec![("Running", None, None)])
        } else {
            ("Succeeded", vec![("Succeeded", Some("0"), None)])
        };
        let mut extra = json!({"inputs": {"parameters": [{"name": "job", "value": format!("{namespace}/{name}")}, {"name": "batch", "value": BATCH}]}});
        if let Some((_, exit, message)) = attempts.last().copied().filter(|_| phase != "Running") {
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
    let wf = json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": WF, "namespace": "argo", "uid": "5f0c1c5e-0000-4000-8000-00000000beef", "resourceVersion": "991",
            "labels": {"app.kubernetes.io/managed-by": "tlc", "tlc.dev/engine": "argo", "tlc.dev/template": "tenant-lifecycle",
                "tlc.dev/operation": "lifecycle.upsert", "tlc.dev/batch-id": BATCH, "workflows.argoproj.io/phase": "Running"},
            "annotations": {"tlc.dev/tenant": "globex-prod", "workflows.argoproj.io/pod-name-format": "v2"}},
        "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"},
            "arguments": {"parameters": [{"name": "tenant", "value": "globex-prod"}, {"name": "operation", "value": "lifecycle.upsert"}]}},
        "status": {"phase": "Running", "startedAt": "2026-11-21T10:00:00Z", "progress": "1800/2201",
            "compressedNodes": base64::engine::general_purpose::STANDARD.encode(&compressed)},
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

fn main() {
    let (wf, nodes, json_len) = workflow();
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
