//! The bridge: turns one (job, tenant, operation, batch) into a running branch — a ConfigMap with
//! `environment.yaml` and `changeset.yaml`, owned by a pod made from the Job's pod template in the
//! Job's namespace with the tenant context injected — and reads back how it ended. Idempotent: the
//! pod's name is a function of (batch, job, attempt), and an existing pod (409) is attached to.

use k8s_openapi::api::core::v1::{ConfigMap, ConfigMapVolumeSource, EnvVar, Pod, Volume, VolumeMount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, PostParams};
use std::collections::BTreeMap;

use super::error::{Error, Result, kube_error, watch_refusal};
use crate::contract::context::{CHANGESET_FILE, ENVIRONMENT_FILE};
use crate::contract::job::LIFECYCLE_VOLUME;
use crate::contract::labels::{CANCELLED_BY, JOB_CONTROLLER_LABELS, MigrationLink};
use crate::contract::{BatchFiles, BranchIdentity, Engine, LifecycleJob, TenantContext, branch_pod_name};

/// Everything one branch runs with.
#[derive(Clone, Debug)]
pub struct BranchSpec {
    /// Region (kube context) it runs in.
    pub region: String,
    /// The lifecycle Job it is made from.
    pub job: LifecycleJob,
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant name (for the annotation).
    pub tenant_name: String,
    /// The tenant's `environment.yaml`.
    pub environment_yaml: String,
    /// The operation.
    pub operation: String,
    /// The batch id.
    pub batch_id: String,
    /// The operation's `changeset.yaml`.
    pub changeset_yaml: String,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// The engine that makes it (its `tlc.dev/engine` label).
    pub engine: Engine,
    /// Where the two files are mounted.
    pub mount_dir: String,
    /// The migration its batch is half of, if any.
    pub migration: Option<MigrationLink>,
}

impl BranchSpec {
    /// The branch's pod (and ConfigMap) name.
    pub fn pod_name(&self) -> String {
        branch_pod_name(&self.batch_id, &self.job.job.namespace, &self.job.job.name, self.attempt)
    }

    /// Its identity (labels and annotations).
    pub fn identity(&self) -> BranchIdentity {
        BranchIdentity {
            batch_id: self.batch_id.clone(),
            tenant_id: self.tenant_id.clone(),
            tenant_name: self.tenant_name.clone(),
            operation: self.operation.clone(),
            job_namespace: self.job.job.namespace.clone(),
            job_name: self.job.job.name.clone(),
            attempt: self.attempt,
            engine: Some(self.engine),
            region: self.region.clone(),
            migration: self.migration.clone(),
        }
    }

    /// The two files it mounts.
    pub fn files(&self) -> BatchFiles {
        BatchFiles { environment_yaml: self.environment_yaml.clone(), changeset_yaml: self.changeset_yaml.clone() }
    }

    /// The tenant context it injects.
    pub fn context(&self) -> TenantContext {
        TenantContext {
            tenant_id: self.tenant_id.clone(),
            batch_id: self.batch_id.clone(),
            operation: self.operation.clone(),
            mount_dir: self.mount_dir.clone(),
        }
    }
}

