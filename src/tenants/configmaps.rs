//! The default tenant source: ConfigMaps carrying a tenant label in one namespace of each region's
//! cluster, with the tenant's `environment.yaml` under a key; the id comes from a label or the YAML.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};

use super::{Tenant, check_id, read_environment};
use crate::lifecycle::error::{Error, Result, kube_error};
use crate::watch::{self, Change, Report};

/// Where and how to find tenant ConfigMaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigMapSource {
    /// Namespace holding them.
    pub namespace: String,
    /// Label selector picking them.
    pub selector: String,
    /// Label carrying the id (else `id` in the YAML).
    pub id_label: String,
    /// Data key holding `environment.yaml`.
    pub key: String,
}

impl ConfigMapSource {
    /// The ConfigMap source a configuration names, if it names one.
    pub fn from_config(config: &crate::config::Config) -> Option<Self> {
        match &config.tenants.source {
            crate::config::TenantSource::ConfigMaps { namespace, selector, id_label, key } => Some(ConfigMapSource {
                namespace: namespace.clone(),
                selector: selector.clone(),
                id_label: id_label.clone(),
                key: key.clone(),
            }),
            crate::config::TenantSource::Directory { .. } => None,
        }
    }

    /// The source the default configuration names.
    pub fn defaults() -> Option<Self> {
        crate::config::Config::defaults().ok().as_ref().and_then(Self::from_config)
    }
}

/// Reads one ConfigMap as a tenant of `region`.
pub fn tenant_from_configmap(cm: &ConfigMap, source: &ConfigMapSource, region: &str) -> Tenant {
    let labels: BTreeMap<String, String> = cm.metadata.labels.clone().unwrap_or_default();
    let cm_name = cm.metadata.name.clone().unwrap_or_default();
    let namespace = cm.metadata.namespace.clone().unwrap_or_default();
    let mut problems = Vec::new();
    let text = cm.data.as_ref().and_then(|d| d.get(&source.key)).cloned();
    if text.is_none() {
        problems.push(format!("ConfigMap {namespace}/{cm_name} has no key \"{}\"", source.key));
    }
    let fields = match text.as_deref().map(read_environment) {
        Some(Ok(f)) => f,
        Some(Err(e)) => {
            problems.push(e);
            Default::default()
        }
        None => Default::default(),
    };
    let label_id = labels.get(&source.id_label).cloned();
    let id = match (&label_id, &fields.id) {
        (Some(l), Some(y)) if l != y => {
            problems.push(format!("label {} says {l} but environment.yaml says id: {y}", source.id_label));
            l.clone()
        }
        (Some(l), _) => l.clone(),
        (None, Some(y)) => y.clone(),
        (None, None) => {
            problems.push(format!("no tenant id: neither a {} label nor an `id` in environment.yaml", source.id_label));
            String::new()
        }
    };
    if !id.is_empty() {
        check_id(&id, &mut problems);
    }
    let name = fields.name.clone().unwrap_or_else(|| cm_name.strip_prefix("tenant-").unwrap_or(&cm_name).to_string());
    Tenant {
        id,
        name,
        display_name: fields.display_name,
        region: region.to_string(),
        plan: fields.plan,
        services: fields.services,
        labels,
        environment_yaml: text.unwrap_or_default(),
        origin: format!("{namespace}/{cm_name}"),
        problems,
    }
}

/// Lists the tenants of one region.
pub async fn list(client: &kube::Client, source: &ConfigMapSource, region: &str) -> Result<Vec<Tenant>> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &source.namespace);
    let cms = api.list(&ListParams::default().labels(&source.selector)).await.map_err(kube_error(
        region,
        "list",
        "configmaps",
        Some(&source.namespace),
    ))?;
    Ok(cms.items.iter().map(|cm| tenant_from_configmap(cm, source, region)).collect())
}

