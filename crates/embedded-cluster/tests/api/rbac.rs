//! RBAC served and enforced: Roles, ClusterRoles and their bindings to Users, Groups and
//! ServiceAccounts decide what service accounts (and, on top of their static rules, configured
//! users) may do; 403s and SelfSubjectAccessReviews say what the API server says.

use std::sync::Arc;

use embedded_cluster::EmbeddedCluster;
use embedded_cluster::auth::User;
use embedded_cluster::kubelet::Invocation;
use embedded_cluster::testing::{api_error, cluster, exit_code, run_pod};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, ListParams, LogParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

async fn namespace(c: &EmbeddedCluster, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("ns");
    Api::<Namespace>::all(c.client().await.expect("client"))
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
}

async fn service_account(c: &EmbeddedCluster, ns: &str, name: &str) {
    let sa: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": name}})).expect("sa");
    Api::<ServiceAccount>::namespaced(c.client().await.expect("client"), ns)
        .create(&PostParams::default(), &sa)
        .await
        .expect("service account");
}

async fn create<K>(api: &Api<K>, value: serde_json::Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let object: K = serde_json::from_value(value).expect("object");
    api.create(&PostParams::default(), &object).await.expect("created")
}

/// The answer to a SelfSubjectAccessReview: (allowed, reason).
async fn review(client: &kube::Client, verb: &str, resource: &str, ns: &str, name: &str) -> (bool, String) {
    let (resource, subresource) = match resource.split_once('/') {
        Some((r, s)) => (r, Some(s.to_string())),
        None => (resource, None),
    };
    let r = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some(resource.into()),
                subresource,
                namespace: Some(ns.into()).filter(|n: &String| !n.is_empty()),
                name: Some(name.into()).filter(|n: &String| !n.is_empty()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let status = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &r)
        .await
        .expect("review")
        .status
        .expect("status");
    (status.allowed, status.reason.unwrap_or_default())
}

/// Creates the pod named argv[1] in namespace argv[2] through its API access; prints what the
/// API server said.
async fn launcher(inv: Invocation) -> i32 {
    let (Some(name), Some(ns)) = (inv.argv.get(1), inv.argv.get(2)) else { return 2 };
    let Ok(client) = inv.api.client() else { return 3 };
    let pod: Pod = serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo branch"]}]}}))
    .unwrap_or_default();
    match Api::<Pod>::namespaced(client, ns).create(&PostParams::default(), &pod).await {
        Ok(_) => {
            inv.stdout.line(&format!("created {ns}/{name}"));
            0
        }
        Err(kube::Error::Api(status)) => {
            inv.stderr.line(&status.message);
            1
        }
        Err(other) => {
            inv.stderr.line(&other.to_string());
            1
        }
    }
}

fn launcher_pod(name: &str, target: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"restartPolicy": "Never",
        "serviceAccountName": "tenant-lifecycle",
        "containers": [{"name": "main", "image": "tlc", "command": ["launcher", target, "billing"]}]}}))
    .expect("pod")
}

