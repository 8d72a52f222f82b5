//! Migrations: a tenant moves from its region to another as two batches — migrate-out in the
//! source region, then, only if every migrate-out branch succeeded, migrate-in in the target
//! region. Both halves carry the migration's link (its migrate-out batch's id and the target), so
//! any console shows them as one migration. The chain lives here, not in a UI: the console and
//! `tlc migrate` both run it through [`run`] (or, to follow each half on its own, [`Runner::submit`]
//! and [`next`]).

use std::collections::BTreeMap;

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::direct::BranchResult;
use super::plan::{Plan, Request, plan};
use super::runner::{Ran, Runner};
use crate::contract::labels::MigrationLink;
use crate::contract::operation::KnownOperation;
use crate::contract::{LifecycleJob, Operation};
use crate::lifecycle::run::RunEvent;
use crate::tenants::Tenant;

/// Where a migration is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MigrationState {
    /// migrate-out is running in the source region.
    OutRunning,
    /// migrate-out succeeded everywhere; migrate-in is being started.
    StartingIn,
    /// migrate-in is running in the target region.
    InRunning,
    /// It stopped (why).
    Stopped(String),
}

/// One tenant's migration: migrate-out in its region, then migrate-in in the target region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// The tenant (as it is in the source region).
    pub tenant: Tenant,
    /// Source region.
    pub source: String,
    /// Target region.
    pub target: String,
    /// The migrate-out batch (the migration's id).
    pub out_batch: String,
    /// The migrate-in batch, once started.
    pub in_batch: Option<String>,
    /// Where it is.
    pub state: MigrationState,
}

/// The migrate-out request of moving `tenants` to `target`: each batch starts a migration of its
/// own (the link's id is filled in per batch when planned).
pub fn migrate_out_request(request: Request, target: &str) -> Request {
    Request {
        operation: Operation::from(KnownOperation::MigrateOut),
        migration: Some(MigrationLink { id: String::new(), target: target.to_string() }),
        ..request
    }
}

/// The migrate-in request of migration `migration` (its migrate-out batch's id; empty in a
/// preview) to `target`: the same tenants, now in `target`.
pub fn migrate_in_request(request: &Request, target: &str, migration: &str) -> Request {
    Request {
        tenants: request.tenants.iter().map(|t| Tenant { region: target.to_string(), ..t.clone() }).collect(),
        operation: Operation::from(KnownOperation::MigrateIn),
        migration: Some(MigrationLink { id: migration.to_string(), target: target.to_string() }),
        ..request.clone()
    }
}

/// The migrations a migrate-out plan starts: one per batch.
pub fn migrations(out: &Plan, target: &str) -> Vec<Migration> {
    out.batches
        .iter()
        .map(|b| Migration {
            tenant: b.tenant.clone(),
            source: b.region.clone(),
            target: target.to_string(),
            out_batch: b.batch_id.clone(),
            in_batch: None,
            state: MigrationState::OutRunning,
        })
        .collect()
}

/// Whether every branch of a migrate-out batch succeeded (only then may migrate-in run).
pub fn out_succeeded(results: &[BranchResult], out_batch: &str) -> bool {
    let mut mine = results.iter().filter(|r| r.spec.batch_id == out_batch).peekable();
    mine.peek().is_some() && mine.all(|r| matches!(&r.outcome, Some(Ok(o)) if o.succeeded()))
}

/// What follows a migration's migrate-out.
#[derive(Debug)]
pub enum Next {
    /// Its migrate-in, to run.
    In(Box<Plan>),
    /// migrate-in will not run, and why.
    Stop(String),
}

