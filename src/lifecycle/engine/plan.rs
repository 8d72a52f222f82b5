//! Planning a request: for each tenant, the batch that will run in its region — which lifecycle
//! Jobs will run, which are skipped and why — before anything is created. The plan is what the
//! preview shows and what `--dry-run` prints; executing it runs exactly that.

use std::collections::BTreeMap;

use crate::contract::labels::MigrationLink;
use crate::contract::{Engine, JobRef, LifecycleJob, Operation, new_batch_id};
use crate::lifecycle::bridge::BranchSpec;
use crate::tenants::Tenant;

/// What the operator asked for.
#[derive(Clone, Debug)]
pub struct Request {
    /// The tenants (one batch each).
    pub tenants: Vec<Tenant>,
    /// The operation.
    pub operation: Operation,
    /// The `changeset.yaml` every branch gets.
    pub changeset_yaml: String,
    /// Only these Jobs (team operations pick theirs); `None` = every Job handling the operation.
    pub only_jobs: Option<Vec<JobRef>>,
    /// The engine that runs it (the branches' `tlc.dev/engine` label).
    pub engine: Engine,
    /// Where branch pods mount the two files.
    pub mount_dir: String,
    /// The migration this request is half of. An empty id means each batch starts a migration of
    /// its own (the migrate-out half: a migration's id is its migrate-out batch's id).
    pub migration: Option<MigrationLink>,
}

/// A Job that handles the operation but will not run, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The Job.
    pub job: JobRef,
    /// Why.
    pub reason: String,
}

/// One tenant's batch.
#[derive(Clone, Debug)]
pub struct PlannedBatch {
    /// Its id (UUIDv7).
    pub batch_id: String,
    /// Region it runs in.
    pub region: String,
    /// The tenant.
    pub tenant: Tenant,
    /// One branch per Job to run.
    pub branches: Vec<BranchSpec>,
    /// Jobs handling the operation that will not run.
    pub skipped: Vec<Skipped>,
}

/// The whole plan.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The operation.
    pub operation: Operation,
    /// The engine that runs it.
    pub engine: Engine,
    /// One batch per tenant.
    pub batches: Vec<PlannedBatch>,
    /// What makes the request impossible as it stands (nothing runs while there is any).
    pub problems: Vec<String>,
}

impl Plan {
    /// Whether it can be executed.
    pub fn is_runnable(&self) -> bool {
        self.problems.is_empty()
    }

    /// All branches of all batches.
    pub fn branch_count(&self) -> usize {
        self.batches.iter().map(|b| b.branches.len()).sum()
    }
}

