//! The Argo engine: one Workflow per batch, made from the `tenant-lifecycle` WorkflowTemplate that
//! `deploy/argo/` installs in each region's cluster. The fan-out then runs in the cluster — it
//! survives the operator's laptop and scales with the cluster — and every console shows it the same
//! way, whoever submitted it: the Workflow carries the contract's labels, its branch pods too.
//!
//! This module does the I/O (submit, read, stop, retry) in the Argo client's terms; what a Workflow's
//! status means is `lifecycle::argo`'s pure code.

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::direct::BranchResult;
use super::plan::{Plan, PlannedBatch};
use crate::contract::labels::{BATCH_ID, ENGINE, MANAGED_BY, MANAGER, OPERATION, TENANT_ID};
use crate::contract::labels::{MIGRATION, MIGRATION_TARGET, REGION, TENANT_NAME};
use crate::lifecycle::argo::{self, Shutdown, State, WorkflowRun};
use crate::lifecycle::bridge::Outcome;
use crate::lifecycle::error::{Error, Result, kube_error};
use crate::lifecycle::regions::{Region, Regions};
use crate::lifecycle::run::{Batch, RunEvent, WorkflowInfo};

/// Argo's API group and version.
pub const GROUP: &str = "argoproj.io";
/// See [`GROUP`].
pub const VERSION: &str = "v1alpha1";

/// The resource of an Argo kind (`Workflow`, `WorkflowTemplate`).
pub fn resource(kind: &str) -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(GROUP, VERSION, kind))
}

/// Where the template is in every region (the configuration's `run.argo_namespace` and
/// `run.workflow_template`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgoSettings {
    /// The namespace of the template and its Workflows.
    pub namespace: String,
    /// The WorkflowTemplate's name.
    pub template: String,
}

impl ArgoSettings {
    /// The settings a configuration names (`run.argo_namespace`, `run.workflow_template`).
    pub fn from_config(config: &crate::config::Config) -> Self {
        ArgoSettings { namespace: config.run.argo_namespace.clone(), template: config.run.workflow_template.clone() }
    }
}

/// A Workflow submitted for a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The region.
    pub region: String,
    /// The batch.
    pub batch_id: String,
    /// The Workflow's namespace.
    pub namespace: String,
    /// The Workflow's name.
    pub name: String,
    /// False when it already existed (the same batch submitted again): attached, not created.
    pub created: bool,
}

/// The Workflow's name for a batch: the template's name and the batch id, so submitting the same
/// batch again finds the same Workflow (409 is attach, not a second run).
pub fn workflow_name(template: &str, batch_id: &str) -> String {
    format!("{template}-{batch_id}")
}

/// The Workflow that runs `batch` from the template: nothing but `workflowTemplateRef` and
/// parameters (what `argo submit --from` and the Sensor make), plus the contract's labels and
/// annotations on it from the start (the template's `workflowMetadata` adds its own as the
/// controller picks it up). Every Job the plan previewed is named in `jobs`, so the run is
/// exactly the preview.
pub fn workflow_for(settings: &ArgoSettings, operation: &str, changeset: &str, batch: &PlannedBatch) -> Value {
    let first = batch.branches.first();
    let migration = first.and_then(|b| b.migration.clone());
    let jobs: Vec<String> = batch.branches.iter().map(|b| b.job.job.to_string()).collect();
    let mut annotations = serde_json::Map::new();
    annotations.insert(TENANT_NAME.into(), json!(batch.tenant.name));
    annotations.insert(REGION.into(), json!(batch.region));
    if let Some(m) = &migration {
        annotations.insert(MIGRATION.into(), json!(m.id));
        annotations.insert(MIGRATION_TARGET.into(), json!(m.target));
    }
    let parameter = |name: &str, value: &str| json!({"name": name, "value": value});
    json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": "Workflow",
        "metadata": {
            "name": workflow_name(&settings.template, &batch.batch_id),
            "namespace": settings.namespace,
            "labels": {
                BATCH_ID: batch.batch_id,
                TENANT_ID: batch.tenant.id,
                OPERATION: operation,
                ENGINE: "argo",
                MANAGED_BY: MANAGER,
            },
            "annotations": annotations,
        },
        "spec": {
            "workflowTemplateRef": {"name": settings.template},
            "arguments": {"parameters": [
                parameter("tenant", &batch.tenant.id),
                parameter("operation", operation),
                parameter("batch", &batch.batch_id),
                parameter("changeset", changeset),
                parameter("jobs", &jobs.join(",")),
                parameter("migration", migration.as_ref().map_or("", |m| m.id.as_str())),
                parameter("migration-target", migration.as_ref().map_or("", |m| m.target.as_str())),
            ]},
        },
    })
}