#[tokio::test]
async fn a_binary_creates_pods_in_another_namespace_only_once_a_role_binding_allows_it() {
    let c = cluster().await;
    c.install_binary("launcher", Arc::new(launcher));
    namespace(&c, "argo").await;
    namespace(&c, "billing").await;
    service_account(&c, "argo", "tenant-lifecycle").await;
    let admin = c.client().await.expect("client");
    let argo_pods: Api<Pod> = Api::namespaced(admin.clone(), "argo");

    let refused = run_pod(&argo_pods, &launcher_pod("bridge-1", "branch-1")).await;
    assert_eq!(exit_code(&refused), 1);
    assert_eq!(
        argo_pods.logs("bridge-1", &LogParams::default()).await.expect("log"),
        "pods is forbidden: User \"system:serviceaccount:argo:tenant-lifecycle\" cannot create resource \"pods\" in API group \"\" in the namespace \"billing\"\n"
    );

    create(
        &Api::<Role>::namespaced(admin.clone(), "billing"),
        json!({"metadata": {"name": "pod-launcher"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get", "watch", "delete"]},
                      {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}]}),
    )
    .await;
    let binding = create(
        &Api::<RoleBinding>::namespaced(admin.clone(), "billing"),
        json!({"metadata": {"name": "lifecycle-launches"},
            "roleRef": {"kind": "Role", "name": "pod-launcher"},
            "subjects": [{"kind": "ServiceAccount", "name": "tenant-lifecycle", "namespace": "argo"}]}),
    )
    .await;
    assert_eq!(binding.role_ref.api_group, "rbac.authorization.k8s.io", "defaulted");
    assert_eq!(binding.subjects.as_ref().map(|s| s[0].api_group.clone()), Some(None), "empty, so omitted");

    let launched = run_pod(&argo_pods, &launcher_pod("bridge-2", "branch-2")).await;
    assert_eq!(exit_code(&launched), 0);
    assert_eq!(argo_pods.logs("bridge-2", &LogParams::default()).await.expect("log"), "created billing/branch-2\n");
    Api::<Pod>::namespaced(admin, "billing").get("branch-2").await.expect("the branch pod exists");

    let sa = c.service_account_client("argo", "tenant-lifecycle").await.expect("client");
    assert_eq!(
        review(&sa, "create", "pods", "billing", "").await,
        (
            true,
            "RBAC: allowed by RoleBinding \"lifecycle-launches/billing\" of Role \"pod-launcher\" to ServiceAccount \"tenant-lifecycle/argo\"".into()
        )
    );
    assert_eq!(review(&sa, "create", "pods", "argo", "").await, (false, String::new()), "only in billing");
    assert!(review(&sa, "get", "pods/log", "billing", "branch-2").await.0);
    assert!(!review(&sa, "update", "pods", "billing", "branch-2").await.0);
}

#[tokio::test]
async fn cluster_role_bindings_and_group_subjects_apply_everywhere_and_role_bindings_of_cluster_roles_in_one_namespace()
{
    let c = cluster().await;
    namespace(&c, "argo").await;
    namespace(&c, "billing").await;
    service_account(&c, "argo", "reader").await;
    let admin = c.client().await.expect("client");
    let cluster_roles: Api<ClusterRole> = Api::all(admin.clone());
    create(
        &cluster_roles,
        json!({"metadata": {"name": "pod-reader"},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}]}),
    )
    .await;
    create(
        &cluster_roles,
        json!({"metadata": {"name": "configmap-writer"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}]}),
    )
    .await;
    create(
        &Api::<ClusterRoleBinding>::all(admin.clone()),
        json!({"metadata": {"name": "argo-reads-pods"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "pod-reader"},
            "subjects": [{"kind": "Group", "name": "system:serviceaccounts:argo"}]}),
    )
    .await;
    create(
        &Api::<RoleBinding>::namespaced(admin.clone(), "billing"),
        json!({"metadata": {"name": "argo-writes-configmaps"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "configmap-writer"},
            "subjects": [{"kind": "Group", "name": "system:serviceaccounts:argo"}]}),
    )
    .await;
    let billing_pods: Api<Pod> = Api::namespaced(admin, "billing");
    run_pod(&billing_pods, &embedded_cluster::testing::script_pod("job", "echo from billing")).await;

    let sa = c.service_account_client("argo", "reader").await.expect("client");
    let everywhere = Api::<Pod>::all(sa.clone()).list(&ListParams::default()).await.expect("all namespaces");
    assert_eq!(everywhere.items.len(), 1);
    let pods: Api<Pod> = Api::namespaced(sa.clone(), "billing");
    assert_eq!(pods.logs("job", &LogParams::default()).await.expect("pods/log"), "from billing\n");
    let (code, _, message) = api_error(pods.delete("job", &Default::default()).await.expect_err("no delete"));
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "pods \"job\" is forbidden: User \"system:serviceaccount:argo:reader\" cannot delete resource \"pods\" in API group \"\" in the namespace \"billing\""
    );
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "x"}})).expect("cm");
    Api::<ConfigMap>::namespaced(sa.clone(), "billing").create(&PostParams::default(), &cm).await.expect("in billing");
    let (code, _, message) = api_error(
        Api::<ConfigMap>::namespaced(sa.clone(), "default")
            .create(&PostParams::default(), &cm)
            .await
            .expect_err("not here"),
    );
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "configmaps is forbidden: User \"system:serviceaccount:argo:reader\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    assert_eq!(
        review(&sa, "list", "pods", "", "").await,
        (
            true,
            "RBAC: allowed by ClusterRoleBinding \"argo-reads-pods\" of ClusterRole \"pod-reader\" to Group \"system:serviceaccounts:argo\"".into()
        )
    );
    // Another namespace's service accounts are not in the group.
    service_account(&c, "billing", "other").await;
    let other = c.service_account_client("billing", "other").await.expect("client");
    let (code, _, _) = api_error(Api::<Pod>::all(other).list(&ListParams::default()).await.expect_err("403"));
    assert_eq!(code, 403);
}