/// Decides what follows `migration`'s migrate-out, given every branch's result and the Jobs of the
/// target region: migrate-in only when every migrate-out branch succeeded and a runnable Job
/// handles migrate-in there.
pub fn next(
    migration: &Migration,
    out: &[BranchResult],
    request: &Request,
    jobs: &BTreeMap<String, Vec<LifecycleJob>>,
) -> Next {
    if !out_succeeded(out, &migration.out_batch) {
        return Next::Stop("migrate-out did not succeed on every branch: migrate-in was not started".into());
    }
    let one = Request { tenants: vec![migration.tenant.clone()], ..request.clone() };
    let in_plan = plan(&migrate_in_request(&one, &migration.target, &migration.out_batch), jobs);
    if !in_plan.is_runnable() {
        return Next::Stop(format!("migrate-in in {} not started: {}", migration.target, in_plan.problems.join("; ")));
    }
    if in_plan.branch_count() == 0 {
        return Next::Stop(format!("migrate-in in {} not started: no runnable Job handles it there", migration.target));
    }
    Next::In(Box::new(in_plan))
}

/// A step of running migrations, as it happens.
#[derive(Debug)]
pub enum Step {
    /// A migration's migrate-out ended.
    OutDone {
        /// The migration (its migrate-out batch id).
        id: String,
        /// Every branch succeeded.
        all_succeeded: bool,
    },
    /// Its migrate-in was started.
    InStarted {
        /// The migration.
        id: String,
        /// The migrate-in batch.
        batch_id: String,
    },
    /// Its migrate-in will not run.
    Stopped {
        /// The migration.
        id: String,
        /// Why.
        why: String,
    },
    /// A batch ran (either half): its results and what the audit could not record.
    Ran(Ran),
}

