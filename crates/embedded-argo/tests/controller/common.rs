//! A cluster with the controller running, a stand-in `tlc` binary honouring the template's
//! arguments, and helpers to submit workflows and wait for them on watches.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use embedded_argo::status::NodeStatus;
use embedded_argo::{Controller, ControllerConfig};
use embedded_cluster::kubelet::Invocation;
use embedded_cluster::testing::DEADLINE;
use embedded_cluster::{ClusterConfig, EmbeddedCluster};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// The WorkflowTemplate tlc ships.
pub const TEMPLATE: &str = include_str!("../../../../deploy/argo/workflow-template.yaml");

/// Namespace `argo` with the `tlc` ConfigMap, the template's service account and Argo's executor
/// Role (`docs/workflow-rbac.md`: `workflowtaskresults` create, patch) bound to it and to
/// `default` (inline workflows' pods run as `default`). Service account `robot` has no role.
pub const SETUP: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: argo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tlc, namespace: argo}
data: {region: eu-west, config.toml: ""}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: tenant-lifecycle, namespace: argo}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot, namespace: argo}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: executor, namespace: argo}
rules:
- apiGroups: [argoproj.io]
  resources: [workflowtaskresults]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: executor, namespace: argo}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: executor}
subjects:
- {kind: ServiceAccount, name: tenant-lifecycle, namespace: argo}
- {kind: ServiceAccount, name: default, namespace: argo}
"#;

/// How the stand-in `tlc` behaves.
#[derive(Default)]
pub struct Behaviour {
    /// What `discover` writes to `jobs.json`.
    pub jobs: String,
    /// `discover` writes no `batch` file (its output is then missing).
    pub no_batch_file: bool,
    /// `bridge` exit codes by job (`NAMESPACE/NAME`); 0 otherwise.
    pub exit_codes: HashMap<String, i32>,
    /// Jobs whose bridge waits for a permit of [`Stub::gate`] (or SIGTERM).
    pub gated: Vec<String>,
    /// Jobs whose bridge ignores SIGTERM.
    pub stubborn: Vec<String>,
}

/// The stand-in `tlc`'s settings and what it saw.
pub struct Stub {
    /// Behaviour, changeable between runs.
    pub behaviour: Mutex<Behaviour>,
    /// Permits for gated bridges.
    pub gate: Semaphore,
    /// Bridge invocations by job.
    pub bridges: Mutex<BTreeMap<String, usize>>,
    /// The argv of every invocation.
    pub argvs: Mutex<Vec<Vec<String>>>,
}

impl Default for Stub {
    fn default() -> Self {
        Stub {
            behaviour: Mutex::default(),
            gate: Semaphore::new(0),
            bridges: Mutex::default(),
            argvs: Mutex::default(),
        }
    }
}

fn flag<'a>(argv: &'a [String], name: &str) -> Option<&'a str> {
    argv.iter().find_map(|a| a.strip_prefix(&format!("--{name}=")))
}

impl Stub {
    /// The `tlc` binary: `discover --outputs DIR` writes `DIR/jobs.json` and `DIR/batch`;
    /// `bridge --job NS/NAME` prints, waits when gated, exits with its code (143 on SIGTERM).
    pub fn binary(self: &Arc<Self>) -> Arc<dyn embedded_cluster::kubelet::Binary> {
        let stub = self.clone();
        Arc::new(move |inv: Invocation| {
            let stub = stub.clone();
            async move { stub.run(inv).await }
        })
    }