/// Plans `request` against the lifecycle Jobs discovered in each region.
pub fn plan(request: &Request, jobs_by_region: &BTreeMap<String, Vec<LifecycleJob>>) -> Plan {
    let op = request.operation.as_str();
    let mut problems = Vec::new();
    let mut batches = Vec::new();
    if request.tenants.is_empty() {
        problems.push("no tenant selected".to_string());
    }
    if let Some(only) = &request.only_jobs {
        for wanted in only {
            let exists = jobs_by_region.values().flatten().any(|j| &j.job == wanted && j.handles(op));
            if !exists {
                problems.push(format!("job {wanted} does not handle {op} in any region"));
            }
        }
    }
    for tenant in &request.tenants {
        if !tenant.is_usable() {
            problems.push(format!("tenant {} cannot be used: {}", tenant.name, tenant.problems.join("; ")));
            continue;
        }
        let Some(jobs) = jobs_by_region.get(&tenant.region) else {
            problems
                .push(format!("tenant {} is in region \"{}\", which is not configured", tenant.name, tenant.region));
            continue;
        };
        let batch_id = new_batch_id();
        let migration = request.migration.as_ref().map(|m| MigrationLink {
            id: if m.id.is_empty() { batch_id.clone() } else { m.id.clone() },
            target: m.target.clone(),
        });
        let mut branches = Vec::new();
        let mut skipped = Vec::new();
        for job in jobs.iter().filter(|j| j.handles(op)) {
            if let Some(only) = &request.only_jobs
                && !only.contains(&job.job)
            {
                skipped.push(Skipped { job: job.job.clone(), reason: "not selected".into() });
                continue;
            }
            if !job.is_runnable() {
                let reasons: Vec<String> = job.problems.iter().map(ToString::to_string).collect();
                skipped.push(Skipped { job: job.job.clone(), reason: reasons.join("; ") });
                continue;
            }
            branches.push(BranchSpec {
                region: tenant.region.clone(),
                job: job.clone(),
                tenant_id: tenant.id.clone(),
                tenant_name: tenant.name.clone(),
                environment_yaml: tenant.environment_yaml.clone(),
                operation: op.to_string(),
                batch_id: batch_id.clone(),
                changeset_yaml: request.changeset_yaml.clone(),
                attempt: 1,
                engine: request.engine,
                mount_dir: request.mount_dir.clone(),
                migration: migration.clone(),
            });
        }
        // Jobs with a bad annotation cannot say which operations they handle: show them too.
        for job in jobs.iter().filter(|j| j.operations.is_empty()) {
            let reasons: Vec<String> = job.problems.iter().map(ToString::to_string).collect();
            skipped.push(Skipped { job: job.job.clone(), reason: reasons.join("; ") });
        }
        if branches.is_empty() {
            problems.push(format!(
                "no runnable lifecycle job handles {op} in region {} (for tenant {})",
                tenant.region, tenant.name
            ));
        }
        batches.push(PlannedBatch {
            batch_id,
            region: tenant.region.clone(),
            tenant: tenant.clone(),
            branches,
            skipped,
        });
    }
    Plan { operation: request.operation.clone(), engine: request.engine, batches, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::Job;
    use serde_json::json;

    const KEY: &str = "collibra.com/tenant.lifecycle";

    fn job(ns: &str, name: &str, ops: &str, suspend: bool) -> LifecycleJob {
        let j: Job = serde_json::from_value(json!({"metadata": {"name": name, "namespace": ns, "annotations": {KEY: ops}},
            "spec": {"suspend": suspend, "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}}}}))
        .expect("job");
        LifecycleJob::from_job(&j, KEY, "/m").expect("lifecycle job")
    }

    fn tenant(name: &str, region: &str) -> Tenant {
        Tenant {
            id: "1da11ccf-6654-4f57-8807-6bb944658fe6".into(),
            name: name.into(),
            display_name: None,
            region: region.into(),
            plan: None,
            services: vec![],
            labels: Default::default(),
            environment_yaml: "id: x\n".into(),
            origin: format!("tenants/{name}"),
            problems: vec![],
        }
    }

    fn request(tenants: Vec<Tenant>, op: &str, only: Option<Vec<JobRef>>) -> Request {
        Request {
            tenants,
            operation: Operation::new(op).expect("op"),
            changeset_yaml: "{}\n".into(),
            only_jobs: only,
            engine: Engine::Direct,
            mount_dir: "/m".into(),
            migration: None,
        }
    }

    fn estate() -> BTreeMap<String, Vec<LifecycleJob>> {
        let jobs = vec![
            job("a", "up", "lifecycle.upsert,lifecycle.migrate-in", true),
            job("b", "up2", "lifecycle.upsert", true),
            job("c", "loose", "lifecycle.upsert", false),
            job("d", "typo", "lifecycle.upsert; x", true),
            job("e", "ops", "team.operation", true),
            job("f", "ops2", "team.operation", true),
        ];
        [("eu-west".to_string(), jobs)].into_iter().collect()
    }

    #[test]
    fn a_batch_per_tenant_with_runnable_jobs_and_reasons_for_the_rest() {
        let p = plan(&request(vec![tenant("acme", "eu-west")], "lifecycle.upsert", None), &estate());
        assert!(p.is_runnable(), "{:?}", p.problems);
        let b = &p.batches[0];
        let run: Vec<String> = b.branches.iter().map(|s| s.job.job.to_string()).collect();
        assert_eq!(run, vec!["a/up", "b/up2"]);
        let skipped = &b.skipped;
        let loose = "not suspended: the Job runs by itself (set spec.suspend: true)";
        assert_eq!(skipped[0], Skipped { job: JobRef::new("c", "loose"), reason: loose.into() });
        let typo = &skipped[1];
        assert!(typo.job == JobRef::new("d", "typo") && typo.reason.starts_with("bad annotation"), "{skipped:?}");
        assert!(b.branches.iter().all(|s| s.batch_id == b.batch_id && s.attempt == 1));
    }

    #[test]
    fn team_operations_run_only_the_chosen_jobs() {
        let p = plan(
            &request(vec![tenant("acme", "eu-west")], "team.operation", Some(vec![JobRef::new("f", "ops2")])),
            &estate(),
        );
        assert!(p.is_runnable());
        assert_eq!(p.branch_count(), 1);
        assert_eq!(p.batches[0].skipped[0], Skipped { job: JobRef::new("e", "ops"), reason: "not selected".into() });
        let bad = plan(
            &request(vec![tenant("acme", "eu-west")], "team.operation", Some(vec![JobRef::new("a", "up")])),
            &estate(),
        );
        assert!(
            bad.problems.iter().any(|p| p == "job a/up does not handle team.operation in any region"),
            "{:?}",
            bad.problems
        );
    }

    #[test]
    fn impossible_requests_say_why() {
        let mut broken = tenant("broken", "eu-west");
        broken.problems.push("no id".into());
        let p = plan(&request(vec![broken, tenant("far", "ap-south")], "lifecycle.migrate-out", None), &estate());
        assert_eq!(
            p.problems,
            vec![
                "tenant broken cannot be used: no id".to_string(),
                "tenant far is in region \"ap-south\", which is not configured".to_string(),
            ]
        );
        let none = plan(&request(vec![tenant("acme", "eu-west")], "lifecycle.backup", None), &estate());
        assert_eq!(
            none.problems,
            vec!["no runnable lifecycle job handles lifecycle.backup in region eu-west (for tenant acme)".to_string()]
        );
        let ids: std::collections::HashSet<String> =
            plan(&request(vec![tenant("a", "eu-west"), tenant("b", "eu-west")], "lifecycle.upsert", None), &estate())
                .batches
                .iter()
                .map(|b| b.batch_id.clone())
                .collect();
        assert_eq!(ids.len(), 2, "one batch id per tenant");
    }
}
