//! `tlc gc` on 10,000 finished branch pods, measured (never asserted): `cargo bench --bench gc`
//! (`PODS=n`, default 10,000; `RUNS=n`, default 3).
//!
//! Each run: a fresh embedded cluster seeded with a generated estate (`tlc sim --estate generated
//! --pods N`: 100 tenants, 100 team namespaces × 10 Jobs, N finished branch pods, 10 per batch,
//! each with its ConfigMap; none has a record yet, so the removal writes every outcome first), then
//! the preview and the removal as `tlc gc --older-than 0s --yes` runs them, each timed, and the
//! API requests the cluster served for each, by verb and resource (counted server-side).
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is a failed run with its message

use std::time::Instant;

use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams};
use tlc::demo::GeneratedEstate;
use tlc::lifecycle::retention::{self, Retention};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn requests(c: &EmbeddedCluster) -> String {
    let counts = c.metrics().requests.snapshot();
    let total: u64 = counts.values().sum();
    let each: Vec<String> = counts.iter().map(|(what, n)| format!("{what} ×{n}")).collect();
    format!("{total} ({})", each.join(", "))
}

#[tokio::main]
async fn main() {
    let pods = env("PODS", 10_000);
    let runs = env("RUNS", 3);
    println!("tlc gc on {pods} finished branch pods, {runs} runs");
    for run in 1..=runs {
        let c = EmbeddedCluster::start(ClusterConfig::new("bench")).await.expect("cluster");
        let estate = GeneratedEstate {
            tenants: 100,
            namespaces: 100,
            jobs_per_namespace: 10,
            branch_pods: pods,
            ..Default::default()
        };
        estate.seed(c.store(), "bench").expect("seeded");
        let client = c.client().await.expect("client");
        let retention = Retention { older_than: Some(jiff::SignedDuration::ZERO), ..Default::default() };
        c.metrics().requests.reset();
        let start = Instant::now();
        let plan = retention::preview(&client, "bench", "tlc-records", "argo", &retention, jiff::Timestamp::now())
            .await
            .expect("preview");
        let preview = start.elapsed();
        let preview_requests = requests(&c);
        c.metrics().requests.reset();
        let start = Instant::now();
        let removed = retention::remove(&client, &plan, "tlc-records", "bench").await.expect("removed");
        let removal = start.elapsed();
        let removal_requests = requests(&c);
        let left = Api::<Pod>::all(client.clone())
            .list(&ListParams::default().labels("tlc.dev/batch-id"))
            .await
            .expect("pods")
            .items
            .len();
        let configmaps = Api::<ConfigMap>::all(client.clone())
            .list(&ListParams::default().labels("tlc.dev/batch-id,!tlc.dev/record"))
            .await
            .expect("configmaps")
            .items
            .len();
        println!(
            "run {run}: preview {:.0} ms ({} batches, {} pods listed) — requests {preview_requests}",
            preview.as_secs_f64() * 1000.0,
            plan.batches.len(),
            plan.pods()
        );
        println!(
            "run {run}: removal {:.0} ms ({} pods of {} batches) — requests {removal_requests}; left: {left} branch pods, {configmaps} branch ConfigMaps",
            removal.as_secs_f64() * 1000.0,
            removed.pods,
            removed.batches
        );
    }
}