#[tokio::test]
async fn resource_names_limit_a_rule_to_the_named_objects() {
    let c = cluster().await;
    service_account(&c, "default", "robot").await;
    c.apply_manifests(
        "rbac",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: settings-only, namespace: default}
rules:
- {apiGroups: [""], resources: [configmaps], resourceNames: [settings], verbs: [get, list, watch, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: "system:robot:settings", namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: settings-only}
subjects: [{kind: ServiceAccount, name: robot}]
"#,
    )
    .expect("rbac with a colon in a name");
    let admin = Api::<ConfigMap>::namespaced(c.client().await.expect("client"), "default");
    for name in ["settings", "secrets-ish"] {
        create(&admin, json!({"metadata": {"name": name}, "data": {"k": "v"}})).await;
    }
    let sa = c.service_account_client("default", "robot").await.expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(sa.clone(), "default");
    cms.get("settings").await.expect("the named one");
    let (code, _, message) = api_error(cms.get("secrets-ish").await.expect_err("another name"));
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "configmaps \"secrets-ish\" is forbidden: User \"system:serviceaccount:default:robot\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    let (_, _, message) = api_error(cms.list(&ListParams::default()).await.expect_err("a list has no name"));
    assert_eq!(
        message,
        "configmaps is forbidden: User \"system:serviceaccount:default:robot\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    // A list or watch for exactly one name is about that object, as the API server decides.
    let one = cms.list(&ListParams::default().fields("metadata.name=settings")).await.expect("list of the named one");
    assert_eq!(one.items.len(), 1);
    let (_, _, message) =
        api_error(cms.list(&ListParams::default().fields("metadata.name=secrets-ish")).await.expect_err("403"));
    assert!(message.starts_with("configmaps \"secrets-ish\" is forbidden"), "{message}");
    assert!(review(&sa, "update", "configmaps", "default", "settings").await.0);
    assert!(!review(&sa, "update", "configmaps", "default", "secrets-ish").await.0);
    assert!(!review(&sa, "update", "configmaps", "default", "").await.0);
}

#[tokio::test]
async fn configured_users_keep_their_static_rules_and_gain_what_bindings_grant() {
    let c = cluster().await;
    namespace(&c, "billing").await;
    c.add_user(User::read_only("viewer", "viewer-token"));
    let viewer = c.client_as("viewer-token").await.expect("client");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "x"}})).expect("cm");
    let billing: Api<ConfigMap> = Api::namespaced(viewer.clone(), "billing");
    let (code, _, _) = api_error(billing.create(&PostParams::default(), &cm).await.expect_err("read-only"));
    assert_eq!(code, 403);
    assert_eq!(
        review(&viewer, "create", "configmaps", "billing", "").await,
        (false, "no rule of user \"viewer\" allows it".into())
    );
    c.apply_manifests(
        "rbac",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: configmap-writer}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer-writes, namespace: billing}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: configmap-writer}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]
"#,
    )
    .expect("rbac");
    billing.create(&PostParams::default(), &cm).await.expect("granted by the binding");
    Api::<Pod>::all(viewer.clone()).list(&ListParams::default()).await.expect("static rules still apply");
    let (code, _, _) = api_error(
        Api::<ConfigMap>::namespaced(viewer.clone(), "default")
            .create(&PostParams::default(), &cm)
            .await
            .expect_err("403"),
    );
    assert_eq!(code, 403);
    assert_eq!(
        review(&viewer, "create", "configmaps", "billing", "").await,
        (
            true,
            "RBAC: allowed by RoleBinding \"viewer-writes/billing\" of ClusterRole \"configmap-writer\" to User \"viewer\"".into()
        )
    );
}