/// What to do where the template is missing (the engine's error and the doctor say it alike).
pub const INSTALL_HINT: &str =
    "install tlc's Argo kit (kubectl apply -f deploy/argo/; see docs/argo.md), or run with --engine direct";

/// The Argo engine over some regions.
#[derive(Clone, Debug)]
pub struct ArgoEngine {
    /// Where batches run.
    pub regions: Regions,
    /// Where the template is.
    pub settings: ArgoSettings,
}

impl ArgoEngine {
    fn workflows(&self, region: &Region) -> Api<DynamicObject> {
        Api::namespaced_with(region.client.clone(), &self.settings.namespace, &resource("Workflow"))
    }

    /// Whether `region` has the template. A region without it cannot run the Argo engine: the
    /// error says what to install.
    pub async fn require_template(&self, region: &str) -> Result<()> {
        let r = self.regions.require(region)?;
        let templates: Api<DynamicObject> =
            Api::namespaced_with(r.client.clone(), &self.settings.namespace, &resource("WorkflowTemplate"));
        match templates.get_opt(&self.settings.template).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(Error::Input(format!(
                "{region} has no WorkflowTemplate {}/{}: {INSTALL_HINT}",
                self.settings.namespace, self.settings.template
            ))),
            Err(e) => Err(kube_error(region, "get", "workflowtemplates", Some(&self.settings.namespace))(e)),
        }
    }

    /// Submits one Workflow per batch of the plan (after checking every region has the template);
    /// an existing Workflow of the same batch is attached to.
    pub async fn submit(&self, plan: &Plan, changeset: &str) -> Result<Vec<Submitted>> {
        if !plan.is_runnable() {
            return Err(Error::Input(plan.problems.join("; ")));
        }
        let mut regions: Vec<&str> = plan.batches.iter().map(|b| b.region.as_str()).collect();
        regions.sort_unstable();
        regions.dedup();
        for region in regions {
            self.require_template(region).await?;
        }
        let mut submitted = Vec::new();
        for batch in &plan.batches {
            let region = self.regions.require(&batch.region)?;
            let object: DynamicObject =
                serde_json::from_value(workflow_for(&self.settings, plan.operation.as_str(), changeset, batch))
                    .map_err(|e| Error::Input(format!("cannot build the Workflow of batch {}: {e}", batch.batch_id)))?;
            let name = workflow_name(&self.settings.template, &batch.batch_id);
            let created = match self.workflows(region).create(&PostParams::default(), &object).await {
                Ok(_) => true,
                Err(kube::Error::Api(s)) if s.code == 409 => false,
                Err(e) => {
                    return Err(kube_error(&batch.region, "create", "workflows", Some(&self.settings.namespace))(e));
                }
            };
            tracing::info!(region = batch.region, workflow = name, created, "workflow submitted");
            submitted.push(Submitted {
                region: batch.region.clone(),
                batch_id: batch.batch_id.clone(),
                namespace: self.settings.namespace.clone(),
                name,
                created,
            });
        }
        Ok(submitted)
    }

    /// Reads a Workflow.
    pub async fn get(&self, region: &str, namespace: &str, name: &str) -> Result<Value> {
        let r = self.regions.require(region)?;
        let api: Api<DynamicObject> = Api::namespaced_with(r.client.clone(), namespace, &resource("Workflow"));
        let object = api.get(name).await.map_err(kube_error(region, "get", "workflows", Some(namespace)))?;
        serde_json::to_value(object).map_err(|e| Error::Input(format!("workflow {namespace}/{name}: {e}")))
    }

    /// Runs a confirmed plan: one Workflow per batch (see [`ArgoEngine::submit`]), then waits until
    /// every Workflow has ended (or `stop`: they run on in the cluster) and says how each planned
    /// branch ended, as the Workflow's nodes tell it.
    pub async fn execute(
        &self,
        plan: &Plan,
        changeset: &str,
        events: &UnboundedSender<RunEvent>,
        stop: &CancellationToken,
    ) -> Result<Vec<BranchResult>> {
        let submitted = self.submit(plan, changeset).await?;
        for batch in &plan.batches {
            for spec in &batch.branches {
                let _ = events.send(RunEvent::Planned(spec.identity()));
            }
        }
        let mut results = Vec::new();
        for (batch, workflow) in plan.batches.iter().zip(&submitted) {
            let ended = tokio::select! {
                ended = self.wait_until_ended(workflow) => Some(ended?),
                () = stop.cancelled() => None,
            };
            for spec in &batch.branches {
                let outcome = match &ended {
                    None => Some(Ok(Outcome {
                        phase: "Running".into(),
                        exit_code: None,
                        reason: Some(format!("no longer followed; Workflow {} goes on in the cluster", workflow.name)),
                    })),
                    Some(run) => branch_outcome(run, &spec.job.job),
                };
                results.push(BranchResult { spec: spec.clone(), outcome });
            }
        }
        Ok(results)
    }

    /// Waits on a watch until a submitted Workflow has ended; its status, read.
    async fn wait_until_ended(&self, workflow: &Submitted) -> Result<WorkflowRun> {
        let region = self.regions.require(&workflow.region)?;
        let api = self.workflows(region);
        let ended = kube::runtime::wait::await_condition(api, &workflow.name, |w: Option<&DynamicObject>| {
            w.and_then(|w| w.data.pointer("/status/phase"))
                .and_then(Value::as_str)
                .is_some_and(|p| argo::WorkflowPhase::parse(p).is_final())
        })
        .await
        .map_err(|e| {
            Error::gave_up(&workflow.region, "watch", "workflows", Some(&workflow.namespace), e.to_string())
        })?;
        let object = ended.ok_or_else(|| {
            Error::NotFound(format!("Workflow {}/{} was deleted before it ended", workflow.namespace, workflow.name))
        })?;
        WorkflowRun::from_dynamic(&object).map_err(|e| Error::Input(e.to_string()))
    }

    /// Stops (Argo's Stop: running steps get SIGTERM, exit handlers still run) or terminates a
    /// batch's Workflow; refused on a finished one with Argo's own message.
    pub async fn shutdown(&self, batch: &Batch, how: Shutdown) -> Result<String> {
        let w = workflow_of(batch)?;
        let object = self.get(&batch.region, &w.namespace, &w.name).await?;
        let patch = argo::actions::shutdown_patch(&object, how).map_err(|e| Error::Refused(e.to_string()))?;
        self.patch(&batch.region, &w.namespace, &w.name, &patch).await?;
        tracing::info!(region = batch.region, workflow = w.name, how = how.as_str(), "workflow shut down");
        Ok(format!("{}/{}", w.namespace, w.name))
    }

    /// What retrying a batch's Workflow would do (Argo's semantics: every failed branch of a
    /// Failed or Error Workflow runs again); refused where Argo refuses, with its words.
    pub async fn retry_plan(&self, batch: &Batch) -> Result<argo::RetryPlan> {
        let w = workflow_of(batch)?;
        let object = self.get(&batch.region, &w.namespace, &w.name).await?;
        argo::actions::retry(&object, jiff::Timestamp::now()).map_err(|e| Error::Refused(e.to_string()))
    }

    /// Carries out a retry: deletes the pods the retry names, then writes the Workflow back (a plain
    /// update: a concurrent change is a conflict, never lost). The controller runs the failed
    /// branches again; each bridge starts the branch's next attempt.
    pub async fn retry(&self, batch: &Batch, plan: &argo::RetryPlan) -> Result<()> {
        let w = workflow_of(batch)?;
        let region = self.regions.require(&batch.region)?;
        let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(region.client.clone(), &w.namespace);
        for pod in &plan.pods_to_delete {
            match pods.delete(pod, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(kube_error(&batch.region, "delete", "pods", Some(&w.namespace))(e)),
            }
        }
        let object: DynamicObject = serde_json::from_value(plan.workflow.clone())
            .map_err(|e| Error::Input(format!("the retried Workflow {}/{}: {e}", w.namespace, w.name)))?;
        let api: Api<DynamicObject> = Api::namespaced_with(region.client.clone(), &w.namespace, &resource("Workflow"));
        api.replace(&w.name, &PostParams::default(), &object).await.map_err(kube_error(
            &batch.region,
            "update",
            "workflows",
            Some(&w.namespace),
        ))?;
        tracing::info!(region = batch.region, workflow = w.name, reruns = plan.rerun.len(), "workflow retried");
        Ok(())
    }

    /// Sends a merge patch to a Workflow (stop, terminate).
    pub async fn patch(&self, region: &str, namespace: &str, name: &str, patch: &Value) -> Result<()> {
        let r = self.regions.require(region)?;
        let api: Api<DynamicObject> = Api::namespaced_with(r.client.clone(), namespace, &resource("Workflow"));
        api.patch(name, &PatchParams::default(), &Patch::Merge(patch)).await.map_err(kube_error(
            region,
            "patch",
            "workflows",
            Some(namespace),
        ))?;
        Ok(())
    }
}

