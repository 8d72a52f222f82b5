//! The one watch layer, through the functions the console itself runs (`watch_branches`,
//! `configmaps::watch`, `discovery::watch`): a pod deleted while the watch was down is reported as
//! gone after the relist, and the connection is reported down and up again; and the batch
//! records' watch (`audit::record::watch_batches`), which keeps nothing and hands records over page
//! by page.

use std::time::Duration;

use embedded_cluster::store::DeleteOptions;
use embedded_cluster::store::resource::Resource;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use tlc::lifecycle::run::RunEvent;
use tlc::lifecycle::watch::watch_branches;
use tlc::watch::{Connection, Failure, Report};
use tokio::sync::mpsc;

use crate::common::{DEADLINE, cluster, run_pod, script_pod};

fn branch(name: &str) -> Pod {
    let mut pod = script_pod(name, "echo done");
    let id = tlc::contract::BranchIdentity {
        batch_id: "gap".into(),
        tenant_id: "t".into(),
        tenant_name: "acme".into(),
        operation: "lifecycle.upsert".into(),
        job_namespace: "default".into(),
        job_name: name.into(),
        attempt: 1,
        engine: Some(tlc::contract::Engine::Direct),
        region: "test".into(),
        migration: None,
    };
    pod.metadata.labels = Some(id.labels());
    pod.metadata.annotations = Some(id.annotations());
    pod
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Report<RunEvent>>, what: &str) -> Report<RunEvent> {
    tokio::time::timeout(DEADLINE, rx.recv()).await.unwrap_or_else(|_| panic!("{what}: in time")).expect("open")
}

#[tokio::test]
async fn a_pod_deleted_during_a_watch_gap_is_reported_gone_and_the_connection_comes_back() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    run_pod(&pods, &branch("kept")).await;
    run_pod(&pods, &branch("deleted")).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let url = c.url();
    tokio::spawn(async move { watch_branches(client, None, &url, |r| tx.send(r).is_ok()).await });
    assert_eq!(next(&mut rx, "up").await, Report::Connection(Connection::Up));
    let mut listed = Vec::new();
    while listed.len() < 2 {
        match next(&mut rx, "the first list").await {
            Report::Data(RunEvent::Pod(s)) => listed.push(s.pod_name),
            other => panic!("expected the listed pods, got {other:?}"),
        }
    }
    listed.sort();
    assert_eq!(listed, vec!["deleted", "kept"]);

    // The watch goes down: every request for pods fails, the open watch is cut.
    c.faults().fail_for(500, Duration::from_secs(3600), Some("pods"));
    c.faults().drop_watches();
    let down = next(&mut rx, "down").await;
    assert!(matches!(&down, Report::Connection(Connection::Down(Failure::Api(500, _)))), "{down:?}");
    // Meanwhile the pod goes, and the history that would have told the watch is forgotten.
    c.store()
        .delete(
            Resource::Pods,
            "default",
            "deleted",
            &DeleteOptions { grace_period_seconds: Some(0), ..Default::default() },
        )
        .expect("delete");
    c.store().compact_history();
    c.faults().clear();

    assert_eq!(next(&mut rx, "up again").await, Report::Connection(Connection::Up));
    let mut seen = Vec::new();
    loop {
        match next(&mut rx, "the relist").await {
            Report::Data(RunEvent::Pod(s)) => seen.push(format!("pod {}", s.pod_name)),
            Report::Data(RunEvent::PodGone(s)) => {
                seen.push(format!("gone {}", s.pod_name));
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, vec!["pod kept", "gone deleted"], "the relist reports what is there, then what vanished");
}

#[tokio::test]
async fn batch_records_arrive_page_by_page_then_live_and_a_deleted_one_is_reported_gone() {
    use tlc::audit::record::{RecordChange, watch_batches};
    let c = cluster().await;
    let estate = tlc::demo::generated::GeneratedEstate {
        tenants: 100,
        namespaces: 2,
        jobs_per_namespace: 2,
        records: 1100,
        ..Default::default()
    };
    estate.seed(c.store(), "eu-west").expect("a generated estate with 1,100 records");
    let client = c.client().await.expect("client");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (url, watcher) = (c.url(), client.clone());
    tokio::spawn(async move {
        watch_batches(&watcher, "eu-west", tlc::demo::RECORDS_NAMESPACE, &url, |r| tx.send(r).is_ok()).await
    });
    let mut next_change = async || loop {
        match tokio::time::timeout(DEADLINE, rx.recv()).await.expect("in time").expect("open") {
            Report::Data(change) => return change,
            Report::Connection(Connection::Up) => continue,
            other => panic!("unexpected {other:?}"),
        }
    };
    // The list: pages of at most 500 batches, 1,100 distinct ones in all, each with its branches.
    let (mut pages, mut ids) = (Vec::new(), std::collections::BTreeSet::new());
    while ids.len() < 1100 {
        let RecordChange::Batches(batches) = next_change().await else { panic!("a page of the list") };
        pages.push(batches.len());
        for b in batches {
            assert!(b.from_record && b.region == "eu-west" && b.branches.len() == 4, "{b:?}");
            ids.insert(b.id);
        }
    }
    assert_eq!(pages, vec![500, 500, 100], "handed over a page at a time");

    // A record written now arrives on its own…
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(client.clone(), tlc::demo::RECORDS_NAMESPACE);
    let entry = tlc::audit::AuditRecord {
        at: jiff::Timestamp::now(),
        who: "alice via eu-west".into(),
        action: tlc::audit::AuditAction::Trigger,
        batch_id: "new-batch".into(),
        region: "eu-west".into(),
        tenant_id: "t".into(),
        tenant_name: "acme".into(),
        operation: "lifecycle.upsert".into(),
        changeset_digest: tlc::audit::changeset_digest(""),
        jobs: vec!["team-0000/lifecycle-000".into()],
        outcome: "ok".into(),
    };
    let cm = tlc::audit::record::record_configmap(tlc::demo::RECORDS_NAMESPACE, &entry, None, None).expect("record");
    api.create(&Default::default(), &cm).await.expect("create the record");
    match next_change().await {
        RecordChange::Batches(b) => {
            assert_eq!(b.len(), 1);
            assert_eq!((b[0].id.as_str(), b[0].tenant_name.as_str()), ("new-batch", "acme"));
        }
        other => panic!("the new record, got {other:?}"),
    }
    // …and one deleted (as `tlc gc` deletes them) is reported gone, by its batch id.
    let gone = ids.first().cloned().expect("an id");
    api.delete(&tlc::audit::record::record_name(&gone), &Default::default()).await.expect("delete");
    match next_change().await {
        RecordChange::Gone(id) => assert_eq!(id, gone),
        other => panic!("the deleted record, got {other:?}"),
    }
}
