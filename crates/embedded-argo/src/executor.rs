//! `argoexec`, Argo's executor, as an in-process binary of the embedded cluster's kubelet:
//!
//! - `argoexec emissary [flags] -- CMD…` (the rewritten command of `main`) runs CMD in the same
//!   container (a shell script or another registered binary), forwards SIGTERM to it, copies the
//!   files of the template's output parameters to `/var/run/argo/outputs/parameters/<path>`, writes
//!   the exit code to `/var/run/argo/ctr/<container>/exitcode` and exits with CMD's code
//!   (`cmd/argoexec/commands/emissary.go`).
//! - `argoexec wait` (the `wait` container) creates the node's `WorkflowTaskResult`, waits for
//!   `main`'s exit code, reads each output parameter (one trailing newline trimmed, `default` when
//!   the file is missing), reports them and marks the result completed
//!   (`workflow/executor/taskresult.go`, `cmd/argoexec/commands/wait.go`) — through the API, with
//!   the pod's service account token, so RBAC applies as it would to the real executor.

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use embedded_cluster::kubelet::{Binary, Invocation};

/// Where emissary and wait meet.
pub const VAR_RUN_ARGO: &str = "/var/run/argo";

/// The `argoexec` binary, to register on a cluster under that name.
pub fn argoexec() -> Arc<dyn Binary> {
    Arc::new(|inv: Invocation| async move {
        match inv.argv.get(1).map(String::as_str) {
            Some("emissary") => emissary(inv).await,
            Some("wait") => wait(inv).await,
            Some(other) => {
                inv.stderr.line(&format!("Error: unknown command \"{other}\" for \"argoexec\""));
                inv.stderr.line(
                    "the embedded Argo executor runs `argoexec emissary` and `argoexec wait` only (no init, resource, data or agent)",
                );
                1
            }
            None => {
                inv.stderr.line("Error: argoexec needs a command");
                1
            }
        }
    })
}

fn template_of(inv: &Invocation) -> Result<Value, String> {
    let text = inv.env.get("ARGO_TEMPLATE").ok_or_else(|| "ARGO_TEMPLATE is not set".to_string())?;
    serde_json::from_str(text).map_err(|e| format!("failed to unmarshal template: {e}"))
}

fn output_parameters(template: &Value) -> Vec<Value> {
    template.pointer("/outputs/parameters").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn param_path(p: &Value) -> Option<&str> {
    p.pointer("/valueFrom/path").and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn saved_parameter_path(path: &str) -> String {
    format!("{VAR_RUN_ARGO}/outputs/parameters/{}", path.trim_start_matches('/'))
}

/// `argoexec emissary -- CMD…`.
async fn emissary(inv: Invocation) -> i32 {
    let container = inv.env.get("ARGO_CONTAINER_NAME").cloned().unwrap_or_else(|| "main".into());
    let exit_path = format!("{VAR_RUN_ARGO}/ctr/{container}/exitcode");
    let Some(dash) = inv.argv.iter().position(|a| a == "--") else {
        inv.stderr.line("Error: argoexec emissary needs `-- COMMAND`");
        let _ = inv.fs.write(&exit_path, b"64");
        return 64;
    };
    let command: Vec<String> = inv.argv[dash + 1..].to_vec();
    if command.is_empty() {
        inv.stderr.line("Error: argoexec emissary needs `-- COMMAND`");
        let _ = inv.fs.write(&exit_path, b"64");
        return 64;
    }
    let template = match template_of(&inv) {
        Ok(t) => t,
        Err(e) => {
            inv.stderr.line(&e);
            let _ = inv.fs.write(&exit_path, b"64");
            return 64;
        }
    };
    let code = inv.exec(command).await;
    if container == "main" {
        for p in output_parameters(&template) {
            let Some(path) = param_path(&p) else { continue };
            // A missing file might be optional: the wait container decides (default or error).
            if let Ok(content) = inv.fs.read(path) {
                let _ = inv.fs.write(&saved_parameter_path(path), &content);
            }
        }
    }
    let _ = inv.fs.write(&exit_path, code.to_string().as_bytes());
    code
}

fn task_results(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "WorkflowTaskResult");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "workflowtaskresults");
    Api::namespaced_with(client, namespace, &resource)
}

struct Reporter {
    api: Api<DynamicObject>,
    node_id: String,
    workflow: String,
    workflow_uid: String,
}

/// The error as Go's client reports it: an API status is its message alone
/// (`workflowtaskresults.argoproj.io is forbidden: User …`).
fn go_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => matches!(s.code, 429 | 500 | 502 | 503 | 504),
        _ => true,
    }
}

