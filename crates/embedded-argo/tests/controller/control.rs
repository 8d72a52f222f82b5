//! Controlling a running workflow: parallelism, Stop and Terminate, suspend, the workflow deadline.

use std::collections::HashMap;

use embedded_argo::ControllerConfig;
use embedded_argo::status::NodePhase;
use embedded_cluster::testing::DEADLINE;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher::Event;
use serde_json::json;

use crate::common::{node, nodes, pod_name, start};

fn active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    matches!(phase, "Pending" | "Running") && pod.metadata.deletion_timestamp.is_none()
}

#[tokio::test]
async fn parallelism_is_never_exceeded() {
    // Controller time real: the finished workflow is not deleted at once (TTL) and stays to be read.
    let env =
        start(0.0, ControllerConfig::default().with_time_scale(1.0), Some(&|t| t["spec"]["parallelism"] = json!(2)))
            .await;
    let jobs: Vec<(String, String)> = (0..6).map(|i| ("team-a".to_string(), format!("job-{i}"))).collect();
    let refs: Vec<(&str, &str)> = jobs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    env.jobs(&refs);
    env.stub.behaviour.lock().expect("lock").gated = jobs.iter().map(|(ns, n)| format!("{ns}/{n}")).collect();
    let mut events = env.watch_pods("tl-par");
    env.submit("tl-par").await;
    let mut pods: HashMap<String, Pod> = HashMap::new();
    let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
    let (mut max_active, mut released) = (0usize, 0usize);
    let finished = tokio::time::timeout(DEADLINE, async {
        while let Some(event) = events.recv().await {
            match event {
                Event::Apply(p) | Event::InitApply(p) => {
                    pods.insert(p.metadata.name.clone().unwrap_or_default(), p);
                }
                Event::Delete(p) => {
                    pods.remove(&p.metadata.name.clone().unwrap_or_default());
                }
                _ => {}
            }
            let running: Vec<&Pod> = pods
                .values()
                .filter(|p| p.metadata.name.as_deref().is_some_and(|n| n.contains("-bridge-")) && active(p))
                .collect();
            max_active = max_active.max(running.len());
            for p in pods.values() {
                let name = p.metadata.name.clone().unwrap_or_default();
                if name.contains("-bridge-") && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded")
                {
                    done.insert(name);
                }
            }
            let succeeded = done.len();
            if succeeded == 6 {
                return;
            }
            // Release one bridge when two are running (or when the last ones are): the next may
            // only start after one ends.
            let main_running = running
                .iter()
                .filter(|p| {
                    p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).is_some_and(|cs| {
                        cs.iter().any(|c| c.name == "main" && c.state.as_ref().is_some_and(|s| s.running.is_some()))
                    })
                })
                .count();
            if released == succeeded && main_running > 0 && (main_running == 2 || succeeded + main_running == 6) {
                env.stub.gate.add_permits(1);
                released += 1;
            }
        }
    })
    .await;
    assert!(finished.is_ok(), "all six bridges ran (released {released})");
    assert_eq!(max_active, 2, "never more than parallelism 2 bridge pods at once");
    let wf = env.wait_phase("tl-par", "Succeeded").await;
    assert_eq!(nodes(&wf).values().filter(|n| n.name.ends_with(")(0)") && n.phase == NodePhase::Succeeded).count(), 6);
}

/// Steps in parallel: `run` (a bridge that waits), `stuck` (pending forever: its ConfigMap is
/// missing) and `later` (held back by parallelism 2).
fn stoppable(name: &str) -> serde_json::Value {
    let tlc = |job: &str| json!({"image": "tlc", "command": ["tlc"], "args": ["bridge", format!("--job={job}")]});
    json!({"metadata": {"name": name, "namespace": "argo"}, "spec": {"entrypoint": "main", "parallelism": 2,
        "volumes": [{"name": "missing", "configMap": {"name": "does-not-exist"}}],
        "templates": [
            {"name": "main", "steps": [[
                {"name": "run", "template": "run"}, {"name": "stuck", "template": "stuck"}, {"name": "later", "template": "run"}]]},
            {"name": "run", "container": tlc("team-a/run")},
            {"name": "stuck", "container": {"image": "busybox", "command": ["sh", "-c", "echo never"],
                "volumeMounts": [{"name": "missing", "mountPath": "/m"}]}}]}})
}