/// Runs migrations: the migrate-out plan, then each migration's migrate-in as [`next`] decides,
/// reporting every step to `on_step`. `jobs` are the Jobs of the regions involved (the target's
/// decide the migrate-in plans).
#[allow(clippy::too_many_arguments)] // each is one thing the chain needs; a struct would only rename them
pub async fn run(
    runner: &Runner,
    out: &Plan,
    request: &Request,
    migrations: &[Migration],
    jobs: &BTreeMap<String, Vec<LifecycleJob>>,
    events: &UnboundedSender<RunEvent>,
    stop: &CancellationToken,
    mut on_step: impl FnMut(Step),
) {
    let ran = runner.submit(out, &request.changeset_yaml, events, stop).await;
    let results: &[BranchResult] = ran.results.as_deref().unwrap_or_default();
    let decisions: Vec<(String, bool, Next)> = migrations
        .iter()
        .map(|m| (m.out_batch.clone(), out_succeeded(results, &m.out_batch), next(m, results, request, jobs)))
        .collect();
    on_step(Step::Ran(ran));
    for (id, all_succeeded, decision) in decisions {
        on_step(Step::OutDone { id: id.clone(), all_succeeded });
        match decision {
            Next::Stop(why) => on_step(Step::Stopped { id, why }),
            Next::In(_) if stop.is_cancelled() => {
                on_step(Step::Stopped { id, why: "stopped before migrate-in".into() })
            }
            Next::In(in_plan) => {
                if let Some(b) = in_plan.batches.first() {
                    on_step(Step::InStarted { id: id.clone(), batch_id: b.batch_id.clone() });
                }
                on_step(Step::Ran(runner.submit(&in_plan, &request.changeset_yaml, events, stop).await));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::bridge::Outcome;
    use crate::lifecycle::error::Error;

    const KEY: &str = "tlc.dev/lifecycle";

    fn job(ns: &str, name: &str, ops: &str) -> LifecycleJob {
        let j: k8s_openapi::api::batch::v1::Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": ns, "annotations": {KEY: ops}},
            "spec": {"suspend": true, "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "echo hi"]}]}}}
        }))
        .expect("job");
        LifecycleJob::from_job(&j, KEY, "/var/run/tlc/lifecycle").expect("a lifecycle job")
    }

    fn tenant() -> Tenant {
        Tenant {
            id: "1da11ccf-6654-4f57-8807-6bb944658fe6".into(),
            name: "acme-prod".into(),
            display_name: None,
            region: "eu-west".into(),
            plan: None,
            services: vec![],
            labels: Default::default(),
            environment_yaml: "id: 1da11ccf-6654-4f57-8807-6bb944658fe6\n".into(),
            origin: "tenants/tenant-acme-prod".into(),
            problems: vec![],
        }
    }

    fn jobs() -> BTreeMap<String, Vec<LifecycleJob>> {
        BTreeMap::from([
            (
                "eu-west".to_string(),
                vec![
                    job("billing", "export", "lifecycle.migrate-out"),
                    job("search", "drain", "lifecycle.migrate-out"),
                ],
            ),
            ("us-east".to_string(), vec![job("billing", "import", "lifecycle.migrate-in")]),
        ])
    }

    fn request() -> Request {
        migrate_out_request(
            Request {
                tenants: vec![tenant()],
                operation: Operation::from(KnownOperation::Upsert),
                changeset_yaml: "{}\n".into(),
                only_jobs: None,
                engine: crate::contract::Engine::Direct,
                mount_dir: "/var/run/tlc/lifecycle".into(),
                migration: None,
            },
            "us-east",
        )
    }

    /// The migrate-out results, one per branch, each ending with `phase` (or failing to launch).
    fn results(out: &Plan, ends: &[Option<&str>]) -> Vec<BranchResult> {
        out.batches[0]
            .branches
            .iter()
            .zip(ends)
            .map(|(spec, end)| BranchResult {
                spec: spec.clone(),
                outcome: Some(match end {
                    Some(phase) => Ok(Outcome { phase: (*phase).into(), exit_code: Some(0), reason: None }),
                    None => Err(Error::Input("refused".into())),
                }),
            })
            .collect()
    }

    #[test]
    fn migrate_in_follows_only_when_every_migrate_out_branch_succeeded() {
        let request = request();
        let out = plan(&request, &jobs());
        assert_eq!(out.operation.as_str(), "lifecycle.migrate-out");
        let [m] = migrations(&out, "us-east").try_into().expect("one migration");
        let id = out.batches[0].batch_id.clone();
        assert_eq!((m.out_batch.as_str(), m.source.as_str(), m.target.as_str()), (id.as_str(), "eu-west", "us-east"));
        assert!(out.batches[0].branches.iter().all(|b| b.migration.as_ref().is_some_and(|l| l.id == id)));

        let all_ok = results(&out, &[Some("Succeeded"), Some("Succeeded")]);
        assert!(out_succeeded(&all_ok, &id));
        let Next::In(in_plan) = next(&m, &all_ok, &request, &jobs()) else { panic!("migrate-in should follow") };
        let b = &in_plan.batches[0];
        assert_eq!((in_plan.operation.as_str(), b.region.as_str()), ("lifecycle.migrate-in", "us-east"));
        assert_ne!(b.batch_id, id, "migrate-in is a batch of its own");
        assert!(
            b.branches.iter().all(|s| s.migration == Some(MigrationLink { id: id.clone(), target: "us-east".into() }))
        );

        for ends in
            [[Some("Succeeded"), Some("Failed")], [Some("Succeeded"), None], [Some("Running"), Some("Succeeded")]]
        {
            let partial = results(&out, &ends);
            assert!(!out_succeeded(&partial, &id), "{ends:?}");
            let Next::Stop(why) = next(&m, &partial, &request, &jobs()) else { panic!("{ends:?}: must stop") };
            assert_eq!(why, "migrate-out did not succeed on every branch: migrate-in was not started");
        }
        assert!(!out_succeeded(&[], &id), "no result at all is not a success");
    }

    #[test]
    fn no_runnable_migrate_in_job_in_the_target_stops_the_migration_with_the_reason() {
        let request = request();
        let out = plan(&request, &jobs());
        let [m] = migrations(&out, "us-east").try_into().expect("one migration");
        let ok = results(&out, &[Some("Succeeded"), Some("Succeeded")]);
        let mut without = jobs();
        without.insert("us-east".into(), vec![job("billing", "import", "lifecycle.upsert")]);
        let Next::Stop(why) = next(&m, &ok, &request, &without) else { panic!("must stop") };
        assert_eq!(
            why,
            "migrate-in in us-east not started: no runnable lifecycle job handles lifecycle.migrate-in in region us-east (for tenant acme-prod)"
        );
        without.remove("us-east");
        let Next::Stop(why) = next(&m, &ok, &request, &without) else { panic!("must stop") };
        assert_eq!(
            why,
            "migrate-in in us-east not started: tenant acme-prod is in region \"us-east\", which is not configured"
        );
    }
}
