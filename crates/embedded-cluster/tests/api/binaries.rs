//! Registered binaries: containers whose command names an in-process program run it instead of the
//! shell — with the argv and environment the shell would get, the pod's shared files, the container
//! log, SIGTERM with a grace period, `exec` of other programs, and the service account's API access.

use std::sync::Arc;

use embedded_cluster::kubelet::{Binaries, Invocation, SignalError};
use embedded_cluster::testing::{DEADLINE, api_error, cluster_with, exit_code, run_pod, wait_finished};
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Pod};
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams};
use serde_json::json;

fn pod(value: serde_json::Value) -> Pod {
    serde_json::from_value(value).expect("valid pod")
}

async fn log(pods: &Api<Pod>, name: &str, container: &str) -> String {
    pods.logs(name, &LogParams { container: Some(container.into()), ..Default::default() }).await.expect("log")
}

fn terminated(p: &Pod, container: &str) -> Option<(i32, String)> {
    let statuses = p.status.as_ref()?;
    let all = statuses.container_statuses.iter().flatten().chain(statuses.init_container_statuses.iter().flatten());
    let c = all.into_iter().find(|c| c.name == container)?;
    let t = c.state.as_ref()?.terminated.as_ref()?;
    Some((t.exit_code, t.reason.clone().unwrap_or_default()))
}

/// Waits (on a watch) until a container of the pod is running.
async fn wait_running(pods: &Api<Pod>, name: &str, container: &str) {
    let container = container.to_string();
    let cond = kube::runtime::wait::await_condition(pods.clone(), name, move |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref())
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.name == container))
            .and_then(|c| c.state.as_ref())
            .is_some_and(|s| s.running.is_some())
    });
    tokio::time::timeout(DEADLINE, cond).await.expect("running before the deadline").expect("watch");
}

/// Prints its argv and a few variables, writes to both streams, exits with the code in argv[1].
async fn hello(inv: Invocation) -> i32 {
    inv.stdout.line(&format!("argv={:?}", inv.argv));
    for key in ["GREETING", "HOSTNAME", "POD_NAME", "FROM_CM"] {
        inv.stdout.line(&format!("{key}={}", inv.env.get(key).map(String::as_str).unwrap_or("<unset>")));
    }
    inv.stdout.line(&format!(
        "pod={}/{} sa={} node={} container={} team={}",
        inv.pod.namespace,
        inv.pod.name,
        inv.pod.service_account,
        inv.pod.node_name,
        inv.container,
        inv.pod.labels.get("team").map(String::as_str).unwrap_or_default()
    ));
    inv.stderr.write(b"to stderr\n");
    inv.argv.get(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn binaries() -> Binaries {
    Binaries::new().with("hello", Arc::new(hello))
}

/// What the test binaries do through the API, granted to the `default` service account of
/// `default` (the subject's namespace is the binding's).
const GRANTS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: test-binaries, namespace: default}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [create]
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: test-binaries, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: test-binaries}
subjects:
- {kind: ServiceAccount, name: default}
"#;

async fn start(scale: f64) -> EmbeddedCluster {
    let mut config = ClusterConfig::new("test").with_time_scale(scale);
    config.binaries = binaries();
    let c = cluster_with(config).await;
    c.apply_manifests("grants", GRANTS).expect("RBAC for the test binaries");
    c
}