impl Reporter {
    async fn create(&self, result: &Value) -> Result<(), kube::Error> {
        let mut body = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "WorkflowTaskResult",
            "metadata": {
                "name": self.node_id,
                "labels": {
                    "workflows.argoproj.io/workflow": self.workflow,
                    "workflows.argoproj.io/report-outputs-completed": "false",
                },
                "ownerReferences": [{
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Workflow",
                    "name": self.workflow,
                    "uid": self.workflow_uid,
                }],
            },
        });
        for (k, v) in result.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        let object: DynamicObject = serde_json::from_value(body).map_err(kube::Error::SerdeError)?;
        self.api.create(&PostParams::default(), &object).await.map(|_| ())
    }

    async fn patch(&self, patch: &Value) -> Result<(), kube::Error> {
        self.api.patch(&self.node_id, &PatchParams::default(), &Patch::Merge(patch)).await.map(|_| ())
    }

    /// `upsertTaskResult`: create, or merge-patch when it exists.
    async fn upsert(&self, result: &Value) -> Result<(), kube::Error> {
        match self.create(result).await {
            Err(kube::Error::Api(s)) if s.code == 409 => self.patch(result).await,
            other => other,
        }
    }
}

/// Retries `f` on transient errors (Argo retries these forever with back-off; here on the node's
/// clock, a bounded number of times); returns the last error otherwise.
async fn with_retries<F, Fut>(inv: &Invocation, mut f: F) -> Result<(), kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), kube::Error>>,
{
    let mut delay = Duration::from_secs(1);
    for _ in 0..20 {
        match f().await {
            Err(e) if is_transient(&e) => {
                inv.clock.sleep(delay).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            other => return other,
        }
    }
    f().await
}

/// `argoexec wait`.
async fn wait(inv: Invocation) -> i32 {
    let mut errors: Vec<String> = Vec::new();
    let template = match template_of(&inv) {
        Ok(t) => t,
        Err(e) => {
            inv.stderr.line(&format!("level=fatal msg=\"{e}\""));
            return 1;
        }
    };
    let env = |k: &str| inv.env.get(k).cloned().unwrap_or_default();
    let client = match inv.api.client() {
        Ok(c) => c,
        Err(e) => {
            inv.stderr.line(&format!("level=fatal msg=\"cannot build a client: {e}\""));
            return 1;
        }
    };
    let reporter = Reporter {
        api: task_results(client, &inv.pod.namespace),
        node_id: env("ARGO_NODE_ID"),
        workflow: env("ARGO_WORKFLOW_NAME"),
        workflow_uid: env("ARGO_WORKFLOW_UID"),
    };
    // InitializeOutput: the result exists (not completed) before main can finish.
    let empty = json!({});
    if let Err(e) = with_retries(&inv, || reporter.upsert(&empty)).await {
        errors.push(go_error(&e));
        inv.stderr.line(&format!(
            "level=warning msg=\"failed to patch task result, see https://argo-workflows.readthedocs.io/en/latest/workflow-rbac/\" error=\"{}\"",
            go_error(&e)
        ));
    }
    // Wait for main (or for SIGTERM, after which outputs are still captured).
    let exit_path = format!("{VAR_RUN_ARGO}/ctr/main/exitcode");
    tokio::select! {
        _ = inv.fs.wait_for(&exit_path) => {}
        _ = inv.terminate.cancelled() => {}
    }
    // SaveParameters.
    let mut outputs = template.get("outputs").cloned().unwrap_or(json!({}));
    if let Some(params) = outputs.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params.iter_mut() {
            let Some(path) = param_path(p).map(str::to_string) else { continue };
            let saved = saved_parameter_path(&path);
            let value = match inv.fs.read_to_string(&saved) {
                Ok(content) => Some(content),
                Err(_) => match p
                    .pointer("/valueFrom/default")
                    .and_then(|d| d.as_str().map(str::to_string).or_else(|| Some(d.to_string())))
                {
                    Some(d) => Some(d),
                    None => {
                        errors.push(format!("open {saved}: no such file or directory"));
                        None
                    }
                },
            };
            if let Some(v) = value {
                p["value"] = json!(v.strip_suffix('\n').unwrap_or(&v));
            }
        }
    }
    // ReportOutputs.
    let report = json!({"outputs": outputs});
    if let Err(e) = with_retries(&inv, || reporter.upsert(&report)).await {
        errors.push(go_error(&e));
    }
    // FinalizeOutput.
    let done = json!({"metadata": {"labels": {"workflows.argoproj.io/report-outputs-completed": "true"}}});
    if let Err(e) = with_retries(&inv, || reporter.patch(&done)).await {
        inv.stderr.line(&format!(
            "level=warning msg=\"failed to patch task result, see https://argo-workflows.readthedocs.io/en/latest/workflow-rbac/\" error=\"{}\"", go_error(&e)
        ));
        errors.push(go_error(&e));
    }
    match errors.first() {
        None => 0,
        Some(first) => {
            let _ = inv.fs.write("/dev/termination-log", first.as_bytes());
            inv.stderr.line(&format!("level=fatal msg=\"{first}\""));
            1
        }
    }
}
