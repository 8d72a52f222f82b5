//! The real `kubectl` on PATH against the embedded cluster: discovery, server-side printing, create,
//! logs -f, a bounded `get -w`, delete. Without kubectl the tests are skipped with a message — except
//! under `CI=true`, where a missing kubectl is a failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use embedded_cluster::EmbeddedCluster;
use embedded_cluster::testing::{DEADLINE, cluster};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn kubectl_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("kubectl")).find(|p| p.is_file())
}

/// kubectl, or `None` (skip) when it is missing outside CI.
fn kubectl() -> Option<PathBuf> {
    match kubectl_binary() {
        Some(k) => Some(k),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("kubectl is not on PATH and CI=true: install it (Debian: kubernetes-client)")
        }
        None => {
            eprintln!("skipping: kubectl is not on PATH (set CI=true to make this a failure)");
            None
        }
    }
}

struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(binary: PathBuf, cluster: &EmbeddedCluster) -> Self {
        Self::with_service_accounts(binary, cluster, &[])
    }

    /// Also a context named `NS-NAME` per service account, with its token.
    fn with_service_accounts(binary: PathBuf, cluster: &EmbeddedCluster, accounts: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let mut entries = cluster.kubeconfig_entries();
        for (ns, name) in accounts {
            entries.push(embedded_cluster::kubeconfig::Entry {
                context: format!("{ns}-{name}"),
                cluster: cluster.name().to_string(),
                server: cluster.url(),
                ca_pem: cluster.ca_pem(),
                user: format!("{ns}-{name}"),
                token: cluster.service_account_token(ns, name),
            });
        }
        embedded_cluster::kubeconfig::write(&kubeconfig, &entries, cluster.name(), "# test").expect("kubeconfig");
        Kubectl { binary, kubeconfig, _dir: dir }
    }

    /// Runs kubectl to completion; returns (success, stdout, stderr).
    async fn try_run(&self, args: &[&str]) -> (bool, String, String) {
        let out = tokio::time::timeout(DEADLINE, self.command(args).output())
            .await
            .expect("kubectl finishes")
            .expect("kubectl runs");
        let text = |b: Vec<u8>| String::from_utf8(b).expect("utf8");
        (out.status.success(), text(out.stdout), text(out.stderr))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.binary);
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.kubeconfig.parent().unwrap_or(Path::new("/tmp")))
            .kill_on_drop(true);
        c
    }

    /// Runs kubectl to completion; returns stdout, failing the test (with stderr) on a non-zero exit.
    async fn run(&self, args: &[&str]) -> String {
        let out = tokio::time::timeout(DEADLINE, self.command(args).output())
            .await
            .expect("kubectl finishes")
            .expect("kubectl runs");
        assert!(out.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8")
    }
}

const POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: hello
  namespace: default
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo starting\nsleep 0.2\necho done"]
"#;

const JOB: &str = r#"apiVersion: batch/v1
kind: Job
metadata:
  name: lifecycle-1
  namespace: team-a
  annotations:
    collibra.com/tenant.lifecycle: "lifecycle.upsert,lifecycle.migrate-in"
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "echo hi"]
"#;