/// The pod for a branch: the Job's pod template, with its labels (minus the Job controller's),
/// the contract's labels and annotations, `restartPolicy: Never`, the Job's
/// `activeDeadlineSeconds`, the five variables in every container and the two files mounted
/// read-only in every container.
pub fn branch_pod(spec: &BranchSpec) -> Pod {
    let identity = spec.identity();
    let template = &spec.job.template;
    let mut labels: BTreeMap<String, String> =
        template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    labels.retain(|k, _| !JOB_CONTROLLER_LABELS.contains(&k.as_str()));
    labels.extend(identity.labels());
    let mut annotations: BTreeMap<String, String> =
        template.metadata.as_ref().and_then(|m| m.annotations.clone()).unwrap_or_default();
    annotations.extend(identity.annotations());
    let mut pod_spec = template.spec.clone().unwrap_or_default();
    pod_spec.restart_policy = Some("Never".into());
    if spec.job.active_deadline_seconds.is_some() {
        pod_spec.active_deadline_seconds = spec.job.active_deadline_seconds;
    }
    let name = spec.pod_name();
    let env: Vec<EnvVar> = spec
        .context()
        .env()
        .into_iter()
        .map(|(k, v)| EnvVar { name: k.into(), value: Some(v), ..Default::default() })
        .collect();
    let mount = VolumeMount {
        name: LIFECYCLE_VOLUME.into(),
        mount_path: spec.mount_dir.clone(),
        read_only: Some(true),
        ..Default::default()
    };
    for c in pod_spec.containers.iter_mut().chain(pod_spec.init_containers.iter_mut().flatten()) {
        c.env.get_or_insert_with(Vec::new).extend(env.iter().cloned());
        c.volume_mounts.get_or_insert_with(Vec::new).push(mount.clone());
    }
    pod_spec.volumes.get_or_insert_with(Vec::new).push(Volume {
        name: LIFECYCLE_VOLUME.into(),
        config_map: Some(ConfigMapVolumeSource { name: name.clone(), ..Default::default() }),
        ..Default::default()
    });
    Pod {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(spec.job.job.namespace.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        spec: Some(pod_spec),
        status: None,
    }
}

/// The ConfigMap with the two files, owned by the branch pod (so it is collected with it).
pub fn branch_configmap(spec: &BranchSpec, pod_uid: &str) -> ConfigMap {
    let identity = spec.identity();
    let name = spec.pod_name();
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(spec.job.job.namespace.clone()),
            labels: Some(identity.labels()),
            annotations: Some(identity.annotations()),
            owner_references: Some(vec![OwnerReference {
                api_version: "v1".into(),
                kind: "Pod".into(),
                name,
                uid: pod_uid.to_string(),
                block_owner_deletion: Some(true),
                controller: Some(true),
            }]),
            ..Default::default()
        },
        data: Some(
            [
                (ENVIRONMENT_FILE.to_string(), spec.environment_yaml.clone()),
                (CHANGESET_FILE.to_string(), spec.changeset_yaml.clone()),
            ]
            .into_iter()
            .collect(),
        ),
        immutable: Some(true),
        ..Default::default()
    }
}

/// The branch pod as created or found.
#[derive(Clone, Debug)]
pub struct Launched {
    /// The pod.
    pub pod: Pod,
    /// False when it already existed (re-issued batch): attached, not created.
    pub created: bool,
}

/// Creates the branch's pod and ConfigMap; an existing pod of the same branch is attached to.
pub async fn launch(client: &kube::Client, spec: &BranchSpec) -> Result<Launched> {
    let ns = spec.job.job.namespace.as_str();
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let desired = branch_pod(spec);
    let name = spec.pod_name();
    let (pod, created) = match pods.create(&PostParams::default(), &desired).await {
        Ok(p) => (p, true),
        Err(kube::Error::Api(s)) if s.code == 409 => {
            let existing = pods.get(&name).await.map_err(kube_error(&spec.region, "get", "pods", Some(ns)))?;
            let labels = existing.metadata.labels.clone().unwrap_or_default();
            let annotations = existing.metadata.annotations.clone().unwrap_or_default();
            let found = BranchIdentity::from_metadata(ns, &labels, &annotations);
            if found.as_ref().map(|f| (&f.batch_id, &f.job_name, f.attempt))
                != Some((&spec.batch_id, &spec.job.job.name, spec.attempt))
            {
                return Err(Error::Input(format!(
                    "pod {ns}/{name} exists but is not branch {} of batch {} (attempt {})",
                    spec.job.job, spec.batch_id, spec.attempt
                )));
            }
            (existing, false)
        }
        Err(e) => return Err(kube_error(&spec.region, "create", "pods", Some(ns))(e)),
    };
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    match cms.create(&PostParams::default(), &branch_configmap(spec, &uid)).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => {
            let error = kube_error(&spec.region, "create", "configmaps", Some(ns))(e);
            // The pod would wait forever for its files: take it back, so nothing is left half-done
            // (deleted; or, where only stopping is allowed, as the Argo kit's service account,
            // stopped, so it ends instead of waiting).
            if created && let Err(undo) = pods.delete(&name, &DeleteParams::default().grace_period(0)).await {
                let undo = kube_error(&spec.region, "delete", "pods", Some(ns))(undo);
                let refused = matches!(undo, Error::Forbidden { .. });
                let why = "tlc: its ConfigMap could not be created";
                if !(refused
                    && crate::lifecycle::stop::lower_deadline(client, &spec.region, ns, &name, why).await.is_ok())
                {
                    return Err(error.with_note(format!("pod {ns}/{name} is left behind: {undo}")));
                }
            }
            return Err(error);
        }
    }
    Ok(Launched { pod, created })
}

