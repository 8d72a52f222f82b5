//! The demo estate end to end: every runnable lifecycle Job, for every tenant of its region and
//! every operation it declares, run the way the bridge runs it (the Job's pod template, the five
//! LIFECYCLE_* variables, the two files mounted from a ConfigMap the pod owns). Exactly one
//! combination fails, by design: lineage-graph for globex-prod (exit 2).

use std::collections::BTreeMap;

use crate::common::{cluster, exit_code, wait_finished};
use futures::{StreamExt, stream};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, LogParams, PostParams};
use serde_json::{Value, json};
use tlc::demo;

const ANNOTATION: &str = "collibra.com/tenant.lifecycle";
const MOUNT: &str = "/var/run/tlc/lifecycle";

/// Jobs that are suspended and carry a well-formed annotation, with their operations.
fn runnable(jobs: &[Job]) -> Vec<(Job, Vec<String>)> {
    jobs.iter()
        .filter(|j| j.spec.as_ref().and_then(|s| s.suspend) == Some(true))
        .filter_map(|j| {
            let value = j.metadata.annotations.as_ref()?.get(ANNOTATION)?.clone();
            let ops: Vec<String> = value.split(',').map(|o| o.trim().to_string()).collect();
            ops.iter()
                .all(|o| !o.is_empty() && o.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '-'))
                .then(|| (j.clone(), ops))
        })
        .collect()
}

/// The pod the bridge would create for (job, tenant, operation).
fn bridged(job: &Job, name: &str, tenant_id: &str, operation: &str) -> Pod {
    let mut spec =
        serde_json::to_value(job.spec.as_ref().and_then(|s| s.template.spec.clone()).expect("template")).expect("json");
    let env = json!([
        {"name": "LIFECYCLE_TENANT_ENV_ID", "value": tenant_id},
        {"name": "LIFECYCLE_BATCH_OPERATION_ID", "value": uuid::Uuid::now_v7().to_string()},
        {"name": "LIFECYCLE_OPERATION_NAME", "value": operation},
        {"name": "LIFECYCLE_TENANT_ENV_FILE", "value": format!("{MOUNT}/environment.yaml")},
        {"name": "LIFECYCLE_CHANGESET_FILE", "value": format!("{MOUNT}/changeset.yaml")},
    ]);
    for c in spec["containers"].as_array_mut().expect("containers") {
        let mut all = c.get("env").and_then(Value::as_array).cloned().unwrap_or_default();
        all.extend(env.as_array().cloned().unwrap_or_default());
        c["env"] = Value::Array(all);
        c["volumeMounts"] = json!([{"name": "lifecycle", "mountPath": MOUNT, "readOnly": true}]);
    }
    spec["volumes"] = json!([{"name": "lifecycle", "configMap": {"name": name}}]);
    spec["restartPolicy"] = json!("Never");
    serde_json::from_value(json!({"metadata": {"name": name}, "spec": spec})).expect("pod")
}

