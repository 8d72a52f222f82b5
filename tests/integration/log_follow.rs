//! The console's log follower against a cluster that cuts log streams every few lines: every line a
//! script printed arrives exactly once and in order, while it runs and after it finished.

use crate::common::{DEADLINE, cluster_with, script_pod, wait_finished};
use embedded_cluster::ClusterConfig;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use tlc::logs::follow::{End, RawLine, Source, follow};
use tlc::logs::resume::Cursor;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

async fn collect(client: &kube::Client, pod: &str, live: bool) -> (End, Vec<String>) {
    let source =
        Source { region: "test".into(), namespace: "default".into(), pod: pod.into(), container: "main".into() };
    let (tx, mut rx) = mpsc::channel::<Vec<RawLine>>(64);
    let stop = CancellationToken::new();
    let client = client.clone();
    let task = tokio::spawn(async move {
        let mut cursor = Cursor::default();
        follow(&client, &source, live, &mut cursor, &tx, &stop).await
    });
    let mut lines = Vec::new();
    while let Some(batch) = tokio::time::timeout(DEADLINE, rx.recv()).await.expect("lines keep coming") {
        lines.extend(batch.into_iter().map(|line| String::from_utf8(line.text).expect("utf8")));
    }
    let end = task.await.expect("joins").expect("follows");
    (end, lines)
}

#[tokio::test]
async fn every_line_once_and_in_order_across_cut_streams() {
    // Real time, about five lines a second: a resumed stream repeats at most the lines of one
    // second (sinceTime has whole-second precision), fewer than the seven a stream may carry.
    let mut config = ClusterConfig::new("test").with_time_scale(1.0);
    config.kubelet.startup_delay = std::time::Duration::ZERO;
    let c = cluster_with(config).await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let script = "i=0\nwhile [ $i -lt 30 ]; do\n  echo \"line $i\"\n  sleep 0.19\n  i=$((i+1))\ndone";
    pods.create(&PostParams::default(), &script_pod("chatty", script)).await.expect("create");
    c.faults().cut_logs_after(Some(7));
    let expected: Vec<String> = (0..30).map(|i| format!("line {i}")).collect();
    let (end, live) = collect(&client, "chatty", true).await;
    assert_eq!(end, End::Complete);
    assert_eq!(live, expected, "no line lost, duplicated or reordered while following");
    wait_finished(&pods, "chatty").await;
    // Reading the finished log through the same cuts gives the same lines.
    let (end, after) = collect(&client, "chatty", false).await;
    assert_eq!((end, after), (End::Complete, expected));
}

#[tokio::test]
async fn a_stream_cut_before_any_progress_is_reported_not_retried_forever() {
    let c = cluster_with(ClusterConfig::new("test").with_time_scale(0.0)).await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let dense = "i=0\nwhile [ $i -lt 200 ]; do echo \"line $i\"; i=$((i+1)); done";
    pods.create(&PostParams::default(), &script_pod("dense", dense)).await.expect("create");
    wait_finished(&pods, "dense").await;
    c.faults().cut_logs_after(Some(3));
    let source =
        Source { region: "test".into(), namespace: "default".into(), pod: "dense".into(), container: "main".into() };
    let (tx, mut rx) = mpsc::channel::<Vec<RawLine>>(1024);
    let drain = tokio::spawn(async move {
        let mut n = 0;
        while let Some(batch) = rx.recv().await {
            n += batch.len();
        }
        n
    });
    let mut cursor = Cursor::default();
    let result =
        tokio::time::timeout(DEADLINE, follow(&client, &source, false, &mut cursor, &tx, &CancellationToken::new()))
            .await
            .expect("gives up in time");
    drop(tx);
    let err = result.expect_err("no progress is an error");
    assert!(err.to_string().contains("was cut 6 times in a row before any new line arrived"), "{err}");
    assert_eq!(drain.await.expect("joins"), 3, "the first three lines arrived once");
}

#[tokio::test]
async fn following_a_pod_that_is_not_running_yet_waits_for_it() {
    let mut config = ClusterConfig::new("test").with_time_scale(1.0);
    config.kubelet.startup_delay = std::time::Duration::from_millis(300);
    let c = cluster_with(config).await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &script_pod("later", "echo first\necho second")).await.expect("create");
    let (end, lines) = collect(&client, "later", true).await;
    assert_eq!((end, lines), (End::Complete, vec!["first".to_string(), "second".to_string()]));
    let (end, lines) = collect(&client, "nope", true).await;
    assert_eq!((end, lines.len()), (End::PodGone, 0));
}

#[tokio::test]
async fn a_follower_that_may_read_logs_but_not_the_pod_reports_the_refusal_instead_of_following_forever() {
    use embedded_cluster::auth::{Rule, User};
    let c = cluster_with(ClusterConfig::new("test").with_time_scale(0.0)).await;
    let admin = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(admin, "default");
    pods.create(&PostParams::default(), &script_pod("done", "echo only line")).await.expect("create");
    wait_finished(&pods, "done").await;
    let rule = Rule {
        verbs: vec!["get".into()],
        api_groups: vec![String::new()],
        resources: vec!["pods/log".into()],
        namespaces: None,
    };
    c.add_user(User { name: "log-reader".into(), token: "log-reader-token".into(), rules: vec![rule] });
    let client = c.client_as("log-reader-token").await.expect("client");
    let source =
        Source { region: "test".into(), namespace: "default".into(), pod: "done".into(), container: "main".into() };
    let (tx, mut rx) = mpsc::channel::<Vec<RawLine>>(64);
    let mut cursor = Cursor::default();
    let result =
        tokio::time::timeout(DEADLINE, follow(&client, &source, true, &mut cursor, &tx, &CancellationToken::new()))
            .await
            .expect("ends in time");
    drop(tx);
    let err = result.expect_err("whether the container ended cannot be known");
    assert!(matches!(err, tlc::lifecycle::error::Error::Forbidden { .. }), "{err}");
    assert!(
        err.to_string().contains(
            "pods \"done\" is forbidden: User \"log-reader\" cannot get resource \"pods\" in API group \"\" in the namespace \"default\""
        ),
        "{err}"
    );
    let mut lines = Vec::new();
    while let Some(batch) = rx.recv().await {
        lines.extend(batch.into_iter().map(|l| String::from_utf8(l.text).expect("utf8")));
    }
    assert_eq!(lines, ["only line"], "the log itself arrived");
}