#[tokio::test]
async fn a_binary_gets_the_shells_argv_and_env_and_its_exit_code_log_and_events_are_a_containers() {
    let c = start(0.0).await;
    let client = c.client().await.expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "settings"}, "data": {"k": "from-configmap"}})).expect("cm");
    cms.create(&PostParams::default(), &cm).await.expect("configmap");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let env = json!([
        {"name": "GREETING", "value": "hi $(HOSTNAME)"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "k"}}}
    ]);
    let spec = |name: &str, command: serde_json::Value| {
        pod(json!({"metadata": {"name": name, "labels": {"team": "a"}}, "spec": {"restartPolicy": "Never",
            "containers": [{"name": "main", "image": "example/hello:1", "command": command,
                "args": ["$(GREETING)", "$(UNDEFINED)", "$$(GREETING)"], "env": env}]}}))
    };
    let done = run_pod(&pods, &spec("bin", json!(["/usr/local/bin/hello", "3"]))).await;
    assert_eq!(exit_code(&done), 3);
    assert_eq!(terminated(&done, "main"), Some((3, "Error".to_string())));
    assert_eq!(done.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Failed"));
    assert_eq!(
        log(&pods, "bin", "main").await,
        "argv=[\"/usr/local/bin/hello\", \"3\", \"hi bin\", \"$(UNDEFINED)\", \"$(GREETING)\"]\n\
         GREETING=hi bin\nHOSTNAME=bin\nPOD_NAME=bin\nFROM_CM=from-configmap\n\
         pod=default/bin sa=default node=test-node-1 container=main team=a\nto stderr\n"
    );
    // The shell gets the same argv: `echo "$@"` after `sh -c` sees the expanded args.
    let shell = spec("sh", json!(["sh", "-c", "echo \"$0|$1|$2|$GREETING|$FROM_CM\"; exit 3"]));
    let done = run_pod(&pods, &shell).await;
    assert_eq!(exit_code(&done), 3);
    assert_eq!(log(&pods, "sh", "main").await, "hi sh|$(UNDEFINED)|$(GREETING)|hi sh|from-configmap\n");

    let ok = run_pod(&pods, &spec("zero", json!(["hello", "0"]))).await;
    assert_eq!(terminated(&ok, "main"), Some((0, "Completed".to_string())));
    assert_eq!(ok.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded"));
    let events: Api<Event> = Api::namespaced(client, "default");
    let reasons: Vec<String> = events
        .list(&ListParams::default().fields("involvedObject.name=zero"))
        .await
        .expect("events")
        .items
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    for r in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(reasons.iter().any(|x| x == r), "{r} in {reasons:?}");
    }
}

#[tokio::test]
async fn unknown_commands_still_go_to_the_shell_and_a_panic_is_exit_code_101() {
    let c = start(0.0).await;
    c.install_binary("boom", Arc::new(|_inv: Invocation| async { panic!("the disk is on fire") }));
    let pods: Api<Pod> = Api::namespaced(c.client().await.expect("client"), "default");
    let nginx = pod(json!({"metadata": {"name": "nginx"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "nginx", "command": ["nginx", "-g", "daemon off;"]}]}}));
    assert_eq!(exit_code(&run_pod(&pods, &nginx).await), 127);
    assert!(log(&pods, "nginx", "main").await.starts_with("tlc simulated kubelet: cannot run 'nginx'"));
    let boom = pod(json!({"metadata": {"name": "boom"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "x", "command": ["/bin/boom"]}]}}));
    assert_eq!(exit_code(&run_pod(&pods, &boom).await), 101);
    assert_eq!(log(&pods, "boom", "main").await, "boom: panicked: the disk is on fire\n");
}

/// Writes in the shared files and tries to write into its ConfigMap mount.
async fn writer(inv: Invocation) -> i32 {
    let config = inv.fs.read_to_string("/config/app.yaml").unwrap_or_else(|e| e.to_string());
    inv.stdout.line(&format!("config: {}", config.trim_end()));
    match inv.fs.write("/config/app.yaml", b"changed") {
        Ok(()) => inv.stdout.line("wrote into the ConfigMap volume?!"),
        Err(e) => inv.stdout.line(&format!("write refused: {e}")),
    }
    let input = inv.fs.read_to_string("/work/input.txt").unwrap_or_else(|e| e.to_string());
    inv.stdout.line(&format!("init left: {}", input.trim_end()));
    let wrote = inv.fs.write("/work/result", b"42\n").and_then(|()| inv.fs.append("/work/result", b"43\n"));
    i32::from(wrote.is_err())
}

async fn waiter(inv: Invocation) -> i32 {
    let content = inv.fs.wait_for("work/./result").await;
    inv.stdout.write(&content);
    inv.stdout.line(&format!("sees the ConfigMap: {}", inv.fs.exists("/config/app.yaml")));
    0
}

async fn prepare(inv: Invocation) -> i32 {
    i32::from(inv.fs.write("/work/input.txt", b"from init\n").is_err())
}