    async fn run(&self, inv: Invocation) -> i32 {
        self.argvs.lock().expect("lock").push(inv.argv.clone());
        match inv.argv.get(1).map(String::as_str) {
            Some("discover") => {
                let dir = flag(&inv.argv, "outputs").unwrap_or("/tmp/tlc").to_string();
                let (jobs, no_batch) = {
                    let b = self.behaviour.lock().expect("lock");
                    (b.jobs.clone(), b.no_batch_file)
                };
                inv.stdout.line(&format!("discovered for {}", flag(&inv.argv, "tenant").unwrap_or_default()));
                let _ = inv.fs.write(&format!("{dir}/jobs.json"), format!("{jobs}\n").as_bytes());
                if !no_batch {
                    let batch = flag(&inv.argv, "batch")
                        .filter(|b| !b.is_empty())
                        .unwrap_or("0197a0c6-0000-7000-8000-00000000b47c");
                    let _ = inv.fs.write(&format!("{dir}/batch"), batch.as_bytes());
                }
                0
            }
            Some("bridge") => {
                let job = flag(&inv.argv, "job").unwrap_or_default().to_string();
                *self.bridges.lock().expect("lock").entry(job.clone()).or_default() += 1;
                let (code, gated, stubborn) = {
                    let b = self.behaviour.lock().expect("lock");
                    (b.exit_codes.get(&job).copied().unwrap_or(0), b.gated.contains(&job), b.stubborn.contains(&job))
                };
                inv.stdout.line(&format!("bridge {job} started"));
                if gated {
                    if stubborn {
                        let _ = self.gate.acquire().await.map(|p| p.forget());
                    } else {
                        tokio::select! {
                            p = self.gate.acquire() => { let _ = p.map(|p| p.forget()); }
                            _ = inv.terminate.cancelled() => {
                                inv.stdout.line(&format!("bridge {job} stopping"));
                                return 143;
                            }
                        }
                    }
                }
                inv.stdout.line(&format!("bridge {job} exit {code}"));
                code
            }
            _ => {
                inv.stderr.line("tlc stand-in: unknown command");
                2
            }
        }
    }
}

/// A running cluster with the controller.
pub struct Env {
    /// The cluster (kept running while the test lasts).
    pub _cluster: EmbeddedCluster,
    /// The controller (stopped on drop).
    pub controller: Controller,
    /// An admin client.
    pub client: kube::Client,
    /// The stand-in `tlc`.
    pub stub: Arc<Stub>,
}

/// The Workflow resource.
pub fn workflow_resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Workflow"))
}

/// Starts a cluster at `scale`, the controller with `config`, namespace `argo` with the `tlc`
/// ConfigMap, and (when given) the WorkflowTemplate after `mutate`.
pub async fn start(scale: f64, config: ControllerConfig, template: Option<&dyn Fn(&mut Value)>) -> Env {
    let stub = Arc::new(Stub::default());
    let cluster = EmbeddedCluster::start(ClusterConfig::new("test").with_time_scale(scale)).await.expect("cluster");
    cluster.install_binary("tlc", stub.binary());
    let controller = Controller::start(&cluster, config);
    let client = cluster.client().await.expect("client");
    cluster.apply_manifests("setup", SETUP).expect("setup");
    if let Some(mutate) = template {
        let mut wft: Value = serde_saphyr::from_str(TEMPLATE).expect("template");
        mutate(&mut wft);
        let api: Api<DynamicObject> = Api::namespaced_with(
            client.clone(),
            "argo",
            &ApiResource::from_gvk(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "WorkflowTemplate")),
        );
        api.create(&PostParams::default(), &serde_json::from_value(wft).expect("object"))
            .await
            .expect("template created");
    }
    Env { _cluster: cluster, controller, client, stub }
}

