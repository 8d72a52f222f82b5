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
    install_files(store, region, KIT)
}

/// Applies kit files (`(origin, text)`, in order: the shipped [`KIT`] or a variant of it, such as a
/// test's `rbac.yaml` with a rule removed) with the `tlc` ConfigMap's `region` set to `region`.
/// Returns how many objects were created.
pub fn install_files(store: &Store, region: &str, files: &[(&str, &str)]) -> Result<usize, embedded_cluster::Error> {
    let mut created = 0;
    for (origin, text) in files {
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

/// A region equipped with tlc's in-cluster kit: Argo's controller runs until this is dropped.
pub struct Equipped {
    /// What the kit created.
    pub objects: usize,
    /// The region's Argo controller.
    pub controller: embedded_argo::Controller,
}

/// Makes an embedded cluster a region with tlc's in-cluster kit, as a real region is after
/// installing Argo and `kubectl apply -f deploy/argo/`: Argo's controller running, `tlc` installed
/// as an in-process binary (so the template's steps run the product's own code), the kit applied.
pub fn equip(cluster: &embedded_cluster::EmbeddedCluster) -> Result<Equipped, embedded_cluster::Error> {
    equip_with(cluster, KIT, embedded_argo::ControllerConfig::default())
}

/// [`equip`] with other kit files (see [`install_files`]) and controller settings (e.g. the
/// controller's own time scale, so a finished Workflow outlives a cluster where no time passes).
pub fn equip_with(
    cluster: &embedded_cluster::EmbeddedCluster,
    files: &[(&str, &str)],
    config: embedded_argo::ControllerConfig,
) -> Result<Equipped, embedded_cluster::Error> {
    cluster.install_binary(crate::steps::in_process::NAME, crate::steps::in_process::binary());
    let objects = install_files(cluster.store(), cluster.name(), files)?;
    let controller = embedded_argo::Controller::start(cluster, config);
    Ok(Equipped { objects, controller })
}

/// The Sensor the demo pretends sent a request (`deploy/argo/events/sensor.yaml`'s).
pub const DEMO_SENSOR: &str = "tenant-lifecycle";

/// Creates a Workflow the way the shipped Sensor's trigger does — nothing but `generateName`,
/// `workflowTemplateRef` and the message's parameters, labelled by Argo Events with the Sensor and
/// its trigger — through the API with `client`. Returns its name. The demo starts one, so a run no
/// console started is in `:runs` when the console opens.
pub async fn submit_as_sensor(
    client: &kube::Client,
    tenant: &str,
    operation: &str,
    changeset: &str,
) -> Result<String, kube::Error> {
    use kube::api::{Api, DynamicObject, PostParams};
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "argo", &crate::lifecycle::engine::argo::resource("Workflow"));
    let workflow: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "generateName": "tenant-lifecycle-",
            "namespace": "argo",
            "labels": {
                "events.argoproj.io/sensor": DEMO_SENSOR,
                "events.argoproj.io/trigger": "from-webhook",
                "events.argoproj.io/action-timestamp": jiff::Timestamp::now().as_millisecond().to_string(),
            },
        },
        "spec": {
            "workflowTemplateRef": {"name": "tenant-lifecycle"},
            "arguments": {"parameters": [
                {"name": "tenant", "value": tenant},
                {"name": "operation", "value": operation},
                {"name": "changeset", "value": changeset},
            ]},
        },
    }))
    .map_err(kube::Error::SerdeError)?;
    let created = api.create(&PostParams::default(), &workflow).await?;
    Ok(created.metadata.name.unwrap_or_default())
}

/// The Argo Events example: not served by the embedded cluster, checked against the template.
pub const SENSOR: &str = include_str!("../../deploy/argo/events/sensor.yaml");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn yaml(text: &str) -> Value {
        serde_saphyr::from_str(text).expect("valid YAML")
    }

    #[test]
    fn the_sensor_submits_the_template_with_parameters_it_has_from_the_message_keys_of_the_same_name() {
        let template = yaml(WORKFLOW_TEMPLATE);
        let declared: Vec<&str> = template["spec"]["arguments"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(declared, ["tenant", "operation", "batch", "changeset", "jobs", "migration", "migration-target"]);
        let sensor = yaml(SENSOR);
        let triggers = sensor["spec"]["triggers"].as_array().expect("triggers");
        assert_eq!(triggers.len(), 2, "one per event source");
        for trigger in triggers {
            let t = &trigger["template"];
            let resource = &t["k8s"]["source"]["resource"];
            assert_eq!(resource["kind"], "Workflow");
            assert_eq!(resource["metadata"]["namespace"], "argo");
            assert_eq!(resource["spec"]["workflowTemplateRef"]["name"], template["metadata"]["name"]);
            let given = resource["spec"]["arguments"]["parameters"].as_array().expect("arguments");
            let dependency = t["conditions"].as_str().expect("a condition per trigger");
            for p in t["k8s"]["parameters"].as_array().expect("parameters") {
                let dest = p["dest"].as_str().expect("dest");
                let index: usize = dest
                    .strip_prefix("spec.arguments.parameters.")
                    .and_then(|d| d.strip_suffix(".value"))
                    .and_then(|i| i.parse().ok())
                    .unwrap_or_else(|| panic!("{dest}: a parameter value"));
                let name = given[index]["name"].as_str().expect("named");
                assert!(declared.contains(&name), "{name} is a template parameter");
                assert_eq!(p["src"]["dataKey"].as_str(), Some(format!("body.{name}").as_str()), "{dest}");
                assert_eq!(p["src"]["dependencyName"].as_str(), Some(dependency));
            }
        }
    }
}