#[tokio::test]
async fn containers_of_a_pod_share_files_configmap_files_are_read_only_and_wait_for_waits() {
    let c = start(0.0).await;
    c.install_binary("writer", Arc::new(writer));
    c.install_binary("waiter", Arc::new(waiter));
    c.install_binary("prepare", Arc::new(prepare));
    let client = c.client().await.expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "app"}, "data": {"app.yaml": "replicas: 2\n"}}))
            .expect("cm");
    cms.create(&PostParams::default(), &cm).await.expect("configmap");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let p = pod(json!({"metadata": {"name": "shared"}, "spec": {"restartPolicy": "Never",
        "volumes": [{"name": "config", "configMap": {"name": "app"}}, {"name": "work", "emptyDir": {}}],
        "initContainers": [{"name": "prepare", "image": "x", "command": ["prepare"]}],
        "containers": [
            {"name": "waiter", "image": "x", "command": ["waiter"]},
            {"name": "writer", "image": "x", "command": ["writer"],
                "volumeMounts": [{"name": "config", "mountPath": "/config"}, {"name": "work", "mountPath": "/work"}]},
            {"name": "shell", "image": "busybox", "command": ["sh", "-c",
                "while ! test -f /work/result; do sleep 1; done; cat /work/input.txt /work/result /config/app.yaml"],
                "volumeMounts": [{"name": "config", "mountPath": "/config", "readOnly": true}]}]}}));
    let done = run_pod(&pods, &p).await;
    assert_eq!(done.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded"));
    assert_eq!(
        log(&pods, "shared", "writer").await,
        "config: replicas: 2\nwrite refused: /config/app.yaml: Read-only file system\ninit left: from init\n"
    );
    assert_eq!(log(&pods, "shared", "waiter").await, "42\n43\nsees the ConfigMap: false\n");
    assert_eq!(log(&pods, "shared", "shell").await, "from init\n42\n43\nreplicas: 2\n");
}

/// `emissary -- CMD...`: runs CMD in the same container, records its exit code, exits with it.
async fn emissary(inv: Invocation) -> i32 {
    let argv: Vec<String> = inv.argv.iter().skip_while(|a| *a != "--").skip(1).cloned().collect();
    let code = inv.exec(argv).await;
    let _ = inv.fs.write("/var/run/argo/ctr/main/exitcode", code.to_string().as_bytes());
    inv.stdout.line(&format!("emissary: child exited {code}"));
    code
}

#[tokio::test]
async fn exec_runs_a_shell_script_or_another_binary_in_the_same_container() {
    let c = start(0.0).await;
    c.install_binary("argoexec", Arc::new(emissary));
    let client = c.client().await.expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "in"}, "data": {"v": "mounted"}})).expect("cm");
    cms.create(&PostParams::default(), &cm).await.expect("configmap");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let with = |name: &str, args: serde_json::Value| {
        pod(json!({"metadata": {"name": name}, "spec": {"restartPolicy": "Never",
            "volumes": [{"name": "in", "configMap": {"name": "in"}}],
            "containers": [{"name": "main", "image": "x", "command": ["/var/run/argo/argoexec", "emissary", "--"],
                "args": args, "env": [{"name": "WHO", "value": "the shell"}],
                "volumeMounts": [{"name": "in", "mountPath": "/in"}]}]}}))
    };
    let script = with("script", json!(["sh", "-c", "echo \"hello from $WHO\"; cat /in/v; echo; exit 4"]));
    assert_eq!(exit_code(&run_pod(&pods, &script).await), 4);
    assert_eq!(log(&pods, "script", "main").await, "hello from the shell\nmounted\nemissary: child exited 4\n");
    let binary = with("binary", json!(["hello", "5"]));
    assert_eq!(exit_code(&run_pod(&pods, &binary).await), 5);
    let text = log(&pods, "binary", "main").await;
    assert!(text.starts_with("argv=[\"hello\", \"5\"]\n"), "{text}");
    assert!(text.ends_with("to stderr\nemissary: child exited 5\n"), "{text}");
    let refused = with("refused", json!(["curl", "-s", "http://example.com"]));
    assert_eq!(exit_code(&run_pod(&pods, &refused).await), 127);
    let text = log(&pods, "refused", "main").await;
    assert!(text.starts_with("tlc simulated kubelet: cannot run 'curl'"), "{text}");
    assert!(text.ends_with("emissary: child exited 127\n"), "{text}");
    // SIGTERM is forwarded to the child: a shell that is not PID 1 dies of it (143).
    let forwarded = with("forwarded", json!(["sh", "-c", "echo waiting; sleep infinity"]));
    pods.create(&PostParams::default(), &forwarded).await.expect("create");
    wait_running(&pods, "forwarded", "main").await;
    c.signal_container("default", "forwarded", "main").expect("signal");
    assert_eq!(terminated(&wait_finished(&pods, "forwarded").await, "main"), Some((143, "Error".to_string())));
    assert_eq!(log(&pods, "forwarded", "main").await, "waiting\nemissary: child exited 143\n");
}