#[tokio::test]
async fn every_job_runs_for_every_tenant_and_exactly_one_combination_fails() {
    let mut outcomes: BTreeMap<(String, String, String), i32> = BTreeMap::new();
    for region in ["eu-west", "us-east"] {
        let c = cluster().await;
        let client = c.client().await.expect("client");
        demo::examples::seed(c.store(), region).expect("estate seeds");
        let tenants: Api<ConfigMap> = Api::namespaced(client.clone(), demo::TENANT_NAMESPACE);
        let tenants = tenants
            .list(&ListParams::default().labels(&format!("tlc.dev/tenant=true,tlc.dev/region={region}")))
            .await
            .expect("tenants")
            .items;
        assert_eq!(tenants.len(), 6, "{region} has six tenants");
        let jobs: Api<Job> = Api::all(client.clone());
        let jobs = runnable(&jobs.list(&ListParams::default()).await.expect("jobs").items);
        assert_eq!(jobs.len(), 14, "14 runnable lifecycle jobs (3 special cases excluded)");
        let mut runs = Vec::new();
        for tenant in &tenants {
            let id =
                tenant.metadata.labels.as_ref().and_then(|l| l.get("tlc.dev/tenant-id")).cloned().expect("tenant id");
            let env = tenant.data.as_ref().and_then(|d| d.get("environment.yaml")).cloned().expect("environment.yaml");
            let tenant_name = tenant.metadata.name.clone().unwrap_or_default();
            for (job, ops) in &jobs {
                for op in ops {
                    runs.push((job.clone(), tenant_name.clone(), id.clone(), env.clone(), op.clone()));
                }
            }
        }
        let results: Vec<_> = stream::iter(runs.into_iter().enumerate())
            .map(|(i, (job, tenant, id, env, op))| {
                let client = client.clone();
                async move {
                    let ns = job.metadata.namespace.clone().unwrap_or_default();
                    let name = format!("{region}-run-{i:04}");
                    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
                    let pod = pods.create(&PostParams::default(), &bridged(&job, &name, &id, &op)).await.expect("pod");
                    let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
                    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": name, "ownerReferences": [{
                        "apiVersion": "v1", "kind": "Pod", "name": name, "uid": pod.metadata.uid}]},
                        "data": {"environment.yaml": env, "changeset.yaml": "settings:\n  sso: true\n"}}))
                    .expect("cm");
                    cms.create(&PostParams::default(), &cm).await.expect("cm");
                    let done = wait_finished(&pods, &name).await;
                    let log = pods.logs(&name, &LogParams::default()).await.expect("log");
                    let job_ref = format!("{ns}/{}", job.metadata.name.clone().unwrap_or_default());
                    ((job_ref, tenant, op), exit_code(&done), log)
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        for (key, code, log) in results {
            assert!(!log.is_empty(), "{key:?} printed something");
            assert!(!log.contains("tlc simulated shell"), "{key:?} stays inside the shell subset: {log}");
            outcomes.insert(key, code);
        }
    }
    let failures: Vec<_> = outcomes.iter().filter(|(_, code)| **code != 0).collect();
    assert_eq!(
        failures,
        vec![(
            &("lineage/lineage-graph".to_string(), "tenant-globex-prod".to_string(), "lifecycle.upsert".to_string()),
            &2
        )],
        "out of {} runs",
        outcomes.len()
    );
    assert!(outcomes.len() > 100, "{} runs", outcomes.len());
}

/// Seeded branch pods are finished in the change that creates them: the kubelet never runs them.
/// A pod created after them and run to the end proves the kubelet has seen them all (it handles
/// the store's changes in order); they are then exactly as seeded.
#[tokio::test]
async fn seeded_branch_pods_stay_finished_and_are_found_by_their_labels() {
    let c = cluster().await;
    let client = c.client().await.expect("client");
    let generated = demo::GeneratedEstate {
        tenants: 5,
        namespaces: 3,
        jobs_per_namespace: 4,
        log_lines: 3,
        branch_pods: 30,
        ..Default::default()
    };
    generated.seed(c.store(), "test").expect("estate seeds");
    let all: Api<Pod> = Api::all(client.clone());
    let selector = ListParams::default().labels("tlc.dev/batch-id,app.kubernetes.io/managed-by=tlc");
    let seeded = all.list(&selector).await.expect("branch pods").items;
    assert_eq!(seeded.len(), 30);
    // Created after them: a generated Job's script, paced by sleeps (instant at time scale 0).
    let pods: Api<Pod> = Api::namespaced(client.clone(), "team-0000");
    let paced = demo::GeneratedEstate { log_lines: 25, log_rate: 200, ..generated.clone() }.script();
    let done = crate::common::run_pod(&pods, &crate::common::script_pod("after-the-seed", &paced)).await;
    assert_eq!(crate::common::exit_code(&done), 0);
    let log = pods.logs("after-the-seed", &LogParams::default()).await.expect("log");
    assert_eq!(log.lines().count(), 25, "{log}");
    let now = all.list(&selector).await.expect("branch pods").items;
    let state = |p: &Pod| {
        (
            p.metadata.name.clone(),
            p.metadata.resource_version.clone(),
            p.status.as_ref().and_then(|s| s.phase.clone()),
            p.spec.as_ref().and_then(|s| s.node_name.clone()),
        )
    };
    assert_eq!(now.iter().map(state).collect::<Vec<_>>(), seeded.iter().map(state).collect::<Vec<_>>());
    let failed = now.iter().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed")).count();
    assert_eq!(failed, 1, "one in 25 failed");
    assert!(now.iter().all(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some("test-node-1")));
}
