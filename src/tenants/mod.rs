//! Tenants: who the lifecycle runs for. A tenant has an id (a UUID), a name, a region, labels and
//! its `environment.yaml` text, which every branch gets mounted. They come from a tenant source:
//! ConfigMaps with a tenant label in a namespace (one per region's cluster), or a directory of YAML
//! files (GitOps style). A malformed tenant is listed with its problems and cannot be triggered.

pub mod configmaps;
pub mod directory;

use std::collections::BTreeMap;

use serde_json::Value;

/// One tenant environment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Tenant {
    /// The tenant environment id (`LIFECYCLE_TENANT_ENV_ID`).
    pub id: String,
    /// Short name (`acme-prod`).
    pub name: String,
    /// Human name, when the YAML has `displayName`.
    pub display_name: Option<String>,
    /// The region (kube context) it lives in.
    pub region: String,
    /// `plan` from the YAML, if any.
    pub plan: Option<String>,
    /// `services` from the YAML.
    pub services: Vec<String>,
    /// Labels of its source object.
    pub labels: BTreeMap<String, String>,
    /// The `environment.yaml` text, byte for byte.
    pub environment_yaml: String,
    /// Where it came from (`tenants/tenant-acme-prod`, or a file path).
    pub origin: String,
    /// What is wrong with it; empty means it can be triggered.
    pub problems: Vec<String>,
}

impl Tenant {
    /// Whether lifecycle operations may run for it.
    pub fn is_usable(&self) -> bool {
        self.problems.is_empty()
    }

    /// Whether `query` names this tenant: its id, its name, or its origin.
    pub fn matches(&self, query: &str) -> bool {
        self.id == query || self.name == query || self.origin == query || self.origin.rsplit('/').next() == Some(query)
    }
}

/// What `environment.yaml` says, as far as the console reads it.
#[derive(Debug, Default)]
pub(crate) struct EnvironmentFields {
    pub id: Option<String>,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub region: Option<String>,
    pub plan: Option<String>,
    pub services: Vec<String>,
}

/// Reads the fields the console uses from an `environment.yaml`; a YAML error is returned as text.
pub(crate) fn read_environment(text: &str) -> Result<EnvironmentFields, String> {
    let doc: Value = serde_saphyr::from_str(text).map_err(|e| format!("environment.yaml is not valid YAML: {e}"))?;
    if !doc.is_object() {
        return Err("environment.yaml must be a YAML mapping".into());
    }
    let s = |k: &str| {
        doc.get(k).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    Ok(EnvironmentFields {
        id: s("id"),
        name: s("name"),
        display_name: s("displayName"),
        region: s("region"),
        plan: s("plan"),
        services: doc
            .get("services")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default(),
    })
}

/// Checks an id is a UUID (the contract's tenant environment id).
pub(crate) fn check_id(id: &str, problems: &mut Vec<String>) {
    if uuid::Uuid::parse_str(id).is_err() {
        problems.push(format!("tenant id \"{id}\" is not a UUID"));
    }
}

/// Sorts tenants for display: by region, then name.
pub fn sort(tenants: &mut [Tenant]) {
    tenants.sort_by(|a, b| (&a.region, &a.name, &a.id).cmp(&(&b.region, &b.name, &b.id)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_fields() {
        let f =
            read_environment("id: 1da11ccf-6654-4f57-8807-6bb944658fe6\nname: acme\nplan: trial\nservices: [a, b]\n")
                .expect("yaml");
        assert_eq!(f.name.as_deref(), Some("acme"));
        assert_eq!(f.services, vec!["a", "b"]);
        assert!(read_environment("- a list").is_err());
        assert!(
            read_environment("id: [unclosed").expect_err("bad yaml").starts_with("environment.yaml is not valid YAML")
        );
        let mut p = Vec::new();
        check_id("nope", &mut p);
        assert_eq!(p, vec!["tenant id \"nope\" is not a UUID"]);
    }
}