#[tokio::test]
async fn kubectl_works_against_the_embedded_cluster() {
    let Some(binary) = kubectl() else { return };
    let mut config = embedded_cluster::ClusterConfig::new("test").with_time_scale(1.0);
    config.kubelet.startup_delay = Duration::from_millis(100);
    let c = embedded_cluster::testing::cluster_with(config).await;
    let k = Kubectl::new(binary, &c);

    let ns = k.run(&["get", "ns"]).await;
    assert!(ns.lines().next().is_some_and(|h| h.starts_with("NAME") && h.contains("STATUS")), "{ns}");
    assert!(ns.lines().any(|l| l.starts_with("default ") && l.contains("Active")), "{ns}");

    let dir = tempfile::tempdir().expect("tempdir");
    let ns_file = dir.path().join("ns.yaml");
    std::fs::write(&ns_file, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n").expect("write");
    let job_file = dir.path().join("job.yaml");
    std::fs::write(&job_file, JOB).expect("write");
    k.run(&["create", "-f", ns_file.to_str().unwrap_or_default()]).await;
    let created = k.run(&["create", "-f", job_file.to_str().unwrap_or_default()]).await;
    assert_eq!(created.trim(), "job.batch/lifecycle-1 created");
    // Imperative creates send protobuf bodies.
    let created = k.run(&["create", "configmap", "settings", "-n", "team-a", "--from-literal=sso=saml"]).await;
    assert_eq!(created.trim(), "configmap/settings created");
    assert_eq!(k.run(&["get", "configmap", "settings", "-n", "team-a", "-o", "jsonpath={.data.sso}"]).await, "saml");
    let jobs: serde_json::Value =
        serde_json::from_str(&k.run(&["get", "jobs", "-A", "-o", "json"]).await).expect("json");
    let items = jobs["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["metadata"]["annotations"]["collibra.com/tenant.lifecycle"],
        "lifecycle.upsert,lifecycle.migrate-in"
    );
    assert_eq!(items[0]["spec"]["suspend"], true);

    // A bounded `get pods -w`: read until the pod has completed, then stop kubectl.
    let mut watch = k
        .command(&["get", "pods", "-w", "--no-headers"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("watch");
    let mut lines = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    let pod_file = dir.path().join("pod.yaml");
    std::fs::write(&pod_file, POD).expect("write");
    assert_eq!(k.run(&["create", "-f", pod_file.to_str().unwrap_or_default()]).await.trim(), "pod/hello created");
    // As on a real cluster, `logs -f` right after create may find the container still being created.
    let logs = embedded_cluster::testing::eventually("kubectl logs -f to stream", || {
        let cmd = k.command(&["logs", "-f", "hello"]).output();
        async move {
            let out = cmd.await.ok()?;
            if out.status.success() {
                return Some(String::from_utf8_lossy(&out.stdout).into_owned());
            }
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("is waiting to start: ContainerCreating"), "unexpected kubectl error: {err}");
            None
        }
    })
    .await;
    assert_eq!(logs, "starting\ndone\n");
    let mut seen = Vec::new();
    let completed = tokio::time::timeout(DEADLINE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            let status = line.split_whitespace().nth(2).unwrap_or_default().to_string();
            seen.push(status.clone());
            if status == "Completed" {
                return true;
            }
        }
        false
    })
    .await;
    let _ = watch.kill().await;
    assert_eq!(completed, Ok(true), "watch saw {seen:?}");
    assert!(
        seen.iter().any(|s| s == "Running" || s == "ContainerCreating" || s == "Pending"),
        "watch saw the pod before it completed: {seen:?}"
    );

    assert_eq!(k.run(&["delete", "pod", "hello"]).await.trim(), "pod \"hello\" deleted");
    let after = k.command(&["get", "pod", "hello"]).output().await.expect("runs");
    assert!(!after.status.success());
    assert_eq!(String::from_utf8_lossy(&after.stderr).trim(), "Error from server (NotFound): pods \"hello\" not found");
}

#[tokio::test]
async fn kubectl_reports_forbidden_for_a_read_only_context() {
    let Some(binary) = kubectl() else { return };
    let c = cluster().await;
    c.add_user(embedded_cluster::auth::User::read_only("viewer", "viewer-token"));
    let k = Kubectl::new(binary, &c);
    let can = k.command(&["--context", "test-viewer", "auth", "can-i", "delete", "pods"]).output().await.expect("runs");
    assert_eq!(String::from_utf8_lossy(&can.stdout).trim_end(), "no - no rule of user \"viewer\" allows it");
    let out = k.command(&["--context", "test-viewer", "delete", "ns", "default"]).output().await.expect("runs");
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Error from server (Forbidden): namespaces \"default\" is forbidden: User \"viewer\" cannot delete resource \"namespaces\" in API group \"\" at the cluster scope"
    );
}