/// Waits for SIGTERM, then cleans up through the API (a ConfigMap records it) and exits 143.
async fn graceful(inv: Invocation) -> i32 {
    inv.stdout.line("serving");
    inv.terminate.cancelled().await;
    inv.stdout.line("SIGTERM: cleaning up");
    let Ok(client) = inv.api.client() else { return 1 };
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    let record: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": format!("{}-cleaned-up", inv.pod.name)},
        "data": {"user": inv.api.user()}
    }))
    .unwrap_or_default();
    match cms.create(&PostParams::default(), &record).await {
        Ok(_) => 143,
        Err(e) => {
            inv.stderr.line(&format!("cleanup failed: {e}"));
            1
        }
    }
}

/// Ignores SIGTERM (says so), runs until killed; tells the test when its future is dropped.
struct Stubborn {
    dropped: tokio::sync::mpsc::UnboundedSender<String>,
}

struct DropGuard(tokio::sync::mpsc::UnboundedSender<String>, String);

impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.0.send(self.1.clone());
    }
}

impl embedded_cluster::kubelet::Binary for Stubborn {
    fn run(&self, inv: Invocation) -> futures::future::BoxFuture<'static, i32> {
        let guard = DropGuard(self.dropped.clone(), inv.pod.name.clone());
        Box::pin(async move {
            let _guard = guard;
            inv.stdout.line("serving");
            inv.terminate.cancelled().await;
            inv.stdout.line("SIGTERM ignored");
            std::future::pending::<i32>().await
        })
    }
}

fn long_runner(name: &str, command: &str, grace: i64) -> Pod {
    pod(json!({"metadata": {"name": name}, "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": grace,
        "containers": [{"name": "main", "image": "x", "command": [command]}]}}))
}

