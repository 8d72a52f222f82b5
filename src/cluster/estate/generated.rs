//! Large synthetic estates for benchmarks: N tenants × M team namespaces × K lifecycle Jobs per
//! namespace, each Job printing a configurable number of log lines — built deterministically, so two
//! runs (or two tools measured side by side) see the same estate.

use serde_json::{Value, json};

use super::{TENANT_ID_LABEL, TENANT_LABEL, TENANT_NAMESPACE, TENANT_REGION_LABEL};
use crate::cluster::store::Store;
use crate::cluster::store::resource::{Resource, ResourceInfo};

/// The annotation the generated Jobs carry (the seed estate's key).
pub const ANNOTATION: &str = "collibra.com/tenant.lifecycle";

/// The shape of a generated estate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedEstate {
    /// Tenant ConfigMaps.
    pub tenants: usize,
    /// Team namespaces.
    pub namespaces: usize,
    /// Lifecycle Jobs per namespace.
    pub jobs_per_namespace: usize,
    /// Log lines each Job's container prints.
    pub log_lines: usize,
}

impl Default for GeneratedEstate {
    fn default() -> Self {
        GeneratedEstate { tenants: 1000, namespaces: 100, jobs_per_namespace: 10, log_lines: 100 }
    }
}

/// A deterministic UUID-shaped id for item `n` of `kind` (stable across runs).
pub fn stable_uuid(kind: u64, n: u64) -> String {
    // SplitMix64 over (kind, n): well spread, reproducible.
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let hi = mix(kind.wrapping_mul(0x1000_0000_01B3) ^ n);
    let lo = mix(hi ^ n.rotate_left(17));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

const OPERATIONS: [&str; 4] = ["lifecycle.upsert", "lifecycle.migrate-out", "lifecycle.migrate-in", "team.operation"];

impl GeneratedEstate {
    /// The name of team namespace `n`.
    pub fn namespace(n: usize) -> String {
        format!("team-{n:04}")
    }

    /// Every object of the estate for `region`, namespaces first.
    pub fn objects(&self, region: &str) -> Vec<Value> {
        let mut out = Vec::with_capacity(1 + self.tenants + self.namespaces * (1 + self.jobs_per_namespace));
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TENANT_NAMESPACE}}));
        for n in 0..self.namespaces {
            out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": Self::namespace(n)}}));
        }
        for t in 0..self.tenants {
            let id = stable_uuid(1, t as u64);
            let name = format!("tenant-{t:05}");
            let services: Vec<String> = (0..3).map(|k| Self::namespace((t + k * 7) % self.namespaces.max(1))).collect();
            let env = format!(
                "id: {id}\nname: {name}\ndisplayName: Generated tenant {t}\nregion: {region}\nplan: {}\nservices:\n{}",
                ["enterprise", "business", "trial"][t % 3],
                services.iter().map(|s| format!("  - {s}\n")).collect::<String>()
            );
            out.push(json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": TENANT_NAMESPACE,
                    "labels": {TENANT_LABEL: "true", TENANT_ID_LABEL: id, TENANT_REGION_LABEL: region}},
                "data": {"environment.yaml": env},
            }));
        }
        for n in 0..self.namespaces {
            for j in 0..self.jobs_per_namespace {
                // Every job handles upsert; the others rotate so each operation has a share.
                let ops = format!("{},{}", OPERATIONS[0], OPERATIONS[1 + (n + j) % 3]);
                let script = format!(
                    "i=0\nwhile [ $i -lt {lines} ]; do\n  echo \"[$LIFECYCLE_OPERATION_NAME] tenant $LIFECYCLE_TENANT_ENV_ID step $i of {lines}: TASK [sync settings] ok\"\n  i=$((i+1))\ndone\n",
                    lines = self.log_lines
                );
                out.push(json!({
                    "apiVersion": "batch/v1", "kind": "Job",
                    "metadata": {"name": format!("lifecycle-{j:03}"), "namespace": Self::namespace(n),
                        "annotations": {ANNOTATION: ops}, "labels": {"app.kubernetes.io/component": "lifecycle"}},
                    "spec": {"suspend": true, "backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                        "containers": [{"name": "lifecycle", "image": "busybox:1.36", "command": ["sh", "-c"], "args": [script]}]}}},
                }));
            }
        }
        out
    }

    /// Creates the estate in `store` (straight into storage: a 10,000-tenant estate seeds in a
    /// fraction of a second). Returns how many objects were created.
    pub fn seed(&self, store: &Store, region: &str) -> Result<usize, String> {
        let mut created = 0;
        for object in self.objects(region) {
            let api_version = object["apiVersion"].as_str().unwrap_or_default().to_string();
            let kind = object["kind"].as_str().unwrap_or_default().to_string();
            let resource =
                ResourceInfo::for_kind(&api_version, &kind).map(|r| r.resource).unwrap_or(Resource::ConfigMaps);
            if resource == Resource::Namespaces
                && store.namespace_exists(object["metadata"]["name"].as_str().unwrap_or_default())
            {
                continue;
            }
            store.create(resource, object).map_err(|e| e.message)?;
            created += 1;
        }
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_determinism() {
        let estate = GeneratedEstate { tenants: 7, namespaces: 3, jobs_per_namespace: 2, log_lines: 5 };
        let a = estate.objects("eu-west");
        assert_eq!(a.len(), 1 + 3 + 7 + 3 * 2);
        assert_eq!(a, estate.objects("eu-west"), "deterministic");
        assert_ne!(stable_uuid(1, 0), stable_uuid(1, 1));
        assert!(uuid::Uuid::parse_str(&stable_uuid(1, 42)).is_ok());
        let store = Store::new(1000);
        assert_eq!(estate.seed(&store, "eu-west").expect("seeds"), a.len());
        let job = store.get(Resource::Jobs, "team-0002", "lifecycle-001").expect("job");
        assert!(
            job["metadata"]["annotations"][ANNOTATION].as_str().is_some_and(|ops| ops.starts_with("lifecycle.upsert,"))
        );
    }
}