/// Watches the tenants of one region through the watch layer: reports the whole (sorted) list once
/// it is known and again after every change, and the connection as it changes, until `on` returns
/// `false`. Each ConfigMap is read into a tenant once, when it changes.
pub async fn watch(
    client: kube::Client,
    source: &ConfigMapSource,
    region: &str,
    url: &str,
    mut on: impl FnMut(Report<Vec<Tenant>>) -> bool,
) {
    let api: Api<ConfigMap> = Api::namespaced(client, &source.namespace);
    let config = kube::runtime::watcher::Config::default().labels(&source.selector);
    let mut tenants: BTreeMap<String, Tenant> = BTreeMap::new();
    let read = |cm: &ConfigMap| tenant_from_configmap(cm, source, region);
    watch::watch(api, config, url, watch::trim::managed_fields, |change| {
        match change {
            Change::Connection(c) => return on(Report::Connection(c)),
            Change::Listed { all, .. } => tenants = all.iter().map(|(k, cm)| (k.clone(), read(cm))).collect(),
            Change::Applied { object, .. } => {
                tenants.insert(watch::key_of(object), read(object));
            }
            Change::Deleted { object, .. } => {
                tenants.remove(&watch::key_of(&object));
            }
        }
        let mut list: Vec<Tenant> = tenants.values().cloned().collect();
        super::sort(&mut list);
        on(Report::Data(list))
    })
    .await;
}

/// The error for a tenant that is not found.
pub fn not_found(query: &str, region_hint: &str) -> Error {
    Error::NotFound(format!("no tenant named or with id \"{query}\"{region_hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source() -> ConfigMapSource {
        ConfigMapSource::defaults().expect("the defaults name ConfigMaps")
    }

    fn cm(labels: serde_json::Value, data: serde_json::Value) -> ConfigMap {
        serde_json::from_value(
            json!({"metadata": {"name": "tenant-acme", "namespace": "tenants", "labels": labels}, "data": data}),
        )
        .expect("cm")
    }

    const ID: &str = "1da11ccf-6654-4f57-8807-6bb944658fe6";

    #[test]
    fn reads_id_from_label_or_yaml() {
        let t = tenant_from_configmap(
            &cm(json!({"tlc.dev/tenant-id": ID}), json!({"environment.yaml": "name: acme-prod\nregion: eu-west\n"})),
            &source(),
            "eu-west",
        );
        assert_eq!((t.id.as_str(), t.name.as_str(), t.region.as_str()), (ID, "acme-prod", "eu-west"));
        assert!(t.is_usable(), "{:?}", t.problems);
        let t =
            tenant_from_configmap(&cm(json!({}), json!({"environment.yaml": format!("id: {ID}\n")})), &source(), "r");
        assert_eq!((t.id.as_str(), t.name.as_str()), (ID, "acme"));
        assert!(t.matches("acme") && t.matches(ID) && t.matches("tenant-acme") && t.matches("tenants/tenant-acme"));
    }

    #[test]
    fn problems_name_what_is_wrong() {
        let t = tenant_from_configmap(&cm(json!({}), json!({})), &source(), "r");
        assert_eq!(
            t.problems,
            vec![
                "ConfigMap tenants/tenant-acme has no key \"environment.yaml\"".to_string(),
                "no tenant id: neither a tlc.dev/tenant-id label nor an `id` in environment.yaml".to_string(),
            ]
        );
        let t = tenant_from_configmap(
            &cm(json!({"tlc.dev/tenant-id": ID}), json!({"environment.yaml": "id: other\n"})),
            &source(),
            "r",
        );
        assert_eq!(t.problems, vec![format!("label tlc.dev/tenant-id says {ID} but environment.yaml says id: other")]);
        let t = tenant_from_configmap(
            &cm(json!({"tlc.dev/tenant-id": "x"}), json!({"environment.yaml": ": :"})),
            &source(),
            "r",
        );
        assert!(t.problems.iter().any(|p| p.starts_with("environment.yaml is not valid YAML")), "{:?}", t.problems);
        assert!(t.problems.iter().any(|p| p == "tenant id \"x\" is not a UUID"), "{:?}", t.problems);
    }
}
