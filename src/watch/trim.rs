//! What watches keep of an object: only what tlc reads. A console keeps every watched object for
//! its lifetime, so a few kilobytes of spec a pod, times every branch ever run, is memory for nothing.

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec};

/// Drops the server's field-ownership records, which nothing in tlc reads.
pub fn managed_fields<K: kube::Resource>(o: &mut K) {
    o.meta_mut().managed_fields = None;
}

/// A branch pod as the run model needs it: metadata, status, and its containers' names (the rest
/// of the spec — scripts, env, volumes — is never read back).
pub fn branch_pod(pod: &mut Pod) {
    managed_fields(pod);
    if let Some(spec) = pod.spec.as_mut() {
        let containers = std::mem::take(&mut spec.containers)
            .into_iter()
            .map(|c| Container { name: c.name, ..Default::default() })
            .collect();
        *spec = PodSpec { containers, ..Default::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::run::PodSnapshot;

    #[test]
    fn a_trimmed_branch_pod_reads_as_the_same_branch() {
        let mut pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "lineage",
                "labels": {"tlc.dev/batch-id": "b", "tlc.dev/tenant-id": "t", "tlc.dev/operation": "lifecycle.upsert",
                    "tlc.dev/job": "lineage-graph", "tlc.dev/attempt": "1", "tlc.dev/engine": "direct",
                    "app.kubernetes.io/managed-by": "tlc"},
                "annotations": {"tlc.dev/job-ref": "lineage/lineage-graph", "tlc.dev/region": "eu-west"},
                "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "spec": {"containers": [{"name": "main", "image": "busybox", "args": ["a long script"],
                "env": [{"name": "LIFECYCLE_TENANT_ENV_ID", "value": "t"}]}],
                "volumes": [{"name": "lifecycle", "configMap": {"name": "p"}}]},
            "status": {"phase": "Failed", "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "",
                "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}
        }))
        .expect("a pod");
        let before = PodSnapshot::from_pod(&pod).expect("a branch");
        branch_pod(&mut pod);
        assert_eq!(PodSnapshot::from_pod(&pod), Some(before), "the runs view sees the same branch");
        let spec = pod.spec.as_ref().expect("spec");
        assert!(spec.volumes.is_none() && spec.containers[0].args.is_none() && spec.containers[0].env.is_none());
        assert!(pod.metadata.managed_fields.is_none());
    }
}