/// A batch's Workflow, or why it has none.
fn workflow_of(batch: &Batch) -> Result<&WorkflowInfo> {
    batch
        .workflow
        .as_ref()
        .ok_or_else(|| Error::Input(format!("batch {} has no Workflow: it did not run on the Argo engine", batch.id)))
}

/// How a planned branch ended, as the ended Workflow says: its node's state and exit code; not
/// run at all, with the reason, when the Workflow never reached it (discovery failed, it was
/// stopped, in-cluster discovery did not list it).
fn branch_outcome(run: &WorkflowRun, job: &crate::contract::JobRef) -> Option<Result<Outcome>> {
    let not_run = |why: String| Some(Err(Error::Input(format!("{job}: not run by Workflow {}: {why}", run.name))));
    let Some(branch) = run.branch(job) else {
        let why = match &run.stage {
            argo::Stage::DiscoveryFailed => "discovery failed".to_string(),
            argo::Stage::NothingToRun { message } => message.clone(),
            _ => run.message.clone().unwrap_or_else(|| "in-cluster discovery did not list it".into()),
        };
        return not_run(why);
    };
    let phase = match branch.state() {
        State::Succeeded => "Succeeded",
        State::Failed => "Failed",
        State::Pending | State::Running => {
            return not_run(run.message.clone().unwrap_or_else(|| "it never ended".into()));
        }
        State::Skipped | State::Omitted => return not_run("Argo skipped it".into()),
    };
    let reason = branch.unit.as_ref().and_then(|u| u.message.clone());
    Some(Ok(Outcome { phase: phase.into(), exit_code: branch.exit_code(), reason }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::engine::plan::{Request, plan};

    #[test]
    fn a_batch_becomes_a_workflow_of_the_template_with_the_contracts_labels_and_the_previewed_jobs() {
        let key = "tlc.dev/lifecycle";
        let job: k8s_openapi::api::batch::v1::Job = serde_json::from_value(json!({
            "metadata": {"name": "billing-account", "namespace": "billing", "annotations": {key: "lifecycle.migrate-out"}},
            "spec": {"suspend": true, "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "true"]}]}}}
        }))
        .expect("job");
        let lifecycle = crate::contract::LifecycleJob::from_job(&job, key, "/m").expect("lifecycle job");
        let tenant = crate::tenants::Tenant {
            id: "1da11ccf-6654-4f57-8807-6bb944658fe6".into(),
            name: "acme-prod".into(),
            display_name: None,
            region: "eu-west".into(),
            plan: None,
            services: vec![],
            labels: Default::default(),
            environment_yaml: "id: x\n".into(),
            origin: "tenants/tenant-acme-prod".into(),
            problems: vec![],
        };
        let request = crate::lifecycle::engine::migrate::migrate_out_request(
            Request {
                tenants: vec![tenant],
                operation: crate::contract::Operation::from(crate::contract::operation::KnownOperation::MigrateOut),
                changeset_yaml: "reason: move\n".into(),
                only_jobs: None,
                engine: crate::contract::Engine::Argo,
                mount_dir: "/m".into(),
                migration: None,
            },
            "us-east",
        );
        let p = plan(&request, &[("eu-west".to_string(), vec![lifecycle])].into_iter().collect());
        let settings = ArgoSettings { namespace: "argo".into(), template: "tenant-lifecycle".into() };
        let batch = &p.batches[0];
        let w = workflow_for(&settings, p.operation.as_str(), "reason: move\n", batch);
        assert_eq!(w["metadata"]["name"], format!("tenant-lifecycle-{}", batch.batch_id));
        assert_eq!(w["metadata"]["labels"]["tlc.dev/batch-id"], batch.batch_id.as_str());
        assert_eq!(w["metadata"]["labels"]["tlc.dev/engine"], "argo");
        assert_eq!(w["metadata"]["annotations"]["tlc.dev/migration"], batch.batch_id.as_str(), "its own migration");
        assert_eq!(w["metadata"]["annotations"]["tlc.dev/migration-target"], "us-east");
        let params: Vec<(String, String)> = w["spec"]["arguments"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .map(|p| (p["name"].as_str().unwrap_or("").into(), p["value"].as_str().unwrap_or("").into()))
            .collect();
        let expected: Vec<(String, String)> = [
            ("tenant", "1da11ccf-6654-4f57-8807-6bb944658fe6"),
            ("operation", "lifecycle.migrate-out"),
            ("batch", batch.batch_id.as_str()),
            ("changeset", "reason: move\n"),
            ("jobs", "billing/billing-account"),
            ("migration", batch.batch_id.as_str()),
            ("migration-target", "us-east"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(params, expected);
        let template: Value = serde_saphyr::from_str(crate::demo::argo::WORKFLOW_TEMPLATE).expect("template");
        let declared: Vec<&str> = template["spec"]["arguments"]["parameters"]
            .as_array()
            .expect("declared")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(
            params.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            declared,
            "the template's parameters, in order"
        );
    }
}
