//! Stopping a branch without losing it: a cancel marks the pod with who cancelled it and lowers its
//! `activeDeadlineSeconds` to 1, so the kubelet stops its containers (the pod ends `Failed`,
//! reason `DeadlineExceeded`) and the pod, its ConfigMap and its logs stay for whoever looks
//! later, and for a retry. Only a pod that never got a node (nothing ran, nothing to read) is
//! deleted. Both engines stop branches this way: the direct engine's cancel, and `tlc bridge` on
//! SIGTERM when its Workflow is stopped.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams};

use super::error::{Result, kube_error};
use crate::contract::labels::{CANCELLED_AT, CANCELLED_BY};

/// The deadline a stopped pod gets: the smallest the API accepts (it counts from the pod's start,
/// so a pod running longer than a second ends at once).
pub const STOP_DEADLINE_SECONDS: i64 = 1;

/// What stopping a branch pod did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Its containers are being stopped; the pod stays.
    Stopping,
    /// It had no node yet (nothing ran): deleted.
    Deleted,
    /// It had already ended: left as it is.
    AlreadyEnded,
    /// It was gone already.
    Gone,
}

/// The merge patch that stops a pod and says who did it.
pub fn stop_patch(who: &str, at: jiff::Timestamp) -> serde_json::Value {
    serde_json::json!({
        "metadata": {"annotations": {CANCELLED_BY: who, CANCELLED_AT: at.to_string()}},
        "spec": {"activeDeadlineSeconds": STOP_DEADLINE_SECONDS},
    })
}

/// Stops one branch pod (see the module's documentation), as `who`.
pub async fn stop_pod(client: &kube::Client, region: &str, pod: &Pod, who: &str) -> Result<Stopped> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(client.clone(), &namespace);
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
    if matches!(phase, "Succeeded" | "Failed") {
        return Ok(Stopped::AlreadyEnded);
    }
    let scheduled = pod.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some_and(|n| !n.is_empty());
    if scheduled {
        return lower_deadline(client, region, &namespace, &name, who).await;
    }
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(Stopped::Deleted),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(Stopped::Gone),
        Err(e) => Err(kube_error(region, "delete", "pods", Some(&namespace))(e)),
    }
}

/// Marks a pod as cancelled by `who` and lowers its deadline, whatever its state (a pod without a
/// node yet ends as soon as one takes it).
pub async fn lower_deadline(
    client: &kube::Client,
    region: &str,
    namespace: &str,
    name: &str,
    who: &str,
) -> Result<Stopped> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    match api.patch(name, &PatchParams::default(), &Patch::Merge(stop_patch(who, jiff::Timestamp::now()))).await {
        Ok(_) => Ok(Stopped::Stopping),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(Stopped::Gone),
        Err(e) => Err(kube_error(region, "patch", "pods", Some(namespace))(e)),
    }
}

/// Stops the branch pod `namespace/name` (read first), as `who`.
pub async fn stop_pod_named(
    client: &kube::Client,
    region: &str,
    namespace: &str,
    name: &str,
    who: &str,
) -> Result<Stopped> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    match api.get_opt(name).await.map_err(kube_error(region, "get", "pods", Some(namespace)))? {
        Some(pod) => stop_pod(client, region, &pod, who).await,
        None => Ok(Stopped::Gone),
    }
}
