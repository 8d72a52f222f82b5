//! Hostile and malformed requests: every one gets a `Status` with the right code — never a panic,
//! a hang or a dropped connection — and the server keeps serving afterwards.

use embedded_cluster::testing::{DEADLINE, cluster};
use http::{Method, Request};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use serde_json::Value;

async fn send(client: &kube::Client, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let req =
        Request::builder().method(method).uri(path).header("Content-Type", content_type).body(body).expect("request");
    let resp = tokio::time::timeout(DEADLINE, client.send(req.map(Into::into)))
        .await
        .expect("answered in time")
        .expect("a response, not a dropped connection");
    let code = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.expect("body").to_bytes();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned())))
}

#[tokio::test]
async fn malformed_requests_get_status_objects() {
    let c = cluster().await;
    let mut config = c.client_config_as(c.admin_token()).await.expect("config");
    config.default_retry = false;
    let client = kube::Client::try_from(config).expect("client");
    let json = "application/json";
    let cases: Vec<(Method, &str, &str, Vec<u8>, u16)> = vec![
        (Method::GET, "/api/v1/secrets", json, vec![], 404),
        (Method::GET, "/apis/apps/v1/namespaces/default/deployments", json, vec![], 404),
        (Method::GET, "/api/v1/namespaces/default/pods/x/exec", json, vec![], 404),
        (Method::GET, "/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20b", json, vec![], 400),
        (Method::GET, "/api/v1/namespaces/default/configmaps?fieldSelector=spec.nope%3D1", json, vec![], 400),
        (Method::GET, "/api/v1/namespaces/default/configmaps?limit=abc", json, vec![], 400),
        (Method::GET, "/api/v1/namespaces/default/configmaps?watch=maybe", json, vec![], 400),
        (Method::GET, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=abc", json, vec![], 400),
        (Method::GET, "/api/v1/namespaces/default/configmaps?continue=garbage", json, vec![], 400),
        (Method::POST, "/api/v1/namespaces/default/configmaps", json, b"{not json".to_vec(), 400),
        (Method::POST, "/api/v1/namespaces/default/configmaps", json, b"[1,2,3]".to_vec(), 400),
        (Method::POST, "/api/v1/namespaces/default/configmaps", json, br#"{"metadata": 5}"#.to_vec(), 400),
        (
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            json,
            br#"{"kind": "Pod", "metadata": {"name": "x"}}"#.to_vec(),
            400,
        ),
        (
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            json,
            br#"{"metadata": {"name": "x", "namespace": "other"}}"#.to_vec(),
            400,
        ),
        (Method::POST, "/api/v1/namespaces/default/configmaps", json, br#"{"metadata": {}}"#.to_vec(), 422),
        (
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json,
            br#"{"metadata": {"name": "p"}, "spec": {"containers": "no"}}"#.to_vec(),
            400,
        ),
        (
            Method::POST,
            "/api/v1/namespaces/default/pods",
            json,
            br#"{"metadata": {"name": "p"}, "spec": {}}"#.to_vec(),
            422,
        ),
        (Method::POST, "/api/v1/namespaces/nowhere/configmaps", json, br#"{"metadata": {"name": "x"}}"#.to_vec(), 404),
        (
            Method::POST,
            "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
            json,
            br#"{"metadata": {"name": "x"}, "bogus": 1}"#.to_vec(),
            400,
        ),
        (
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            "application/vnd.kubernetes.protobuf",
            b"k8s\0garbage".to_vec(),
            400,
        ),
        (
            Method::POST,
            "/api/v1/namespaces/default/pods",
            "application/vnd.kubernetes.protobuf",
            b"k8s\0anything".to_vec(),
            415,
        ),
        (
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "application/vnd.kubernetes.protobuf",
            b"k8s\0\xff\xff\xff".to_vec(),
            400,
        ),
        (
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json,
            br#"{"spec": {}}"#.to_vec(),
            422,
        ),
        (Method::POST, "/api/v1/namespaces/default/configmaps", json, vec![b' '; 4 * 1024 * 1024], 413),
        (Method::PUT, "/api/v1/namespaces/default/configmaps", json, b"{}".to_vec(), 405),
        (Method::POST, "/api/v1/namespaces/default/configmaps/x", json, b"{}".to_vec(), 405),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/missing",
            "application/merge-patch+json",
            b"{}".to_vec(),
            404,
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/seed",
            "application/strategic-merge-patch+json",
            b"{}".to_vec(),
            415,
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/seed",
            "application/apply-patch+yaml",
            b"{}".to_vec(),
            415,
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/seed",
            "application/merge-patch+json",
            b"\"replace me\"".to_vec(),
            400,
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/seed",
            "application/json-patch+json",
            br#"[{"op": "nope"}]"#.to_vec(),
            400,
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/seed",
            "application/json-patch+json",
            br#"[{"op": "remove", "path": "/nope/deeper"}]"#.to_vec(),
            422,
        ),
        (
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/seed",
            "application/json-patch+json",
            br#"[{"op": "replace", "path": "", "value": 7}]"#.to_vec(),
            400,
        ),
        (Method::DELETE, "/api/v1/namespaces/default/configmaps/seed", json, b"{bad".to_vec(), 400),
        (Method::DELETE, "/api/v1/namespaces/default/configmaps/seed?propagationPolicy=Sideways", json, vec![], 400),
        (Method::GET, "/api/v1/namespaces/default/pods/nope/log", json, vec![], 404),
        (
            Method::POST,
            "/apis/argoproj.io/v1alpha1/namespaces/default/workflows",
            json,
            br#"{"metadata": {"generateName": "wf-"}, "spec": 1}"#.to_vec(),
            201,
        ),
        (Method::GET, "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=999999999", json, vec![], 504),
    ];
    let seed = br#"{"metadata": {"name": "seed"}, "data": {"k": "v"}}"#.to_vec();
    assert_eq!(send(&client, Method::POST, "/api/v1/namespaces/default/configmaps", json, seed).await.0, 201);
    for (method, path, content_type, body, want) in cases {
        let (code, status) = send(&client, method.clone(), path, content_type, body).await;
        assert_eq!(code, want, "{method} {path}: {status}");
        if want >= 400 {
            assert_eq!(status["kind"], "Status", "{method} {path}: {status}");
            assert_eq!(status["code"], want, "{method} {path}");
            assert!(status["message"].as_str().is_some_and(|m| !m.is_empty()), "{method} {path}: {status}");
        }
    }
    // Still serving, and the seed survived every attempt to mangle it.
    let cms: Api<ConfigMap> = Api::namespaced(c.client().await.expect("client"), "default");
    let seed = cms.get("seed").await.expect("seed");
    assert_eq!(seed.data.and_then(|d| d.get("k").cloned()).as_deref(), Some("v"));
    cms.list(&ListParams::default()).await.expect("still serving");
}
