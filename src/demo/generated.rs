//! Large synthetic estates for benchmarks: N tenants × M team namespaces × K lifecycle Jobs per
//! namespace, each Job printing a configurable number of log lines, and optionally the finished
//! branch pods of past batches — built deterministically, so two runs (or two tools measured side
//! by side) see the same estate.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{RECORDS_NAMESPACE, TENANT_ID_LABEL, TENANT_LABEL, TENANT_NAMESPACE, TENANT_REGION_LABEL};
use crate::contract::Engine;
use crate::contract::context::{CHANGESET_FILE, ENVIRONMENT_FILE, TenantContext};
use crate::contract::job::LIFECYCLE_VOLUME;
use crate::contract::labels::BranchIdentity;
use crate::contract::names::branch_pod_name;
use embedded_cluster::store::Store;
use embedded_cluster::store::resource::{Resource, ResourceInfo};

/// The annotation the generated Jobs carry (the seed estate's key).
pub const ANNOTATION: &str = "collibra.com/tenant.lifecycle";

/// Branches per seeded batch (fewer when the estate has fewer Jobs, and in the last batch).
pub const BRANCHES_PER_BATCH: usize = 10;

/// One seeded branch in this many failed (exit code 1 to 3); the others succeeded. With
/// [`BRANCHES_PER_BATCH`] 10, two batches in five have one failed branch.
pub const FAILED_EVERY: usize = 25;

/// Seconds between the starts of two consecutive seeded batches (the newest started this long ago).
pub const BATCH_SPACING_SECS: i64 = 60;

/// Where the seeded branch pods had their two files mounted (the configuration's default).
const MOUNT_DIR: &str = "/var/run/tlc/lifecycle";

/// The operation every seeded batch ran (every generated Job handles it).
const SEEDED_OPERATION: &str = "lifecycle.upsert";

/// Why a generated estate could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Branch pods were asked for, but there is no tenant or no Job to make them of.
    #[error(
        "cannot seed {} branch pods: the estate needs at least one tenant and one Job (it has {} tenants, {} namespaces × {} Jobs)",
        .estate.branch_pods, .estate.tenants, .estate.namespaces, .estate.jobs_per_namespace
    )]
    NoJobs {
        /// The estate asked for.
        estate: GeneratedEstate,
    },
    /// The cluster refused an object.
    #[error("{what}: {message}")]
    Refused {
        /// Which object.
        what: String,
        /// What the cluster said.
        message: String,
    },
}

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
    /// Lines per second (simulated time) each Job's container prints; 0 = as fast as the kubelet
    /// interprets the script.
    pub log_rate: usize,
    /// Finished branch pods of past `lifecycle.upsert` batches, as the direct engine leaves them
    /// (with the ConfigMap each owns): [`BRANCHES_PER_BATCH`] per batch, one batch per tenant
    /// round-robin, one in [`FAILED_EVERY`] failed. The kubelet never runs them.
    pub branch_pods: usize,
    /// Records (in [`RECORDS_NAMESPACE`]) of older batches whose pods are gone, each with its
    /// trigger and its outcome ([`BRANCHES_PER_BATCH`] branches, one in [`FAILED_EVERY`] failed).
    pub records: usize,
}

impl Default for GeneratedEstate {
    fn default() -> Self {
        GeneratedEstate {
            tenants: 1000,
            namespaces: 100,
            jobs_per_namespace: 10,
            log_lines: 100,
            log_rate: 0,
            branch_pods: 0,
            records: 0,
        }
    }
}