/// How a branch pod ended (or where it is).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Cancelled` (failed because a cancel stopped it:
    /// see [`crate::lifecycle::stop`]), or `Deleted` when the pod is gone.
    pub phase: String,
    /// The exit code that decides the branch: the first failed container's, else 0 when succeeded.
    pub exit_code: Option<i32>,
    /// Pod- or container-level reason (`DeadlineExceeded`, `Error`, …).
    pub reason: Option<String>,
}

impl Outcome {
    /// Whether the branch is over.
    pub fn is_final(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed" | "Cancelled" | "Deleted")
    }

    /// Whether it succeeded.
    pub fn succeeded(&self) -> bool {
        self.phase == "Succeeded"
    }
}

/// Reads a pod's outcome.
pub fn outcome(pod: &Pod) -> Outcome {
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.clone().unwrap_or_else(|| "Pending".into());
    let terminated: Vec<_> = status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| c.state.as_ref().and_then(|s| s.terminated.clone()))
        .collect();
    let failed = terminated.iter().find(|t| t.exit_code != 0);
    let exit_code = match phase.as_str() {
        "Succeeded" => Some(0),
        "Failed" => Some(failed.map_or(1, |t| t.exit_code)),
        _ => None,
    };
    let reason = status.reason.clone().or_else(|| failed.and_then(|t| t.reason.clone()));
    let cancelled_by = pod.metadata.annotations.as_ref().and_then(|a| a.get(CANCELLED_BY));
    match cancelled_by {
        Some(who) if phase == "Failed" => {
            Outcome { phase: "Cancelled".into(), exit_code, reason: Some(format!("cancelled by {who}")) }
        }
        _ => Outcome { phase, exit_code, reason },
    }
}

/// Waits (on a watch of the one pod) until it has ended or is gone.
pub async fn wait_for_outcome(client: &kube::Client, region: &str, namespace: &str, name: &str) -> Result<Outcome> {
    use futures::StreamExt;
    use kube::runtime::watcher::{self, Event};
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let stream = kube::runtime::WatchStreamExt::default_backoff(watcher::watcher(pods, config));
    futures::pin_mut!(stream);
    let gone = || Outcome { phase: "Deleted".into(), exit_code: None, reason: Some("the pod is gone".into()) };
    // Whether the pod was in the current (re)list; a relist without it means it is gone.
    let mut listed = false;
    while let Some(event) = stream.next().await {
        match event {
            Ok(Event::Init) => listed = false,
            Ok(Event::InitApply(p)) | Ok(Event::Apply(p)) => {
                listed = true;
                let o = outcome(&p);
                if o.is_final() {
                    return Ok(o);
                }
            }
            Ok(Event::InitDone) if !listed => return Ok(gone()),
            Ok(Event::InitDone) => {}
            Ok(Event::Delete(p)) => {
                let o = outcome(&p);
                return Ok(if o.is_final() {
                    o
                } else {
                    Outcome { reason: Some("the pod was deleted".into()), ..gone() }
                });
            }
            // The watcher retries transient errors with back-off; a 403 will not fix itself.
            Err(e) => {
                if let Some(refused) = watch_refusal(&e, region, "pods", Some(namespace)) {
                    return Err(refused);
                }
            }
        }
    }
    Err(Error::gave_up(region, "watch", "pods", Some(namespace), "the watch ended"))
}