#[tokio::test]
async fn self_subject_access_reviews_agree_with_enforcement() {
    let c = cluster().await;
    service_account(&c, "default", "robot").await;
    c.apply_manifests(
        "rbac",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: mixed, namespace: default}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, create]}
- {apiGroups: [""], resources: [configmaps], resourceNames: [deletable], verbs: [delete]}
- {apiGroups: [""], resources: ["*/log"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mixed, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: mixed}
subjects: [{kind: Group, name: "system:serviceaccounts:default"}]
"#,
    )
    .expect("rbac");
    let admin = c.client().await.expect("client");
    let admin_cms: Api<ConfigMap> = Api::namespaced(admin.clone(), "default");
    for name in ["deletable", "kept"] {
        create(&admin_cms, json!({"metadata": {"name": name}})).await;
    }
    run_pod(&Api::namespaced(admin, "default"), &embedded_cluster::testing::script_pod("p", "echo hi")).await;
    let sa = c.service_account_client("default", "robot").await.expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(sa.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(sa.clone(), "default");
    let cm = |name: &str| -> ConfigMap { serde_json::from_value(json!({"metadata": {"name": name}})).expect("cm") };
    let mut outcomes = Vec::new();
    for (verb, resource, name) in [
        ("get", "configmaps", "kept"),
        ("create", "configmaps", ""),
        ("delete", "configmaps", "kept"),
        ("delete", "configmaps", "deletable"),
        ("list", "configmaps", ""),
        ("get", "pods", "p"),
        ("get", "pods/log", "p"),
    ] {
        let (reviewed, _) = review(&sa, verb, resource, "default", name).await;
        let enforced = match (verb, resource) {
            ("get", "configmaps") => cms.get(name).await.map(|_| ()),
            ("create", _) => cms.create(&PostParams::default(), &cm("new")).await.map(|_| ()),
            ("delete", _) => cms.delete(name, &Default::default()).await.map(|_| ()),
            ("list", _) => cms.list(&ListParams::default()).await.map(|_| ()),
            ("get", "pods") => pods.get(name).await.map(|_| ()),
            _ => pods.logs(name, &LogParams::default()).await.map(|_| ()),
        };
        if let Err(e) = &enforced {
            assert!(matches!(e, kube::Error::Api(s) if s.code == 403), "{verb} {resource} {name}: {e}");
        }
        assert_eq!(reviewed, enforced.is_ok(), "{verb} {resource} {name}");
        outcomes.push(reviewed);
    }
    assert_eq!(outcomes, vec![true, true, false, true, false, false, true]);
}

#[tokio::test]
async fn a_missing_role_is_named_in_the_403_and_the_review() {
    let c = cluster().await;
    service_account(&c, "default", "robot").await;
    c.apply_manifests(
        "rbac",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ghost}
subjects: [{kind: ServiceAccount, name: robot}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dangling-too}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: phantom}
subjects: [{kind: ServiceAccount, name: robot, namespace: default}]
"#,
    )
    .expect("bindings to roles that do not exist are accepted, as upstream");
    let sa = c.service_account_client("default", "robot").await.expect("client");
    let (code, _, message) =
        api_error(Api::<Pod>::namespaced(sa.clone(), "default").list(&ListParams::default()).await.expect_err("403"));
    assert_eq!(code, 403);
    let reason = "RBAC: [clusterrole.rbac.authorization.k8s.io \"phantom\" not found, role.rbac.authorization.k8s.io \"ghost\" not found]";
    assert_eq!(
        message,
        format!(
            "pods is forbidden: User \"system:serviceaccount:default:robot\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\": {reason}"
        )
    );
    assert_eq!(review(&sa, "list", "pods", "default", "").await, (false, reason.into()));
    let (_, _, message) = api_error(Api::<Pod>::all(sa).list(&ListParams::default()).await.expect_err("403"));
    assert!(
        message.ends_with("at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"phantom\" not found"),
        "RoleBindings do not count at the cluster scope: {message}"
    );
}