async fn stop_with(strategy: &str) {
    let env = start(0.0, ControllerConfig::default().with_time_scale(1.0), None).await;
    env.stub.behaviour.lock().expect("lock").gated = vec!["team-a/run".into()];
    let name = format!("stop-{}", strategy.to_lowercase());
    env.create(stoppable(&name)).await;
    let run_node = format!("{name}[0].run");
    let run_pod = pod_name(&name, &run_node, "run");
    let stuck_pod = pod_name(&name, &format!("{name}[0].stuck"), "stuck");
    env.wait_for(&name, "run running and stuck pending", |w| {
        let n = nodes(w);
        let phase = |s: &str| n.get(&crate::common::id(&name, &format!("{name}[0].{s}"))).map(|n| n.phase);
        phase("run") == Some(NodePhase::Running) && phase("stuck") == Some(NodePhase::Pending)
    })
    .await;
    assert_eq!(env.pod_names(&name).await, {
        let mut v = vec![run_pod.clone(), stuck_pod.clone()];
        v.sort();
        v
    });
    env.patch_spec(&name, json!({"shutdown": strategy})).await;
    let wf = env.wait_phase(&name, "Failed").await;
    let message = format!("Stopped with strategy '{strategy}'");
    assert_eq!(wf["status"]["message"], json!(message));
    let run = node(&wf, &run_node);
    assert_eq!(
        (run.phase, run.message.clone()),
        (NodePhase::Failed, format!("workflow shutdown with strategy:  {strategy}"))
    );
    let stuck = node(&wf, &format!("{name}[0].stuck"));
    assert_eq!(stuck.message, format!("workflow shutdown with strategy:  {strategy}"));
    let later = node(&wf, &format!("{name}[0].later"));
    assert_eq!(
        (later.phase, later.message.clone()),
        (NodePhase::Failed, format!("workflow shutdown with strategy: {strategy}"))
    );
    // The pending pod was deleted; the running bridge got SIGTERM through the emissary.
    embedded_cluster::testing::eventually("the pending pod deleted", || async {
        (!env.pod_names(&name).await.contains(&stuck_pod)).then_some(())
    })
    .await;
    let log = env.log(&run_pod, "main").await;
    assert!(log.contains("bridge team-a/run stopping"), "{log}");
    assert!(env.pod_names(&name).await.iter().all(|p| !p.contains("later")), "the unstarted step never got a pod");
}

#[tokio::test]
async fn stop_deletes_pending_pods_signals_running_mains_and_fails_with_argos_messages() {
    stop_with("Stop").await;
}

#[tokio::test]
async fn terminate_does_the_same_for_this_subset() {
    stop_with("Terminate").await;
}

#[tokio::test]
async fn suspend_creates_no_new_nodes_until_resumed() {
    let env = start(0.0, ControllerConfig::default(), None).await;
    env.stub.behaviour.lock().expect("lock").gated = vec!["team-a/first".into()];
    let tlc = |job: &str| json!({"image": "tlc", "command": ["tlc"], "args": ["bridge", format!("--job={job}")]});
    env.create(json!({"metadata": {"name": "susp", "namespace": "argo"}, "spec": {"entrypoint": "main", "templates": [
        {"name": "main", "steps": [[{"name": "first", "template": "first"}], [{"name": "second", "template": "second"}]]},
        {"name": "first", "container": tlc("team-a/first")},
        {"name": "second", "container": tlc("team-a/second")}]}}))
    .await;
    env.wait_for("susp", "first running", |w| {
        nodes(w).values().any(|n| n.name == "susp[0].first" && n.phase == NodePhase::Running)
    })
    .await;
    env.patch_spec("susp", json!({"suspend": true})).await;
    // Let the first step finish while suspended (the patch is stored: every operation from now on
    // sees it): its node completes, nothing new starts.
    env.stub.gate.add_permits(1);
    let wf = env
        .wait_for("susp", "first succeeded", |w| {
            nodes(w).values().any(|n| n.name == "susp[0].first" && n.phase == NodePhase::Succeeded)
        })
        .await;
    assert!(nodes(&wf).values().all(|n| !n.name.starts_with("susp[1]")), "no new nodes while suspended");
    assert_eq!(wf["status"]["phase"], "Running");
    assert!(env.pod_names("susp").await.iter().all(|p| !p.contains("second")));
    env.patch_spec("susp", json!({"suspend": false})).await;
    let wf = env.wait_phase("susp", "Succeeded").await;
    assert_eq!(node(&wf, "susp[1].second").phase, NodePhase::Succeeded);
}

#[tokio::test]
async fn the_workflow_deadline_fails_what_still_runs() {
    // Simulated time at a hundredth: a 30 s deadline is 0.3 s.
    let env = start(0.01, ControllerConfig::default(), None).await;
    env.stub.behaviour.lock().expect("lock").gated = vec!["team-a/slow".into()];
    env.create(json!({"metadata": {"name": "late", "namespace": "argo"}, "spec": {"entrypoint": "main", "activeDeadlineSeconds": 30,
        "templates": [
            {"name": "main", "steps": [[{"name": "slow", "template": "slow"}], [{"name": "never", "template": "slow"}]]},
            {"name": "slow", "container": {"image": "tlc", "command": ["tlc"], "args": ["bridge", "--job=team-a/slow"]}}]}}))
    .await;
    let wf = env.wait_phase("late", "Failed").await;
    let slow = node(&wf, "late[0].slow");
    assert_eq!(slow.phase, NodePhase::Failed);
    assert!(
        ["Step exceeded its deadline", "Pod was active on the node longer than the specified deadline"]
            .contains(&slow.message.as_str()),
        "{}",
        slow.message
    );
    assert!(nodes(&wf).values().all(|n| !n.name.starts_with("late[1]")), "nothing after the deadline");
    let pod = env.pods().get(&pod_name("late", "late[0].slow", "slow")).await.expect("pod");
    assert!(
        pod.spec.and_then(|s| s.active_deadline_seconds).is_some_and(|d| d > 0 && d <= 30),
        "the pod carries what is left"
    );
}
