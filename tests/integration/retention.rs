//! Retention against an embedded cluster, in process: what the preview and the removal say they
//! cost is what the API server counted, and a generated estate is left with no ended branch pod.

use embedded_cluster::EmbeddedCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use tlc::lifecycle::retention::{self, Retention};

use crate::common::cluster;

/// The requests the server counted since the last reset, in all.
fn served(c: &EmbeddedCluster) -> usize {
    c.metrics().requests.snapshot().values().sum::<u64>() as usize
}

#[tokio::test]
async fn the_requests_gc_states_are_the_ones_the_api_server_served() {
    let c = cluster().await;
    let estate = tlc::demo::generated::GeneratedEstate {
        tenants: 50,
        namespaces: 10,
        jobs_per_namespace: 10,
        branch_pods: 1200,
        records: 600,
        ..Default::default()
    };
    estate.seed(c.store(), "eu-west").expect("a generated estate");
    let client = c.client().await.expect("client");
    let rules = Retention { older_than: Some(jiff::SignedDuration::ZERO), ..Default::default() };

    c.metrics().requests.reset();
    let plan = retention::preview(&client, "eu-west", "tlc-records", "argo", &rules, jiff::Timestamp::now())
        .await
        .expect("preview");
    // 1,200 pods (3 pages of 500), no Workflow resource (1 request, 404), 600 records (2 pages).
    assert_eq!(plan.requests, 6);
    assert_eq!(plan.requests, served(&c), "the preview counts what it asked: {:?}", c.metrics().requests.snapshot());
    assert_eq!(plan.pods(), 1200);

    c.metrics().requests.reset();
    let removed = retention::remove(&client, &plan, "tlc-records", "test").await.expect("removal");
    let counted: usize = removed.requests.values().sum();
    assert_eq!(counted, served(&c), "the removal counts what it asked: {:?}", c.metrics().requests.snapshot());
    let left = Api::<Pod>::all(client).list(&ListParams::default().labels("tlc.dev/batch-id")).await.expect("pods");
    assert!(left.items.is_empty(), "{} branch pods left", left.items.len());
}