const RBAC: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: pod-launcher
  namespace: billing
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "get", "watch", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: lifecycle-launches
  namespace: billing
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: pod-launcher
subjects:
- kind: ServiceAccount
  name: tenant-lifecycle
  namespace: argo
"#;

const AGGREGATED: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring
aggregationRule:
  clusterRoleSelectors:
  - matchLabels:
      rbac.example.com/aggregate-to-monitoring: "true"
"#;

/// Creates the pod named argv[1] in `billing` through its API access; prints what happened.
async fn launcher(inv: embedded_cluster::kubelet::Invocation) -> i32 {
    let Some(name) = inv.argv.get(1) else { return 2 };
    let Ok(client) = inv.api.client() else { return 3 };
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({"metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo branch"]}]}}))
    .unwrap_or_default();
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client, "billing");
    match pods.create(&Default::default(), &pod).await {
        Ok(_) => {
            inv.stdout.line(&format!("created billing/{name}"));
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

fn launcher_pod(name: &str, target: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: argo\nspec:\n  restartPolicy: Never\n  serviceAccountName: tenant-lifecycle\n  containers:\n  - name: main\n    image: ghcr.io/tlc-dev/tlc:0.1.0\n    command: [launcher, {target}]\n"
    )
}

#[tokio::test]
async fn kubectl_applies_rbac_that_a_service_accounts_binary_then_works_under() {
    let Some(binary) = kubectl() else { return };
    let c = cluster().await;
    c.install_binary("launcher", std::sync::Arc::new(launcher));
    let k = Kubectl::new(binary.clone(), &c);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().unwrap_or_default().to_string()
    };
    k.run(&["create", "namespace", "argo"]).await;
    k.run(&["create", "namespace", "billing"]).await;
    assert_eq!(
        k.run(&["create", "serviceaccount", "tenant-lifecycle", "-n", "argo"]).await.trim(),
        "serviceaccount/tenant-lifecycle created"
    );
    let accounts = k.run(&["get", "sa", "-n", "argo"]).await;
    let lines: Vec<Vec<&str>> = accounts.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], vec!["NAME", "SECRETS", "AGE"], "{accounts}");
    assert_eq!(lines[1][..2], ["default", "0"], "{accounts}");
    assert_eq!(lines[2][..2], ["tenant-lifecycle", "0"], "{accounts}");

    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(c.client().await.expect("client"), "argo");
    let log = |name: &'static str| {
        let pods = pods.clone();
        async move { pods.logs(name, &Default::default()).await.expect("log") }
    };
    k.run(&["create", "-f", &file("bridge-1.yaml", &launcher_pod("bridge-1", "branch-1"))]).await;
    assert_eq!(
        embedded_cluster::testing::exit_code(&embedded_cluster::testing::wait_finished(&pods, "bridge-1").await),
        1
    );
    assert_eq!(
        log("bridge-1").await,
        "pods is forbidden: User \"system:serviceaccount:argo:tenant-lifecycle\" cannot create resource \"pods\" in API group \"\" in the namespace \"billing\"\n"
    );

    let rbac = file("rbac.yaml", RBAC);
    assert_eq!(
        k.run(&["apply", "-f", &rbac]).await,
        "role.rbac.authorization.k8s.io/pod-launcher created\nrolebinding.rbac.authorization.k8s.io/lifecycle-launches created\n"
    );
    assert_eq!(
        k.run(&["apply", "-f", &rbac]).await,
        "role.rbac.authorization.k8s.io/pod-launcher unchanged\nrolebinding.rbac.authorization.k8s.io/lifecycle-launches unchanged\n"
    );
    k.run(&["create", "-f", &file("bridge-2.yaml", &launcher_pod("bridge-2", "branch-2"))]).await;
    assert_eq!(
        embedded_cluster::testing::exit_code(&embedded_cluster::testing::wait_finished(&pods, "bridge-2").await),
        0
    );
    assert_eq!(log("bridge-2").await, "created billing/branch-2\n");

    let wide = k.run(&["get", "rolebindings", "-n", "billing", "-o", "wide"]).await;
    let lines: Vec<Vec<&str>> = wide.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], vec!["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"], "{wide}");
    assert_eq!(
        (lines[1][0], lines[1][1], lines[1][3]),
        ("lifecycle-launches", "Role/pod-launcher", "argo/tenant-lifecycle")
    );
    let roles = k.run(&["get", "roles", "-n", "billing"]).await;
    assert!(roles.starts_with("NAME") && roles.lines().next().is_some_and(|h| h.contains("CREATED AT")), "{roles}");
    assert!(roles.lines().nth(1).is_some_and(|l| l.starts_with("pod-launcher ") && l.contains('T')), "{roles}");

    // Imperative creates (protobuf bodies), and the service account's own view of what it may do.
    assert_eq!(
        k.run(&["create", "clusterrole", "pod-reader", "--verb=get,list", "--resource=pods"]).await.trim(),
        "clusterrole.rbac.authorization.k8s.io/pod-reader created"
    );
    assert_eq!(
        k.run(&[
            "create",
            "clusterrolebinding",
            "argo-reads",
            "--clusterrole=pod-reader",
            "--group=system:serviceaccounts:argo"
        ])
        .await
        .trim(),
        "clusterrolebinding.rbac.authorization.k8s.io/argo-reads created"
    );
    let sa = Kubectl::with_service_accounts(binary, &c, &[("argo", "tenant-lifecycle")]);
    let as_sa = |args: &[&str]| {
        let mut all = vec!["--context", "argo-tenant-lifecycle"];
        all.extend_from_slice(args);
        all.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let can = |args: Vec<String>| {
        let sa = &sa;
        async move {
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let (_, out, _) = sa.try_run(&refs).await;
            out.trim().to_string()
        }
    };
    assert_eq!(can(as_sa(&["auth", "can-i", "create", "pods", "-n", "billing"])).await, "yes");
    assert_eq!(can(as_sa(&["auth", "can-i", "list", "pods", "-A"])).await, "yes");
    assert_eq!(can(as_sa(&["auth", "can-i", "create", "pods", "-n", "argo"])).await, "no");
    let refs: Vec<String> = as_sa(&["get", "pods", "-n", "billing", "--no-headers"]);
    let (ok, out, err) = sa.try_run(&refs.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(ok && out.starts_with("branch-2 "), "{out}{err}");
    let refs = as_sa(&["delete", "pod", "branch-2", "-n", "argo"]);
    let (ok, _, err) = sa.try_run(&refs.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "Error from server (Forbidden): pods \"branch-2\" is forbidden: User \"system:serviceaccount:argo:tenant-lifecycle\" cannot delete resource \"pods\" in API group \"\" in the namespace \"argo\""
    );

    let (ok, _, err) =
        k.try_run(&["--as=system:serviceaccount:argo:tenant-lifecycle", "get", "pods", "-n", "billing"]).await;
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "Error from server (BadRequest): Unable to list \"/v1, Resource=pods\": impersonation (Impersonate-User/-Group headers, `kubectl --as`) is not supported by the tlc embedded cluster: authenticate with the user's or service account's own token"
    );

    let (ok, _, err) = k.try_run(&["apply", "-f", &file("aggregated.yaml", AGGREGATED)]).await;
    assert!(!ok);
    // kubectl words a 422 from the Status details itself.
    assert_eq!(
        err.trim(),
        "The ClusterRole \"monitoring\" is invalid: aggregationRule: Forbidden: aggregated ClusterRoles are not supported by the tlc embedded cluster (it runs no clusterrole-aggregation controller): list the rules in `rules` instead"
    );
}