#[tokio::test]
async fn aggregated_cluster_roles_and_invalid_rbac_objects_are_refused_with_the_field_that_is_wrong() {
    let c = cluster().await;
    let admin = c.client().await.expect("client");
    let cluster_roles: Api<ClusterRole> = Api::all(admin.clone());
    let aggregated: ClusterRole = serde_json::from_value(json!({"metadata": {"name": "monitoring"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate-to-monitoring": "true"}}]}}))
    .expect("cluster role");
    let (code, reason, message) =
        api_error(cluster_roles.create(&PostParams::default(), &aggregated).await.expect_err("422"));
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert_eq!(
        message,
        "ClusterRole.rbac.authorization.k8s.io \"monitoring\" is invalid: aggregationRule: Forbidden: aggregated ClusterRoles are not supported by the tlc embedded cluster (it runs no clusterrole-aggregation controller): list the rules in `rules` instead"
    );
    let no_verbs: ClusterRole = serde_json::from_value(
        json!({"metadata": {"name": "x"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]}),
    )
    .expect("cluster role");
    let (_, _, message) = api_error(cluster_roles.create(&PostParams::default(), &no_verbs).await.expect_err("422"));
    assert_eq!(
        message,
        "ClusterRole.rbac.authorization.k8s.io \"x\" is invalid: rules[0].verbs: Required value: verbs must contain at least one value"
    );
    let bindings: Api<ClusterRoleBinding> = Api::all(admin.clone());
    let bad: ClusterRoleBinding = serde_json::from_value(json!({"metadata": {"name": "bad"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot"}, {"kind": "Robot", "name": "r2d2"}]}))
    .expect("binding");
    let (_, _, message) = api_error(bindings.create(&PostParams::default(), &bad).await.expect_err("422"));
    assert_eq!(
        message,
        "ClusterRoleBinding.rbac.authorization.k8s.io \"bad\" is invalid: [roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\", subjects[0].namespace: Required value, subjects[1].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"]"
    );
    let role_bindings: Api<RoleBinding> = Api::namespaced(admin, "default");
    let mut binding = create(
        &role_bindings,
        json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "first"},
            "subjects": [{"kind": "User", "name": "alice"}]}),
    )
    .await;
    binding.role_ref.name = "second".into();
    let (_, _, message) =
        api_error(role_bindings.replace("b", &PostParams::default(), &binding).await.expect_err("immutable"));
    assert_eq!(
        message,
        "RoleBinding.rbac.authorization.k8s.io \"b\" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"second\"}: cannot change roleRef"
    );
    binding.role_ref.name = "first".into();
    binding.subjects =
        Some(vec![serde_json::from_value(json!({"kind": "Group", "name": "auditors"})).expect("subject")]);
    let replaced = role_bindings.replace("b", &PostParams::default(), &binding).await.expect("subjects may change");
    assert_eq!(replaced.subjects.and_then(|s| s[0].api_group.clone()).as_deref(), Some("rbac.authorization.k8s.io"));
}

#[tokio::test]
async fn rbac_objects_are_listed_and_watched_like_any_other() {
    let c = cluster().await;
    let admin = c.client().await.expect("client");
    let bindings: Api<RoleBinding> = Api::namespaced(admin.clone(), "default");
    let watch = bindings.watch(&WatchParams::default(), "0").await.expect("watch");
    let mut watch = watch.boxed();
    create(
        &bindings,
        json!({"metadata": {"name": "seen"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": "auditors"}]}),
    )
    .await;
    let event = tokio::time::timeout(embedded_cluster::testing::DEADLINE, watch.try_next())
        .await
        .expect("an event in time")
        .expect("watch works")
        .expect("an event");
    match event {
        WatchEvent::Added(b) => assert_eq!(b.metadata.name.as_deref(), Some("seen")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    let listed = Api::<RoleBinding>::all(admin).list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.iter().filter_map(|b| b.metadata.name.clone()).collect::<Vec<_>>(), vec!["seen"]);
}