/// A batch id as tlc makes them (a UUIDv7 of the batch's start, `secs`), with stable "random"
/// bits per (`seed`, `n`): batches sort by start, as real ones do.
fn batch_id_at(secs: i64, seed: u64, n: u64) -> String {
    let random = uuid::Uuid::parse_str(&stable_uuid(seed, n)).unwrap_or_default();
    let mut bits = [0u8; 10];
    bits.copy_from_slice(&random.as_bytes()[..10]);
    uuid::Builder::from_unix_timestamp_millis(secs.max(0) as u64 * 1000, &bits).into_uuid().to_string()
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

    /// The Job a branch in `slot` runs, `(namespace, name)`: consecutive slots take consecutive
    /// Jobs, namespace first, so a batch's branches are distinct.
    fn job_at(&self, slot: usize) -> (String, String) {
        (Self::namespace(slot % self.namespaces), Self::job_name(slot / self.namespaces))
    }

    /// A number that tells regions apart in generated ids.
    fn region_key(region: &str) -> u64 {
        region.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
    }

    /// The name of tenant `t`.
    pub fn tenant_name(t: usize) -> String {
        format!("tenant-{t:05}")
    }

    /// The environment id of tenant `t`.
    pub fn tenant_id(t: usize) -> String {
        stable_uuid(1, t as u64)
    }

    /// Tenant `t`'s `environment.yaml` in `region`.
    fn environment_yaml(&self, t: usize, region: &str) -> String {
        let services: Vec<String> = (0..3).map(|k| Self::namespace((t + k * 7) % self.namespaces.max(1))).collect();
        format!(
            "id: {}\nname: {}\ndisplayName: Generated tenant {t}\nregion: {region}\nplan: {}\nservices:\n{}",
            Self::tenant_id(t),
            Self::tenant_name(t),
            ["enterprise", "business", "trial"][t % 3],
            services.iter().map(|s| format!("  - {s}\n")).collect::<String>()
        )
    }

    /// The script every generated Job's container runs: `log_lines` numbered lines, paced by
    /// `sleep` when `log_rate` is set (a pause about every 50 ms of simulated time).
    pub fn script(&self) -> String {
        let lines = self.log_lines;
        let pace = if self.log_rate == 0 {
            String::new()
        } else {
            let chunk = self.log_rate.div_ceil(20);
            let pause = chunk as f64 / self.log_rate as f64;
            format!("  [ $((i % {chunk})) -ne 0 ] || sleep {pause}\n")
        };
        format!(
            "i=0\nwhile [ $i -lt {lines} ]; do\n  echo \"[$LIFECYCLE_OPERATION_NAME] tenant $LIFECYCLE_TENANT_ENV_ID step $i of {lines}: TASK [sync settings] ok\"\n  i=$((i+1))\n{pace}done\n"
        )
    }

    /// Every object of the estate for `region`, namespaces first (not the branch pods: see
    /// [`GeneratedEstate::branch_pods`]).
    pub fn objects(&self, region: &str) -> Vec<Value> {
        let mut out = Vec::with_capacity(1 + self.tenants + self.namespaces * (1 + self.jobs_per_namespace));
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": TENANT_NAMESPACE}}));
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": RECORDS_NAMESPACE}}));
        for n in 0..self.namespaces {
            out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": Self::namespace(n)}}));
        }
        for t in 0..self.tenants {
            let id = Self::tenant_id(t);
            let name = Self::tenant_name(t);
            let env = self.environment_yaml(t, region);
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
                let script = self.script();
                out.push(json!({
                    "apiVersion": "batch/v1", "kind": "Job",
                    "metadata": {"name": Self::job_name(j), "namespace": Self::namespace(n),
                        "annotations": {ANNOTATION: ops}, "labels": {"app.kubernetes.io/component": "lifecycle"}},
                    "spec": {"suspend": true, "backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never",
                        "containers": [{"name": "lifecycle", "image": "busybox:1.36", "command": ["sh", "-c"], "args": [script]}]}}},
                }));
            }
        }
        out
    }

    /// The name of lifecycle Job `j` (in every team namespace).
    pub fn job_name(j: usize) -> String {
        format!("lifecycle-{j:03}")
    }

    /// The finished branch pods for `region`, each with the ConfigMap it owns (whose owner
    /// reference gets the pod's uid when seeded), as the direct engine leaves them: the contract's
    /// labels and annotations (engine `direct`, attempt 1), the Job's container with the five
    /// variables and the two files mounted, bound to the region's node, and a terminal status
    /// with start and finish times. Batch `b` is tenant `b % tenants`'s; the newest batch started
    /// [`BATCH_SPACING_SECS`] before `now` (Unix seconds), each older one that much earlier.
    /// Empty when the estate has no tenant or no Job to make branches of.
    pub fn branch_pods(&self, region: &str, now: i64) -> Vec<(Value, Value)> {
        let jobs = self.namespaces * self.jobs_per_namespace;
        if self.tenants == 0 || jobs == 0 {
            return Vec::new();
        }
        let per_batch = BRANCHES_PER_BATCH.min(jobs);
        let batches = self.branch_pods.div_ceil(per_batch);
        let region_key = Self::region_key(region);
        let at = |secs: i64| Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_default();
        let mut out = Vec::with_capacity(self.branch_pods);
        for p in 0..self.branch_pods {
            let (b, k) = (p / per_batch, p % per_batch);
            let batch_start = now - (batches - b) as i64 * BATCH_SPACING_SECS;
            let batch_id = batch_id_at(batch_start, 2 ^ region_key, b as u64);
            let t = b % self.tenants;
            let slot = (b * per_batch + k) % jobs;
            let (namespace, job) = self.job_at(slot);
            let identity = BranchIdentity {
                batch_id: batch_id.clone(),
                tenant_id: Self::tenant_id(t),
                tenant_name: Self::tenant_name(t),
                operation: SEEDED_OPERATION.into(),
                job_namespace: namespace.clone(),
                job_name: job.clone(),
                attempt: 1,
                engine: Some(Engine::Direct),
                region: region.into(),
                migration: None,
            };
            let name = branch_pod_name(&batch_id, &namespace, &job, 1);
            let context = TenantContext {
                tenant_id: identity.tenant_id.clone(),
                batch_id,
                operation: SEEDED_OPERATION.into(),
                mount_dir: MOUNT_DIR.into(),
            };
            let env: Vec<Value> = context.env().iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
            let failed = p % FAILED_EVERY == FAILED_EVERY - 1;
            let exit_code = if failed { 1 + (p / FAILED_EVERY % 3) as i32 } else { 0 };
            let created = batch_start + k as i64 / 4;
            let started = created + 1;
            let finished = started + 5 + (p % 20) as i64;
            let container_id = format!("containerd://{}", stable_uuid(3 ^ region_key, p as u64).replace('-', ""));
            let terminated = json!({
                "exitCode": exit_code,
                "reason": if failed { "Error" } else { "Completed" },
                "startedAt": at(started),
                "finishedAt": at(finished),
                "containerID": container_id,
            });
            let condition = |kind: &str, ok: bool, when: i64| {
                let mut c = json!({"type": kind, "status": if ok { "True" } else { "False" },
                    "lastProbeTime": null, "lastTransitionTime": at(when)});
                if !ok {
                    c["reason"] = json!("PodCompleted");
                }
                c
            };
            let pod_ip = format!("10.244.{}.{}", (p / 250) % 250, p % 250 + 2);
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "creationTimestamp": at(created),
                    "labels": identity.labels(), "annotations": identity.annotations()},
                "spec": {
                    "restartPolicy": "Never",
                    "nodeName": format!("{region}-node-1"),
                    "containers": [{"name": "lifecycle", "image": "busybox:1.36", "command": ["sh", "-c"],
                        "args": [self.script()], "env": env,
                        "volumeMounts": [{"name": LIFECYCLE_VOLUME, "mountPath": MOUNT_DIR, "readOnly": true}]}],
                    "volumes": [{"name": LIFECYCLE_VOLUME, "configMap": {"name": name}}],
                },
                "status": {
                    "phase": if failed { "Failed" } else { "Succeeded" },
                    "conditions": [
                        condition("PodReadyToStartContainers", true, created),
                        condition("Initialized", true, created),
                        condition("Ready", false, finished),
                        condition("ContainersReady", false, finished),
                        condition("PodScheduled", true, created),
                    ],
                    "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}],
                    "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                    "startTime": at(created),
                    "containerStatuses": [{
                        "name": "lifecycle", "image": "busybox:1.36",
                        "imageID": format!("docker.io/library/busybox@sha256:{:064x}", 0),
                        "containerID": container_id,
                        "state": {"terminated": terminated}, "lastState": {},
                        "ready": false, "restartCount": 0, "started": false,
                    }],
                    "qosClass": "BestEffort",
                },
            });
            let configmap = json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace, "creationTimestamp": at(created),
                    "labels": identity.labels(), "annotations": identity.annotations(),
                    "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": name, "uid": "",
                        "blockOwnerDeletion": true, "controller": true}]},
                "data": {ENVIRONMENT_FILE: self.environment_yaml(t, region), CHANGESET_FILE: "{}\n"},
                "immutable": true,
            });
            out.push((pod, configmap));
        }
        out
    }

    /// Creates the estate in `store` (straight into storage: a 10,000-tenant estate seeds in a
    /// fraction of a second), then its branch pods — finished already in the change that creates
    /// them ([`Store::restore`]), so the kubelet never runs them — each with its ConfigMap.
    /// Returns how many objects were created.
    pub fn seed(&self, store: &Store, region: &str) -> Result<usize, SeedError> {
        if self.branch_pods > 0 && (self.tenants == 0 || self.namespaces * self.jobs_per_namespace == 0) {
            return Err(SeedError::NoJobs { estate: self.clone() });
        }
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
            let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
            store
                .create(resource, object)
                .map_err(|e| SeedError::Refused { what: format!("{kind} {name}"), message: e.message })?;
            created += 1;
        }
        for (pod, mut configmap) in self.branch_pods(region, Timestamp::now().as_second()) {
            let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let pod = store
                .restore(Resource::Pods, pod)
                .map_err(|e| SeedError::Refused { what: format!("branch pod {name}"), message: e.message })?;
            configmap["metadata"]["ownerReferences"][0]["uid"] = pod["metadata"]["uid"].clone();
            store
                .restore(Resource::ConfigMaps, configmap)
                .map_err(|e| SeedError::Refused { what: format!("branch ConfigMap {name}"), message: e.message })?;
            created += 2;
        }
        for record in self.records(region, Timestamp::now().as_second()) {
            let name = record["metadata"]["name"].as_str().unwrap_or_default().to_string();
            store
                .create(Resource::ConfigMaps, record)
                .map_err(|e| SeedError::Refused { what: format!("record {name}"), message: e.message })?;
            created += 1;
        }
        Ok(created)
    }

    /// The records of [`GeneratedEstate::records`] older batches, as JSON objects, oldest first.
    pub fn records(&self, region: &str, now: i64) -> Vec<Value> {
        use crate::audit::record::{BatchOutcome, BranchOutcome, record_configmap};
        use crate::audit::{AuditAction, AuditRecord};
        use crate::lifecycle::run::Phase;
        let jobs = self.namespaces * self.jobs_per_namespace;
        if self.tenants == 0 || jobs == 0 {
            return Vec::new();
        }
        let per_batch = BRANCHES_PER_BATCH.min(jobs);
        let region_key = Self::region_key(region);
        // Older than the batches that still have pods.
        let newest = now - (self.branch_pods.div_ceil(per_batch) as i64 + 1) * BATCH_SPACING_SECS;
        let mut out = Vec::with_capacity(self.records);
        for r in 0..self.records {
            let started = newest - (self.records - r) as i64 * BATCH_SPACING_SECS;
            let at = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
            let t = r % self.tenants;
            let batch_id = batch_id_at(started, 3 ^ region_key, r as u64);
            let branches: Vec<BranchOutcome> = (0..per_batch)
                .map(|k| {
                    let slot = (r * per_batch + k) % jobs;
                    let failed = (r * per_batch + k) % FAILED_EVERY == FAILED_EVERY - 1;
                    let (namespace, job) = self.job_at(slot);
                    BranchOutcome {
                        job: format!("{namespace}/{job}"),
                        attempt: 1,
                        phase: if failed { Phase::Failed } else { Phase::Succeeded },
                        exit_code: Some(if failed { 2 } else { 0 }),
                        reason: failed.then(|| "Error".to_string()),
                        started: Some(at(started)),
                        finished: Some(at(started + 30)),
                        last_line: Some(if failed { "error: the change was refused".into() } else { "done".into() }),
                    }
                })
                .collect();
            let phase =
                if branches.iter().any(|b| b.phase == Phase::Failed) { Phase::Failed } else { Phase::Succeeded };
            let entry = AuditRecord {
                at: at(started),
                who: "generated via sim".into(),
                action: AuditAction::Trigger,
                batch_id,
                region: region.to_string(),
                tenant_id: Self::tenant_id(t),
                tenant_name: Self::tenant_name(t),
                operation: SEEDED_OPERATION.into(),
                changeset_digest: crate::audit::changeset_digest(""),
                jobs: branches.iter().map(|b| b.job.clone()).collect(),
                outcome: "ok".into(),
            };
            let outcome = BatchOutcome {
                phase,
                recorded_at: at(started + 60),
                recorded_by: "generated via sim".into(),
                branches,
            };
            let Ok(cm) =
                record_configmap(RECORDS_NAMESPACE, &entry, Some(crate::contract::Engine::Direct), Some(&outcome))
            else {
                continue;
            };
            if let Ok(mut v) = serde_json::to_value(cm) {
                v["apiVersion"] = json!("v1");
                v["kind"] = json!("ConfigMap");
                out.push(v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_determinism() {
        let estate =
            GeneratedEstate { tenants: 7, namespaces: 3, jobs_per_namespace: 2, log_lines: 5, ..Default::default() };
        let a = estate.objects("eu-west");
        assert_eq!(a.len(), 2 + 3 + 7 + 3 * 2, "the tenant and record namespaces, 3 team namespaces, tenants, Jobs");
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

    #[test]
    fn branch_pods_are_finished_branches_of_ten_per_batch() {
        use std::collections::{BTreeMap, BTreeSet};

        use k8s_openapi::api::core::v1::{ConfigMap, Pod};

        use crate::contract::labels::{ATTEMPT, ENGINE, MANAGED_BY, MANAGER};
        use crate::lifecycle::run::{Phase, PodSnapshot};

        let estate = GeneratedEstate {
            tenants: 3,
            namespaces: 4,
            jobs_per_namespace: 5,
            log_lines: 5,
            branch_pods: 45,
            ..Default::default()
        };
        let now = 1_770_000_000;
        let pairs = estate.branch_pods("eu-west", now);
        assert_eq!(pairs, estate.branch_pods("eu-west", now), "deterministic");
        assert_eq!(pairs.len(), 45);
        let store = Store::new(1000);
        let created = estate.seed(&store, "eu-west").expect("seeds");
        assert_eq!(created, estate.objects("eu-west").len() + 2 * 45);
        let pods = store.list(Resource::Pods, &Default::default()).expect("pods").items;
        assert_eq!(pods.len(), 45);
        let mut batches: BTreeMap<String, Vec<PodSnapshot>> = BTreeMap::new();
        for value in &pods {
            let pod: Pod = serde_json::from_value((**value).clone()).expect("a valid Pod");
            let labels = pod.metadata.labels.clone().unwrap_or_default();
            assert_eq!(labels.get(ENGINE).map(String::as_str), Some("direct"));
            assert_eq!(labels.get(ATTEMPT).map(String::as_str), Some("1"));
            assert_eq!(labels.get(MANAGED_BY).map(String::as_str), Some(MANAGER));
            let branch = PodSnapshot::from_pod(&pod).expect("parses as a branch");
            assert_eq!(branch.identity.region, "eu-west");
            assert_eq!(branch.identity.operation, "lifecycle.upsert");
            assert!(branch.started.is_some() && branch.finished.is_some() && branch.started < branch.finished);
            assert!(branch.finished.is_some_and(|f| f <= Timestamp::now()), "finished before it was seeded");
            match branch.phase {
                Phase::Succeeded => assert_eq!(branch.exit_code, Some(0)),
                Phase::Failed => assert!(branch.exit_code.is_some_and(|c| c > 0), "{:?}", branch.exit_code),
                other => panic!("a seeded branch is finished, got {other:?}"),
            }
            // The ConfigMap it owns holds the tenant's environment.
            let cm = store
                .get(Resource::ConfigMaps, &branch.identity.job_namespace, &branch.pod_name)
                .expect("its ConfigMap");
            let cm: ConfigMap = serde_json::from_value((*cm).clone()).expect("a valid ConfigMap");
            assert_eq!(cm.metadata.owner_references.expect("owned")[0].uid, pod.metadata.uid.clone().expect("uid"));
            let env = cm.data.expect("data")[ENVIRONMENT_FILE].clone();
            assert!(env.contains(&format!("id: {}", branch.identity.tenant_id)), "{env}");
            batches.entry(branch.identity.batch_id.clone()).or_default().push(branch);
        }
        let failed = pods.iter().filter(|p| p["status"]["phase"] == "Failed").count();
        assert_eq!(failed, 1, "one in {FAILED_EVERY}");
        assert_eq!(batches.len(), 5, "45 branches in batches of {BRANCHES_PER_BATCH}");
        let sizes: Vec<usize> = batches.values().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 10, 10, 5], "batch ids sort by start time");
        let tenants: Vec<String> = batches.values().map(|b| b[0].identity.tenant_name.clone()).collect();
        assert_eq!(tenants, ["tenant-00000", "tenant-00001", "tenant-00002", "tenant-00000", "tenant-00001"]);
        for branches in batches.values() {
            assert!(branches.iter().all(|b| b.identity.tenant_id == branches[0].identity.tenant_id));
            let jobs: BTreeSet<(String, String)> =
                branches.iter().map(|b| (b.identity.job_namespace.clone(), b.identity.job_name.clone())).collect();
            assert_eq!(jobs.len(), branches.len(), "a batch runs each Job once");
            assert!(jobs.iter().all(|(ns, job)| store.get(Resource::Jobs, ns, job).is_ok()), "of real Jobs");
        }
        // Another region's batches are other batches.
        let us: BTreeSet<String> = estate
            .branch_pods("us-east", now)
            .iter()
            .map(|(p, _)| p["metadata"]["labels"]["tlc.dev/batch-id"].as_str().unwrap_or_default().to_string())
            .collect();
        assert!(us.iter().all(|id| !batches.contains_key(id)));
    }

    #[test]
    fn branch_pods_need_a_tenant_and_a_job() {
        let estate = GeneratedEstate { tenants: 0, branch_pods: 3, ..Default::default() };
        assert!(estate.branch_pods("eu-west", 0).is_empty());
        let err = estate.seed(&Store::new(100), "eu-west").expect_err("refused").to_string();
        assert_eq!(
            err,
            "cannot seed 3 branch pods: the estate needs at least one tenant and one Job (it has 0 tenants, 100 namespaces × 10 Jobs)"
        );
    }

    #[test]
    fn a_log_rate_paces_the_script_with_sleep() {
        let unpaced = GeneratedEstate { log_lines: 7, ..Default::default() }.script();
        assert!(!unpaced.contains("sleep"), "{unpaced}");
        let paced = GeneratedEstate { log_lines: 7, log_rate: 200, ..Default::default() }.script();
        assert!(paced.contains("[ $((i % 10)) -ne 0 ] || sleep 0.05\n"), "{paced}");
    }
}
