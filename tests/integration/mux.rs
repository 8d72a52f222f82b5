//! The log multiplexer over real branch pods: with log streams cut every few lines and a forced
//! watch 410, every line of every branch arrives exactly once and in order; the budget caps
//! concurrent streams; priorities decide the order; hostile lines come out inert.

use std::collections::BTreeMap;

use crate::common::{DEADLINE, cluster, cluster_with, run_pod, script_pod};
use embedded_cluster::ClusterConfig;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use tlc::contract::JobRef;
use tlc::lifecycle::run::{Phase, RunState, update};
use tlc::logs::follow::{End, Source};
use tlc::logs::mux::{Mux, MuxEvent, Priority, StreamKey, Want};
use tlc::logs::sanitize::SafeLine;
use tokio::sync::mpsc;

fn key(pod: &str) -> StreamKey {
    StreamKey { batch_id: "b".into(), job: JobRef::new("default", pod), attempt: 1, container: "main".into() }
}

fn want(client: &kube::Client, pod: &str, live: bool, priority: Priority) -> Want {
    Want {
        key: key(pod),
        source: Source {
            region: "test".into(),
            namespace: "default".into(),
            pod: pod.into(),
            container: "main".into(),
        },
        client: client.clone(),
        live,
        priority,
    }
}

/// Collects the merged stream until `streams` streams have ended; returns lines per pod and end order.
async fn drain(mut rx: mpsc::Receiver<MuxEvent>, streams: usize) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ended = Vec::new();
    while ended.len() < streams {
        match tokio::time::timeout(DEADLINE, rx.recv()).await.expect("the stream keeps moving").expect("open") {
            MuxEvent::Lines { key, lines: batch } => {
                lines.entry(key.job.name).or_default().extend(batch.iter().map(|(_, line)| line.plain()));
            }
            MuxEvent::Ended { key, result } => {
                assert_eq!(result, Ok(End::Complete), "{key:?}");
                ended.push(key.job.name);
            }
        }
    }
    (lines, ended)
}

#[tokio::test]
async fn every_line_once_and_in_order_with_cut_streams_and_a_forced_410() {
    let mut config = ClusterConfig::new("test").with_time_scale(1.0);
    config.kubelet.startup_delay = std::time::Duration::ZERO;
    let c = cluster_with(config).await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    c.faults().cut_logs_after(Some(7));
    // A label watch feeds the run model, as in `tlc run`; it must survive a forced 410.
    let (tx, mut events) = mpsc::unbounded_channel();
    tokio::spawn(tlc::lifecycle::watch::forward_branches(client.clone(), Some("suite=mux".into()), c.url(), tx));
    let (mux, merged) = Mux::start(8);
    let names: Vec<String> = (0..4).map(|i| format!("branch-{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let script = format!(
            "i=0\nwhile [ $i -lt 25 ]; do\n  echo \"{name} line $i\"\n  sleep 0.{}\n  i=$((i+1))\ndone",
            17 + i
        );
        let mut pod = script_pod(name, &script);
        let id = tlc::contract::BranchIdentity {
            batch_id: "b".into(),
            tenant_id: "t".into(),
            tenant_name: "acme".into(),
            operation: "lifecycle.upsert".into(),
            job_namespace: "default".into(),
            job_name: name.clone(),
            attempt: 1,
            engine: Some(tlc::contract::Engine::Direct),
            region: "test".into(),
            migration: None,
        };
        let mut labels = id.labels();
        labels.insert("suite".into(), "mux".into());
        pod.metadata.labels = Some(labels);
        pod.metadata.annotations = Some(id.annotations());
        pods.create(&Default::default(), &pod).await.expect("create");
        mux.want(want(&client, name, true, Priority::Pending));
    }
    let model = tokio::spawn(async move {
        let mut state = RunState::default();
        while let Some(ev) = events.recv().await {
            update(&mut state, ev);
            if state.batches.get("b").is_some_and(|b| b.branches.len() == 4 && b.phase() == Phase::Succeeded) {
                return state;
            }
        }
        state
    });
    // Mid-run: forget the watch history and cut every watch, forcing the relist path.
    crate::common::eventually("branches to be running", || {
        let pods = pods.clone();
        async move {
            let list = pods.list(&Default::default()).await.ok()?;
            list.items
                .iter()
                .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
                .then_some(())
        }
    })
    .await;
    c.store().compact_history();
    c.faults().drop_watches();
    let (lines, _) = drain(merged, 4).await;
    for name in &names {
        let expected: Vec<String> = (0..25).map(|i| format!("{name} line {i}")).collect();
        assert_eq!(lines.get(name), Some(&expected), "{name}: every line once, in order");
    }
    let state = tokio::time::timeout(DEADLINE, model).await.expect("model converges").expect("joins");
    assert_eq!(state.batches["b"].phase(), Phase::Succeeded, "the model recovered from the 410");
}

#[tokio::test]
async fn the_budget_caps_concurrent_streams_and_priorities_order_them() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    for i in 0..6 {
        run_pod(
            &pods,
            &script_pod(&format!("done-{i}"), "i=0; while [ $i -lt 300 ]; do echo \"line $i\"; i=$((i+1)); done"),
        )
        .await;
    }
    c.metrics().log_streams.reset_peak();
    let (mux, merged) = Mux::start(2);
    for i in 0..6 {
        mux.want(want(&client, &format!("done-{i}"), false, Priority::Finished));
    }
    let (lines, _) = drain(merged, 6).await;
    assert_eq!(lines.len(), 6);
    assert!(lines.values().all(|l| l.len() == 300));
    assert!(c.metrics().log_streams.peak() <= 2, "peak {} streams", c.metrics().log_streams.peak());

    // One stream at a time: after the first, the most urgent go first.
    let (mux, merged) = Mux::start(1);
    mux.want(want(&client, "done-0", false, Priority::Finished));
    mux.want(want(&client, "done-1", false, Priority::Finished));
    mux.want(want(&client, "done-2", false, Priority::Running));
    mux.want(want(&client, "done-3", false, Priority::Failed));
    mux.want(want(&client, "done-1", false, Priority::Running)); // raised while queued
    let (_, order) = drain(merged, 4).await;
    assert_eq!(order, vec!["done-0", "done-2", "done-1", "done-3"]);
}

#[tokio::test]
async fn hostile_lines_come_out_inert() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let script = r#"printf '\033]0;pwned\007\033[2J\033[Hrm -rf /\010\010\010\010\010\010\010\010ls\n'
printf '\033]52;c;ZWNobyBwd25lZA==\007clipboard\n'
printf '\033[31mred\033[0m plain \233 2J csi8\n'
printf 'bell\007 null\000 tab\there\n'"#;
    run_pod(&pods, &script_pod("hostile", script)).await;
    let (mux, merged) = Mux::start(1);
    mux.want(want(&client, "hostile", false, Priority::Failed));
    let (lines, _) = drain(merged, 1).await;
    let got = &lines["hostile"];
    assert_eq!(got.len(), 4);
    for line in got {
        assert!(!line.chars().any(|c| c.is_control()), "no control characters survive: {line:?}");
    }
    assert!(got[0].contains("rm -rf /") && got[0].ends_with("ls"), "{got:?}");
    assert!(!got[0].contains("pwned"), "the title payload is dropped: {got:?}");
    assert_eq!(got[1], "clipboard");
    assert!(got[2].starts_with("red plain"), "{got:?}");
    let _ = SafeLine::default();
}
