//! Watches through kube-rs: every change is seen, the watcher recovers from dropped connections and
//! from a forced 410, bookmarks arrive when asked for, and `timeoutSeconds` closes the stream.

use std::collections::BTreeMap;
use std::time::Duration;

use embedded_cluster::ClusterConfig;
use embedded_cluster::testing::{DEADLINE, cluster, cluster_with};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::json;
use tokio::sync::watch;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"suite": "watch"}}, "data": {"v": value}}))
        .expect("cm")
}

/// Feeds a watcher's events into a name → value map published on a watch channel.
fn mirror(api: Api<ConfigMap>) -> watch::Receiver<BTreeMap<String, String>> {
    let (tx, rx) = watch::channel(BTreeMap::new());
    tokio::spawn(async move {
        let mut state: BTreeMap<String, String> = BTreeMap::new();
        let mut init: BTreeMap<String, String> = BTreeMap::new();
        let stream = watcher::watcher(api, watcher::Config::default().labels("suite=watch")).default_backoff();
        futures::pin_mut!(stream);
        while let Some(event) = stream.next().await {
            let Ok(event) = event else { continue };
            let value = |c: &ConfigMap| c.data.as_ref().and_then(|d| d.get("v")).cloned().unwrap_or_default();
            match event {
                Event::Apply(c) => {
                    state.insert(c.metadata.name.clone().unwrap_or_default(), value(&c));
                }
                Event::Delete(c) => {
                    state.remove(&c.metadata.name.clone().unwrap_or_default());
                }
                Event::Init => init.clear(),
                Event::InitApply(c) => {
                    init.insert(c.metadata.name.clone().unwrap_or_default(), value(&c));
                }
                Event::InitDone => state = std::mem::take(&mut init),
            }
            tx.send_replace(state.clone());
        }
    });
    rx
}

async fn wait_for(rx: &mut watch::Receiver<BTreeMap<String, String>>, expected: &BTreeMap<String, String>) {
    let reached = rx.wait_for(|s| s == expected);
    tokio::time::timeout(DEADLINE, reached)
        .await
        .expect("watcher converges before the deadline")
        .expect("watcher alive");
}

#[tokio::test]
async fn watcher_sees_every_change_across_dropped_watches_and_a_forced_410() {
    let c = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    let mut rx = mirror(api.clone());
    let mut expected = BTreeMap::new();
    for i in 0..40 {
        api.create(&PostParams::default(), &cm(&format!("c{i:02}"), "0")).await.expect("create");
        expected.insert(format!("c{i:02}"), "0".to_string());
    }
    wait_for(&mut rx, &expected).await;

    c.faults().drop_watches();
    for i in 0..40 {
        api.patch(&format!("c{i:02}"), &PatchParams::default(), &Patch::Merge(json!({"data": {"v": "1"}})))
            .await
            .expect("patch");
        expected.insert(format!("c{i:02}"), "1".to_string());
    }
    wait_for(&mut rx, &expected).await;

    // Forget the history, then cut the watch: the re-watch from the old version must get 410 and the
    // watcher must relist to recover the changes made while it was disconnected.
    c.store().compact_history();
    c.faults().drop_watches();
    for i in 0..20 {
        api.delete(&format!("c{i:02}"), &DeleteParams::default()).await.expect("delete");
        expected.remove(&format!("c{i:02}"));
    }
    for i in 20..40 {
        api.patch(&format!("c{i:02}"), &PatchParams::default(), &Patch::Merge(json!({"data": {"v": "2"}})))
            .await
            .expect("patch");
        expected.insert(format!("c{i:02}"), "2".to_string());
    }
    c.store().compact_history();
    wait_for(&mut rx, &expected).await;
}