impl Env {
    /// The workflows of namespace `argo`.
    pub fn workflows(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), "argo", &workflow_resource())
    }

    /// The pods of namespace `argo`.
    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "argo")
    }

    /// Sets the stand-in's jobs.
    pub fn jobs(&self, jobs: &[(&str, &str)]) {
        let list: Vec<Value> = jobs.iter().map(|(ns, name)| json!({"name": name, "namespace": ns})).collect();
        self.stub.behaviour.lock().expect("lock").jobs = serde_json::to_string(&list).expect("json");
    }

    /// Submits a Workflow from the template with nothing but the reference and two parameters.
    pub async fn submit(&self, name: &str) {
        self.create(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": "argo"},
            "spec": {"workflowTemplateRef": {"name": "tenant-lifecycle"},
                "arguments": {"parameters": [{"name": "tenant", "value": "globex-prod"}, {"name": "operation", "value": "lifecycle.upsert"}]}}}))
        .await;
    }

    /// Creates a Workflow.
    pub async fn create(&self, workflow: Value) {
        let object: DynamicObject = serde_json::from_value(workflow).expect("object");
        self.workflows().create(&PostParams::default(), &object).await.expect("workflow created");
    }

    /// Merge-patches a Workflow's spec (`{"shutdown": "Stop"}`, `{"suspend": true}`).
    pub async fn patch_spec(&self, name: &str, spec: Value) {
        self.workflows()
            .patch(name, &PatchParams::default(), &Patch::Merge(json!({"spec": spec})))
            .await
            .expect("patched");
    }

    /// Waits (on a watch) until the workflow satisfies `check`; returns it.
    pub async fn wait_for(&self, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let cond = kube::runtime::wait::await_condition(self.workflows(), name, move |w: Option<&DynamicObject>| {
            w.map(|w| serde_json::to_value(w).expect("json")).is_some_and(|w| check(&w))
        });
        let found = tokio::time::timeout(DEADLINE, cond)
            .await
            .unwrap_or_else(|_| panic!("workflow {name}: timed out waiting for {what}"))
            .expect("watch")
            .expect("exists");
        serde_json::to_value(found).expect("json")
    }

    /// Waits until the workflow's phase is `phase`.
    pub async fn wait_phase(&self, name: &str, phase: &str) -> Value {
        self.wait_for(name, phase, |w| w["status"]["phase"] == phase).await
    }

    /// The workflow's bridge pods that exist now.
    pub async fn pod_names(&self, workflow: &str) -> Vec<String> {
        let lp = ListParams::default().labels(&format!("workflows.argoproj.io/workflow={workflow}"));
        let mut names: Vec<String> =
            self.pods().list(&lp).await.expect("pods").items.into_iter().filter_map(|p| p.metadata.name).collect();
        names.sort();
        names
    }

    /// A container's log.
    pub async fn log(&self, pod: &str, container: &str) -> String {
        self.pods()
            .logs(pod, &kube::api::LogParams { container: Some(container.into()), ..Default::default() })
            .await
            .expect("log")
    }

    /// A watch of the workflow's pods: every event's pod, in order.
    pub fn watch_pods(&self, workflow: &str) -> tokio::sync::mpsc::UnboundedReceiver<watcher::Event<Pod>> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let cfg = watcher::Config::default().labels(&format!("workflows.argoproj.io/workflow={workflow}"));
        let stream = watcher(self.pods(), cfg);
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            while let Some(ev) = stream.next().await {
                if let Ok(ev) = ev
                    && tx.send(ev).is_err()
                {
                    break;
                }
            }
        });
        rx
    }
}

/// The nodes of a workflow's status (compressed or not), by id.
pub fn nodes(wf: &Value) -> BTreeMap<String, NodeStatus> {
    embedded_argo::packer::hydrate(&wf["status"]).expect("nodes")
}

/// The node called `name`.
pub fn node(wf: &Value, name: &str) -> NodeStatus {
    let wf_name = wf["metadata"]["name"].as_str().expect("name");
    nodes(wf)
        .remove(&embedded_argo::naming::node_id(wf_name, name))
        .unwrap_or_else(|| panic!("no node {name} in {wf_name}"))
}

/// The id of the node called `name` in workflow `wf`.
pub fn id(wf: &str, name: &str) -> String {
    embedded_argo::naming::node_id(wf, name)
}

/// The pod name of node `name` running template `template`.
pub fn pod_name(wf: &str, name: &str, template: &str) -> String {
    embedded_argo::naming::pod_name(wf, name, template)
}
