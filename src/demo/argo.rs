//! The in-cluster kit of `deploy/argo/` (namespace, configuration, RBAC, WorkflowTemplate), embedded
//! in the binary and applied to an embedded cluster the way `kubectl apply -f deploy/argo/` applies
//! it to a real one: `tlc demo` and `tlc sim` regions, and the tests, run the shipped files.

use embedded_cluster::manifests;
use embedded_cluster::store::resource::Resource;
use embedded_cluster::store::{Store, UpdateScope};

/// The kit's files, in the order `kubectl apply -f deploy/argo/` applies them.
pub const KIT: &[(&str, &str)] = &[
    ("deploy/argo/00-namespace.yaml", include_str!("../../deploy/argo/00-namespace.yaml")),
    ("deploy/argo/config.yaml", include_str!("../../deploy/argo/config.yaml")),
    ("deploy/argo/rbac.yaml", include_str!("../../deploy/argo/rbac.yaml")),
    ("deploy/argo/workflow-template.yaml", include_str!("../../deploy/argo/workflow-template.yaml")),
];

/// The WorkflowTemplate alone (for tests that run it).
pub const WORKFLOW_TEMPLATE: &str = include_str!("../../deploy/argo/workflow-template.yaml");

/// Applies the kit to `store`, with the `tlc` ConfigMap's `region` set to `region` (as an operator
/// edits it for each cluster). Returns how many objects were created.
pub fn install(store: &Store, region: &str) -> Result<usize, embedded_cluster::Error> {
    let mut created = 0;
    for (origin, text) in KIT {
        created += manifests::apply(store, origin, text)?;
    }
    store
        .modify(Resource::ConfigMaps, "argo", "tlc", UpdateScope::Main, |cm| {
            let mut cm = cm.clone();
            cm["data"]["region"] = serde_json::Value::String(region.to_string());
            Ok(cm)
        })
        .map_err(|e| embedded_cluster::Error::Manifest {
            origin: "deploy/argo/config.yaml".into(),
            document: 1,
            message: format!("cannot set the region: {}", e.message),
        })?;
    Ok(created)
}