#[tokio::test]
async fn sigterm_lets_a_binary_clean_up_kills_one_that_ignores_it_after_the_grace_period_and_kills_a_shell_at_once() {
    let c = start(0.01).await;
    let (dropped_tx, mut dropped) = tokio::sync::mpsc::unbounded_channel();
    c.install_binary("graceful", Arc::new(graceful));
    c.install_binary("stubborn", Arc::new(Stubborn { dropped: dropped_tx }));
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    // Cleans up: exits with its own code within a long grace period (3600 s x 0.01 = 36 s).
    pods.create(&PostParams::default(), &long_runner("graceful", "graceful", 3600)).await.expect("create");
    wait_running(&pods, "graceful", "main").await;
    c.signal_container("default", "graceful", "main").expect("signal");
    let done = wait_finished(&pods, "graceful").await;
    assert_eq!(terminated(&done, "main"), Some((143, "Error".to_string())));
    assert_eq!(log(&pods, "graceful", "main").await, "serving\nSIGTERM: cleaning up\n");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let record = cms.get("graceful-cleaned-up").await.expect("cleanup record");
    assert_eq!(
        record.data.and_then(|d| d.get("user").cloned()).as_deref(),
        Some("system:serviceaccount:default:default")
    );
    assert_eq!(
        c.signal_container("default", "graceful", "main"),
        Err(SignalError::NotRunning { namespace: "default".into(), pod: "graceful".into(), container: "main".into() })
    );

    // Ignores it: killed (137) once the grace period (1 s x 0.01) is over; its future is dropped.
    pods.create(&PostParams::default(), &long_runner("stubborn", "stubborn", 1)).await.expect("create");
    wait_running(&pods, "stubborn", "main").await;
    c.signal_container("default", "stubborn", "main").expect("signal");
    let done = wait_finished(&pods, "stubborn").await;
    assert_eq!(terminated(&done, "main"), Some((137, "Error".to_string())));
    assert_eq!(done.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Failed"));
    let dropped_name = tokio::time::timeout(DEADLINE, dropped.recv()).await.expect("dropped in time");
    assert_eq!(dropped_name.as_deref(), Some("stubborn"));
    assert_eq!(log(&pods, "stubborn", "main").await, "serving\nSIGTERM ignored\n");

    // A shell (PID 1, like busybox sh) ends at once with 137.
    let shell = pod(json!({"metadata": {"name": "shell"}, "spec": {"restartPolicy": "Never",
        "terminationGracePeriodSeconds": 3600,
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo up; sleep infinity"]}]}}));
    pods.create(&PostParams::default(), &shell).await.expect("create");
    wait_running(&pods, "shell", "main").await;
    c.signal_container("default", "shell", "main").expect("signal");
    assert_eq!(terminated(&wait_finished(&pods, "shell").await, "main"), Some((137, "Error".to_string())));

    assert_eq!(
        c.signal_container("default", "shell", "sidecar"),
        Err(SignalError::NoSuchContainer { pod: "shell".into(), container: "sidecar".into() })
    );
    assert_eq!(
        c.signal_container("default", "nope", "main"),
        Err(SignalError::PodNotFound { namespace: "default".into(), pod: "nope".into() })
    );
}

#[tokio::test]
async fn deleting_a_pod_terminates_its_binaries_with_the_grace_period() {
    let c = start(0.01).await;
    let (dropped_tx, mut dropped) = tokio::sync::mpsc::unbounded_channel();
    c.install_binary("graceful", Arc::new(graceful));
    c.install_binary("stubborn", Arc::new(Stubborn { dropped: dropped_tx }));
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client, "default");

    pods.create(&PostParams::default(), &long_runner("graceful", "graceful", 3600)).await.expect("create");
    wait_running(&pods, "graceful", "main").await;
    pods.delete("graceful", &DeleteParams::default()).await.expect("delete");
    tokio::time::timeout(
        DEADLINE,
        kube::runtime::wait::await_condition(pods.clone(), "graceful", kube::runtime::conditions::is_deleted("")),
    )
    .await
    .expect("deleted in time")
    .expect("watch");
    cms.get("graceful-cleaned-up").await.expect("cleaned up before the pod went");
    let killing = events
        .list(&ListParams::default().fields("involvedObject.name=graceful,reason=Killing"))
        .await
        .expect("events");
    assert_eq!(killing.items.len(), 1);
    assert_eq!(killing.items[0].message.as_deref(), Some("Stopping container main"));

    pods.create(&PostParams::default(), &long_runner("stubborn", "stubborn", 1)).await.expect("create");
    wait_running(&pods, "stubborn", "main").await;
    pods.delete("stubborn", &DeleteParams::default()).await.expect("delete");
    let dropped_name = tokio::time::timeout(DEADLINE, dropped.recv()).await.expect("killed in time");
    assert_eq!(dropped_name.as_deref(), Some("stubborn"));
    tokio::time::timeout(
        DEADLINE,
        kube::runtime::wait::await_condition(pods.clone(), "stubborn", kube::runtime::conditions::is_deleted("")),
    )
    .await
    .expect("deleted in time")
    .expect("watch");
}

#[tokio::test]
async fn active_deadline_sends_sigterm_to_binaries() {
    let c = start(0.01).await;
    c.install_binary("graceful", Arc::new(graceful));
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let p = pod(
        json!({"metadata": {"name": "deadline"}, "spec": {"restartPolicy": "Never", "activeDeadlineSeconds": 5,
        "terminationGracePeriodSeconds": 3600, "containers": [{"name": "main", "image": "x", "command": ["graceful"]}]}}),
    );
    let done = run_pod(&pods, &p).await;
    let status = done.status.clone().expect("status");
    assert_eq!((status.phase.as_deref(), status.reason.as_deref()), (Some("Failed"), Some("DeadlineExceeded")));
    assert_eq!(terminated(&done, "main"), Some((143, "Error".to_string())));
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    cms.get("deadline-cleaned-up").await.expect("cleaned up");
}

#[tokio::test]
async fn a_binarys_api_access_is_its_service_accounts_in_cluster_config() {
    let c = start(0.0).await;
    c.install_binary(
        "whoami",
        Arc::new(|inv: Invocation| async move {
            let config = inv.api.config();
            inv.stdout.line(&format!("{} ns={}", inv.api.user(), config.default_namespace));
            let Ok(client) = inv.api.client() else { return 1 };
            let pods: Api<Pod> = Api::default_namespaced(client);
            match pods.get(&inv.pod.name).await {
                Ok(me) => {
                    inv.stdout.line(&format!("I am {}", me.metadata.uid.unwrap_or_default() == inv.pod.uid));
                    0
                }
                Err(e) => {
                    inv.stderr.line(&e.to_string());
                    2
                }
            }
        }),
    );
    let client = c.client().await.expect("client");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let p = pod(json!({"metadata": {"name": "me"}, "spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "x", "command": ["whoami"]}]}}));
    assert_eq!(exit_code(&run_pod(&pods, &p).await), 0);
    assert_eq!(log(&pods, "me", "main").await, "system:serviceaccount:default:default ns=default\nI am true\n");
    let token = c.service_account_token("default", "default");
    assert_eq!(token, c.service_account_token("default", "default"));
    let as_sa = c.service_account_client("default", "default").await.expect("client");
    Api::<Pod>::namespaced(as_sa, "default").get("me").await.expect("the service account reads pods");
    let stranger = c.client_with_token("forged").await.expect("client");
    let (code, _, _) = api_error(Api::<Pod>::namespaced(stranger, "default").get("me").await.expect_err("401"));
    assert_eq!(code, 401);
}
