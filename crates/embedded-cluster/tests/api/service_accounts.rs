//! ServiceAccounts: a `default` one in every namespace (as kube-controller-manager keeps it), pods
//! refused at admission when their service account does not exist, and tokens that authenticate as
//! `system:serviceaccount:NS:NAME` while the account exists.

use std::sync::Arc;

use embedded_cluster::kubelet::Invocation;
use embedded_cluster::testing::{api_error, cluster, exit_code, run_pod};
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use serde_json::json;

fn names(list: &[ServiceAccount]) -> Vec<String> {
    list.iter()
        .map(|sa| {
            format!(
                "{}/{}",
                sa.metadata.namespace.clone().unwrap_or_default(),
                sa.metadata.name.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test]
async fn every_namespace_has_a_default_service_account_that_comes_back_and_goes_with_it() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let all: Api<ServiceAccount> = Api::all(client.clone());
    let listed = all.list(&ListParams::default()).await.expect("list");
    assert_eq!(
        names(&listed.items),
        vec!["default/default", "kube-node-lease/default", "kube-public/default", "kube-system/default"]
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "billing"}})).expect("ns");
    namespaces.create(&PostParams::default(), &ns).await.expect("namespace");
    let billing: Api<ServiceAccount> = Api::namespaced(client.clone(), "billing");
    let first = billing.get("default").await.expect("created with the namespace");

    billing.delete("default", &DeleteParams::default()).await.expect("delete");
    let again = billing.get("default").await.expect("re-created");
    assert_ne!(again.metadata.uid, first.metadata.uid, "a new object");

    let robot: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": "robot"}})).expect("sa");
    billing.create(&PostParams::default(), &robot).await.expect("another account");
    namespaces.delete("billing", &DeleteParams::default()).await.expect("delete namespace");
    let (code, _, _) = api_error(namespaces.get("billing").await.expect_err("namespace gone"));
    assert_eq!(code, 404);
    let left = all.list(&ListParams::default()).await.expect("list");
    assert!(names(&left.items).iter().all(|n| !n.starts_with("billing/")), "{:?}", names(&left.items));
}

#[tokio::test]
async fn a_pod_whose_service_account_does_not_exist_is_refused_at_admission() {
    let c = cluster().await;
    c.install_binary(
        "whoami",
        Arc::new(|inv: Invocation| async move {
            inv.stdout.line(inv.api.user());
            0
        }),
    );
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod = |meta: serde_json::Value| -> Pod {
        serde_json::from_value(
            json!({"metadata": meta, "spec": {"serviceAccountName": "robot", "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "x", "command": ["whoami"]}]}}),
        )
        .expect("pod")
    };
    let (code, reason, message) =
        api_error(pods.create(&PostParams::default(), &pod(json!({"name": "p"}))).await.expect_err("refused"));
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        message,
        "pods \"p\" is forbidden: error looking up service account default/robot: serviceaccount \"robot\" not found"
    );
    let (_, _, message) = api_error(
        pods.create(&PostParams::default(), &pod(json!({"generateName": "job-"}))).await.expect_err("refused"),
    );
    assert_eq!(
        message,
        "pods \"job-\" is forbidden: error looking up service account default/robot: serviceaccount \"robot\" not found"
    );
    assert!(pods.list(&ListParams::default()).await.expect("list").items.is_empty(), "nothing was stored");

    let accounts: Api<ServiceAccount> = Api::namespaced(client, "default");
    let robot: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": "robot"}})).expect("sa");
    accounts.create(&PostParams::default(), &robot).await.expect("service account");
    let done = run_pod(&pods, &pod(json!({"name": "p"}))).await;
    assert_eq!(exit_code(&done), 0);
    let log = pods.logs("p", &LogParams::default()).await.expect("log");
    assert_eq!(log, "system:serviceaccount:default:robot\n");
}

#[tokio::test]
async fn a_service_accounts_token_authenticates_while_the_account_exists_and_has_no_rights_without_rbac() {
    let c = cluster().await;
    let admin = c.client().await.expect("client");
    let accounts: Api<ServiceAccount> = Api::namespaced(admin, "default");
    let robot: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": "robot"}})).expect("sa");
    accounts.create(&PostParams::default(), &robot).await.expect("service account");
    let as_robot = c.service_account_client("default", "robot").await.expect("client");
    let robots_pods = Api::<Pod>::namespaced(as_robot, "default");
    let (code, reason, message) = api_error(robots_pods.list(&ListParams::default()).await.expect_err("no rights"));
    assert_eq!((code, reason.as_str()), (403, "Forbidden"), "authenticated, not authorized");
    assert_eq!(
        message,
        "pods is forbidden: User \"system:serviceaccount:default:robot\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
    );
    accounts.delete("robot", &DeleteParams::default()).await.expect("delete");
    let (code, reason, _) = api_error(robots_pods.list(&ListParams::default()).await.expect_err("401"));
    assert_eq!((code, reason.as_str()), (401, "Unauthorized"));
}