#[tokio::test]
async fn watch_from_a_compacted_version_gets_an_in_band_410() {
    let c = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    let first = api.create(&PostParams::default(), &cm("a", "0")).await.expect("create");
    let rv = first.metadata.resource_version.clone().expect("rv");
    api.create(&PostParams::default(), &cm("b", "0")).await.expect("create");
    c.store().compact_history();
    let mut events = api.watch(&WatchParams::default(), &rv).await.expect("HTTP 200, error in band").boxed();
    let event =
        tokio::time::timeout(DEADLINE, events.try_next()).await.expect("event").expect("decodes").expect("one event");
    match event {
        WatchEvent::Error(e) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected an in-band 410, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_delivers_changes_after_the_version_in_order_with_bookmarks() {
    let mut config = ClusterConfig::new("test").with_time_scale(0.0);
    config.server.bookmark_interval = Duration::from_millis(50);
    let c = cluster_with(config).await;
    let api: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    let start = api.create(&PostParams::default(), &cm("a", "0")).await.expect("create");
    let rv = start.metadata.resource_version.clone().expect("rv");
    let wp = WatchParams { bookmarks: true, ..WatchParams::default() };
    let mut events = api.watch(&wp, &rv).await.expect("watch").boxed();
    api.patch("a", &PatchParams::default(), &Patch::Merge(json!({"data": {"v": "1"}}))).await.expect("patch");
    api.create(&PostParams::default(), &cm("b", "0")).await.expect("create");
    api.delete("a", &DeleteParams::default()).await.expect("delete");
    let mut seen = Vec::new();
    let mut bookmarks = 0;
    while seen.len() < 3 || bookmarks == 0 {
        let e = tokio::time::timeout(DEADLINE, events.try_next())
            .await
            .expect("event in time")
            .expect("decodes")
            .expect("open");
        match e {
            WatchEvent::Added(c) => seen.push(format!("ADDED {}", c.metadata.name.unwrap_or_default())),
            WatchEvent::Modified(c) => seen.push(format!("MODIFIED {}", c.metadata.name.unwrap_or_default())),
            WatchEvent::Deleted(c) => seen.push(format!("DELETED {}", c.metadata.name.unwrap_or_default())),
            WatchEvent::Bookmark(b) => {
                assert!(
                    b.metadata.resource_version.parse::<u64>().expect("numeric") >= rv.parse::<u64>().expect("numeric")
                );
                bookmarks += 1;
            }
            WatchEvent::Error(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(seen, vec!["MODIFIED a", "ADDED b", "DELETED a"]);
}

#[tokio::test]
async fn label_selector_watch_turns_leaving_into_deleted() {
    let c = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    let start = api.create(&PostParams::default(), &cm("a", "0")).await.expect("create");
    let rv = start.metadata.resource_version.clone().expect("rv");
    let mut events = api.watch(&WatchParams::default().labels("suite=watch"), &rv).await.expect("watch").boxed();
    api.patch("a", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"suite": "other"}}})))
        .await
        .expect("relabel");
    let e = tokio::time::timeout(DEADLINE, events.try_next()).await.expect("event").expect("decodes").expect("open");
    assert!(matches!(e, WatchEvent::Deleted(_)), "{e:?}");
    api.patch("a", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"suite": "watch"}}})))
        .await
        .expect("relabel");
    let e = tokio::time::timeout(DEADLINE, events.try_next()).await.expect("event").expect("decodes").expect("open");
    assert!(matches!(e, WatchEvent::Added(_)), "{e:?}");
}

#[tokio::test]
async fn timeout_seconds_closes_the_stream() {
    let c = cluster().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    let rv =
        api.create(&PostParams::default(), &cm("a", "0")).await.expect("create").metadata.resource_version.expect("rv");
    let events = api.watch(&WatchParams::default().timeout(1), &rv).await.expect("watch");
    let all: Vec<_> = tokio::time::timeout(DEADLINE, events.collect::<Vec<_>>()).await.expect("stream ends by itself");
    assert!(all.is_empty(), "no changes were made: {all:?}");
}
