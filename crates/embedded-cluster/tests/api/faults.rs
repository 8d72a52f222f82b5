//! Fault injection as clients see it: 429/5xx answers for a number of requests, added latency,
//! and log streams cut after N lines.

use std::time::{Duration, Instant};

use embedded_cluster::testing::{api_error, cluster, run_pod, script_pod};
use futures::AsyncReadExt;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, LogParams};

#[tokio::test]
async fn injected_failures_answer_with_status_then_stop() {
    let c = cluster().await;
    // kube-rs retries 429/503/504 by default; look at the raw answers with retries off.
    let mut config = c.client_config_as(c.admin_token()).await.expect("config");
    config.default_retry = false;
    let cms: Api<ConfigMap> = Api::namespaced(kube::Client::try_from(config).expect("client"), "default");
    c.faults().fail_next(503, 2, Some("/configmaps"));
    for _ in 0..2 {
        let (code, reason, _) = api_error(cms.list(&ListParams::default()).await.expect_err("injected"));
        assert_eq!((code, reason.as_str()), (503, "ServiceUnavailable"));
    }
    cms.list(&ListParams::default()).await.expect("recovered");
    c.faults().fail_next(429, 1, None);
    let (code, reason, _) = api_error(cms.list(&ListParams::default()).await.expect_err("throttled"));
    assert_eq!((code, reason.as_str()), (429, "TooManyRequests"));
    c.faults().fail_next(500, 1, None);
    let (code, reason, _) = api_error(cms.list(&ListParams::default()).await.expect_err("internal"));
    assert_eq!((code, reason.as_str()), (500, "InternalError"));
}

#[tokio::test]
async fn the_default_client_rides_through_a_burst_of_503s() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    c.faults().fail_next(503, 3, None);
    cms.list(&ListParams::default()).await.expect("kube-rs retried past the 503s");
    assert!(c.faults().injected_failure("/probe").is_none(), "all three injected failures were consumed");
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    cms.list(&ListParams::default()).await.expect("warm");
    c.faults().set_latency(Duration::from_millis(200));
    let start = Instant::now();
    cms.list(&ListParams::default()).await.expect("slow but fine");
    assert!(start.elapsed() >= Duration::from_millis(200), "took {:?}", start.elapsed());
}

#[tokio::test]
async fn log_streams_are_cut_after_n_lines() {
    let c = cluster().await;
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let pod = run_pod(&pods, &script_pod("many", "for w in a b c d e f g h; do echo $w; done")).await;
    assert_eq!(embedded_cluster::testing::exit_code(&pod), 0);
    c.faults().cut_logs_after(Some(3));
    let mut stream = pods.log_stream("many", &LogParams::default()).await.expect("stream opens");
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let result = loop {
        match stream.read(&mut buf).await {
            Ok(0) => break Ok(()),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => break Err(e),
        }
    };
    assert!(result.is_err(), "the connection is cut, not closed cleanly");
    assert_eq!(String::from_utf8_lossy(&received), "a\nb\nc\n");
    c.faults().cut_logs_after(None);
    assert_eq!(pods.logs("many", &LogParams::default()).await.expect("whole log").lines().count(), 8);
}
