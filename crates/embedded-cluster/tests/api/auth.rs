//! Authentication and authorisation: 401 without a valid token, 403 from the policy naming what was
//! refused, and SelfSubjectAccessReviews answered from the same policy.

use embedded_cluster::auth::User;
use embedded_cluster::testing::{api_error, cluster};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;

async fn can(client: kube::Client, verb: &str, resource: &str, namespace: &str) -> bool {
    let reviews: Api<SelfSubjectAccessReview> = Api::all(client);
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some(resource.into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    reviews.create(&PostParams::default(), &review).await.expect("review").status.expect("status").allowed
}

#[tokio::test]
async fn a_wrong_token_is_401() {
    let c = cluster().await;
    let client = c.client_with_token("not-a-token").await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let (code, reason, _) = api_error(pods.list(&ListParams::default()).await.expect_err("unauthorized"));
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));
}

#[tokio::test]
async fn read_only_users_read_but_cannot_write() {
    let c = cluster().await;
    c.add_user(User::read_only("viewer", "viewer-token"));
    let viewer = c.client_as("viewer-token").await.expect("client");
    let pods: Api<Pod> = Api::namespaced(viewer.clone(), "default");
    pods.list(&ListParams::default()).await.expect("may list");
    let pod: Pod = serde_json::from_value(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
    )
    .expect("pod");
    let (code, reason, message) = api_error(pods.create(&PostParams::default(), &pod).await.expect_err("forbidden"));
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        message,
        "pods is forbidden: User \"viewer\" cannot create resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    assert!(!can(viewer.clone(), "create", "pods", "default").await);
    assert!(can(viewer.clone(), "list", "pods", "default").await);
    assert!(can(c.client().await.expect("admin"), "delete", "pods", "default").await);
}

#[tokio::test]
async fn namespace_limited_users_stay_in_their_namespaces() {
    let c = cluster().await;
    c.store()
        .create(embedded_cluster::store::resource::Resource::Namespaces, json!({"metadata": {"name": "team-a"}}))
        .expect("ns");
    c.add_user(User::namespace_admin("team-a-admin", "team-token", &["team-a"]));
    let client = c.client_as("team-token").await.expect("client");
    let mine: Api<ConfigMap> = Api::namespaced(client.clone(), "team-a");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "c"}})).expect("cm");
    mine.create(&PostParams::default(), &cm).await.expect("own namespace");
    let theirs: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let (code, _, message) = api_error(theirs.create(&PostParams::default(), &cm).await.expect_err("other namespace"));
    assert_eq!(code, 403);
    assert!(message.contains("in the namespace \"default\""), "{message}");
    let everywhere: Api<ConfigMap> = Api::all(client.clone());
    let (code, _, message) = api_error(everywhere.list(&ListParams::default()).await.expect_err("cluster scope"));
    assert_eq!(code, 403);
    assert!(message.ends_with("at the cluster scope"), "{message}");
    assert!(can(client.clone(), "create", "pods", "team-a").await);
    assert!(!can(client, "create", "pods", "default").await);
}

/// A client authenticating with a client certificate (PEMs) instead of a token.
async fn client_with_certificate(c: &embedded_cluster::EmbeddedCluster, cert_pem: &str, key_pem: &str) -> kube::Client {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let kubeconfig: kube::config::Kubeconfig = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": c.url(), "certificate-authority-data": b64(&c.ca_pem())}}],
        "users": [{"name": "u", "user": {"client-certificate-data": b64(cert_pem), "client-key-data": b64(key_pem)}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }))
    .expect("a kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.expect("config");
    kube::Client::try_from(config).expect("client")
}

#[tokio::test]
async fn a_client_certificate_signed_by_the_ca_is_its_cn_in_its_o_groups_and_a_foreign_one_is_refused() {
    let c = cluster().await;
    let admin = c.client().await.expect("admin");
    // The group "platform" may list pods in default (nothing else), by a RoleBinding.
    let apply = |kind: &'static str, body: serde_json::Value| {
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
            admin.clone(),
            "default",
            &kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
                "rbac.authorization.k8s.io",
                "v1",
                kind,
            )),
        );
        async move { api.create(&PostParams::default(), &serde_json::from_value(body).expect("object")).await.expect(kind) }
    };
    apply(
        "Role",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "pod-reader", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]}),
    )
    .await;
    apply(
        "RoleBinding",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "platform-reads-pods", "namespace": "default"},
        "subjects": [{"kind": "Group", "name": "platform", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"}}),
    )
    .await;

    let cert = c.client_certificate("dave", &["platform"]).expect("dave's certificate");
    let dave = client_with_certificate(&c, &cert.cert_pem, &cert.key_pem).await;
    let pods: Api<Pod> = Api::namespaced(dave.clone(), "default");
    pods.list(&ListParams::default()).await.expect("dave lists pods as a member of platform");
    let cms: Api<ConfigMap> = Api::namespaced(dave, "default");
    let (code, _, message) = api_error(cms.list(&ListParams::default()).await.expect_err("not configmaps"));
    assert_eq!(code, 403);
    assert!(message.contains(r#"User "dave" cannot list resource "configmaps""#), "{message}");

    // A certificate the cluster's CA did not sign never gets past the handshake.
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "dave");
    let forged = params.self_signed(&key).expect("a self-signed certificate");
    let forger = client_with_certificate(&c, &forged.pem(), &key.serialize_pem()).await;
    let pods: Api<Pod> = Api::namespaced(forger, "default");
    let refused = pods.list(&ListParams::default()).await.expect_err("refused");
    assert!(!matches!(refused, kube::Error::Api(_)), "refused at the TLS layer, not by the API: {refused:?}");
}
