//! The run model: batches (one tenant × one operation) and their branches (one per lifecycle Job,
//! with attempts), built by a pure [`update`] from events — pod snapshots from a watch or a list,
//! the engine's plan and launch failures, log lines. Nothing here does I/O; the same model backs
//! `tlc run`, `tlc runs`, `tlc logs` and the console, and re-attaching is just feeding it the pods
//! found by their labels.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use super::bridge::outcome;
use crate::contract::labels::MigrationLink;
use crate::contract::{BranchIdentity, Engine, JobRef};

/// Where a branch (attempt) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Planned or created, not running yet.
    Pending,
    /// Its container is running.
    Running,
    /// Exited 0.
    Succeeded,
    /// Exited non-zero, hit its deadline, or could not be launched.
    Failed,
    /// Its pod was deleted before it finished (cancel).
    Cancelled,
}

impl Phase {
    /// Whether it is over.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed | Phase::Cancelled)
    }

    /// Lower-case name for tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Running => "running",
            Phase::Succeeded => "succeeded",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }
}

/// A branch pod as the model needs it, read from a `Pod`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSnapshot {
    /// Who it is (from its labels and annotations).
    pub identity: BranchIdentity,
    /// The pod's name.
    pub pod_name: String,
    /// Pod phase mapped to the model's.
    pub phase: Phase,
    /// The deciding exit code, when finished.
    pub exit_code: Option<i32>,
    /// Why it failed, when it says.
    pub reason: Option<String>,
    /// When the pod was created.
    pub created: Option<Timestamp>,
    /// When its container started.
    pub started: Option<Timestamp>,
    /// When its container finished.
    pub finished: Option<Timestamp>,
    /// It has a deletion timestamp.
    pub deleting: bool,
    /// Its containers, in order (whose logs make up the branch's log).
    pub containers: Vec<String>,
}

fn ts(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> Timestamp {
    t.0
}

impl PodSnapshot {
    /// Reads a pod; `None` when it is not a branch pod.
    pub fn from_pod(pod: &Pod) -> Option<Self> {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let identity = BranchIdentity::from_metadata(
            &namespace,
            &pod.metadata.labels.clone().unwrap_or_default(),
            &pod.metadata.annotations.clone().unwrap_or_default(),
        )?;
        let o = outcome(pod);
        let phase = match o.phase.as_str() {
            "Succeeded" => Phase::Succeeded,
            "Failed" => Phase::Failed,
            "Running" => Phase::Running,
            _ => Phase::Pending,
        };
        let states: Vec<_> = pod
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
            .filter_map(|c| c.state.clone())
            .collect();
        let started = states
            .iter()
            .filter_map(|s| {
                s.running
                    .as_ref()
                    .and_then(|r| r.started_at.as_ref())
                    .or(s.terminated.as_ref().and_then(|t| t.started_at.as_ref()))
            })
            .map(ts)
            .min();
        let finished = if phase.is_final() {
            states.iter().filter_map(|s| s.terminated.as_ref().and_then(|t| t.finished_at.as_ref())).map(ts).max()
        } else {
            None
        };
        Some(PodSnapshot {
            identity,
            pod_name: pod.metadata.name.clone().unwrap_or_default(),
            phase,
            exit_code: o.exit_code,
            reason: o.reason,
            created: pod.metadata.creation_timestamp.as_ref().map(ts),
            started,
            finished,
            deleting: pod.metadata.deletion_timestamp.is_some(),
            containers: pod.spec.iter().flat_map(|s| s.containers.iter().map(|c| c.name.clone())).collect(),
        })
    }
}

/// One attempt of a branch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// 1, 2, … .
    pub number: u32,
    /// Its pod's name (empty until created).
    pub pod_name: String,
    /// Where it is.
    pub phase: Phase,
    /// Exit code, when finished.
    pub exit_code: Option<i32>,
    /// Why it failed (or could not launch).
    pub reason: Option<String>,
    /// Container start.
    pub started: Option<Timestamp>,
    /// Container end.
    pub finished: Option<Timestamp>,
    /// Being deleted.
    pub deleting: bool,
    /// Its pod's containers (whose logs make up the attempt's log).
    pub containers: Vec<String>,
}

impl Attempt {
    fn new(number: u32) -> Self {
        Attempt {
            number,
            pod_name: String::new(),
            phase: Phase::Pending,
            exit_code: None,
            reason: None,
            started: None,
            finished: None,
            deleting: false,
            containers: Vec::new(),
        }
    }

    /// How long it ran (or has been running, at `now`).
    pub fn duration(&self, now: Timestamp) -> Option<jiff::SignedDuration> {
        let start = self.started?;
        Some(self.finished.unwrap_or(now).duration_since(start))
    }
}

/// One lifecycle Job's part in a batch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Branch {
    /// The Job.
    pub job: JobRef,
    /// Its attempts by number (a list in JSON).
    #[serde(serialize_with = "values_as_list")]
    pub attempts: BTreeMap<u32, Attempt>,
    /// The last log line seen (sanitised text).
    pub last_line: Option<String>,
}

impl Branch {
    fn new(job: JobRef) -> Self {
        Branch { job, attempts: BTreeMap::new(), last_line: None }
    }

    /// The latest attempt (there is always one once the branch exists).
    pub fn current(&self) -> Option<&Attempt> {
        self.attempts.values().next_back()
    }

    /// The latest attempt's phase.
    pub fn phase(&self) -> Phase {
        self.current().map_or(Phase::Pending, |a| a.phase)
    }

    fn attempt_mut(&mut self, number: u32) -> &mut Attempt {
        self.attempts.entry(number).or_insert_with(|| Attempt::new(number))
    }
}

/// How many branches are where.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Not running yet.
    pub pending: usize,
    /// Running.
    pub running: usize,
    /// Exited 0.
    pub succeeded: usize,
    /// Failed.
    pub failed: usize,
    /// Cancelled.
    pub cancelled: usize,
}

impl Counts {
    /// All branches.
    pub fn total(&self) -> usize {
        self.pending + self.running + self.succeeded + self.failed + self.cancelled
    }

    /// Branches that are over.
    pub fn done(&self) -> usize {
        self.succeeded + self.failed + self.cancelled
    }
}

/// One tenant × one operation, fanned out over lifecycle Jobs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Batch {
    /// The batch id.
    pub id: String,
    /// Region.
    pub region: String,
    /// Tenant id.
    pub tenant_id: String,
    /// Tenant name.
    pub tenant_name: String,
    /// Operation.
    pub operation: String,
    /// The engine that made it (`None`: not labelled with one this tlc knows).
    pub engine: Option<Engine>,
    /// Earliest branch pod creation.
    pub started: Option<Timestamp>,
    /// The migration it is half of (from its pods' annotations), if any.
    pub migration: Option<MigrationLink>,
    /// Branches by Job (a list in JSON).
    #[serde(serialize_with = "values_as_list")]
    pub branches: BTreeMap<JobRef, Branch>,
}

/// Serialises a map's values as a JSON list (JSON object keys must be strings).
fn values_as_list<K, V: serde::Serialize, S: serde::Serializer>(map: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(map.values())
}

impl Batch {
    fn new(identity: &BranchIdentity) -> Self {
        Batch {
            id: identity.batch_id.clone(),
            region: identity.region.clone(),
            tenant_id: identity.tenant_id.clone(),
            tenant_name: identity.tenant_name.clone(),
            operation: identity.operation.clone(),
            engine: identity.engine,
            started: None,
            migration: identity.migration.clone(),
            branches: BTreeMap::new(),
        }
    }

    /// The engine's name as tables show it (`?`: not one this tlc knows).
    pub fn engine_name(&self) -> &'static str {
        self.engine.map_or("?", Engine::as_str)
    }

    /// Branch counts by phase (of each branch's latest attempt).
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for b in self.branches.values() {
            match b.phase() {
                Phase::Pending => c.pending += 1,
                Phase::Running => c.running += 1,
                Phase::Succeeded => c.succeeded += 1,
                Phase::Failed => c.failed += 1,
                Phase::Cancelled => c.cancelled += 1,
            }
        }
        c
    }

    /// Whether every branch is over.
    pub fn is_finished(&self) -> bool {
        !self.branches.is_empty() && self.branches.values().all(|b| b.phase().is_final())
    }

    /// The batch's overall phase: running until all are over, then failed if any failed,
    /// cancelled if any was cancelled, else succeeded.
    pub fn phase(&self) -> Phase {
        let c = self.counts();
        if !self.is_finished() {
            if c.running > 0 || c.done() > 0 { Phase::Running } else { Phase::Pending }
        } else if c.failed > 0 {
            Phase::Failed
        } else if c.cancelled > 0 {
            Phase::Cancelled
        } else {
            Phase::Succeeded
        }
    }

    /// The tenant as far as the batch knows it (from its labels), with the `environment.yaml` it ran with.
    pub fn tenant(&self, environment_yaml: String) -> crate::tenants::Tenant {
        crate::tenants::Tenant {
            id: self.tenant_id.clone(),
            name: self.tenant_name.clone(),
            display_name: None,
            region: self.region.clone(),
            plan: None,
            services: vec![],
            labels: Default::default(),
            environment_yaml,
            origin: format!("batch {}", self.id),
            problems: vec![],
        }
    }

    /// The Jobs whose latest attempt failed or was cancelled (what "retry failed" reruns).
    pub fn failed_jobs(&self) -> Vec<JobRef> {
        self.branches
            .values()
            .filter(|b| matches!(b.phase(), Phase::Failed | Phase::Cancelled))
            .map(|b| b.job.clone())
            .collect()
    }
}

/// What the model learns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunEvent {
    /// The engine is about to run this branch (so it shows before its pod exists).
    Planned(BranchIdentity),
    /// A branch pod was seen (created, updated, or listed).
    Pod(PodSnapshot),
    /// A branch pod is gone.
    PodGone(PodSnapshot),
    /// A branch could not be launched.
    LaunchFailed {
        /// Which branch and attempt.
        identity: BranchIdentity,
        /// Why.
        error: String,
    },
    /// A log line of a branch (already sanitised).
    LogLine {
        /// Batch.
        batch_id: String,
        /// Job.
        job: JobRef,
        /// The text.
        text: String,
    },
}

/// Every batch the console knows about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunState {
    /// Batches by id (UUIDv7 ids sort by start time).
    pub batches: BTreeMap<String, Batch>,
}

fn branch_of<'a>(state: &'a mut RunState, identity: &BranchIdentity) -> &'a mut Branch {
    let batch = state.batches.entry(identity.batch_id.clone()).or_insert_with(|| Batch::new(identity));
    if batch.tenant_name.is_empty() {
        batch.tenant_name = identity.tenant_name.clone();
    }
    if batch.migration.is_none() {
        batch.migration = identity.migration.clone();
    }
    let job = JobRef::new(&identity.job_namespace, &identity.job_name);
    batch.branches.entry(job.clone()).or_insert_with(|| Branch::new(job))
}

/// Applies one event to the state.
pub fn update(state: &mut RunState, event: RunEvent) {
    match event {
        RunEvent::Planned(identity) => {
            branch_of(state, &identity).attempt_mut(identity.attempt);
        }
        RunEvent::Pod(snapshot) => {
            if let Some(created) = snapshot.created {
                let batch = state
                    .batches
                    .entry(snapshot.identity.batch_id.clone())
                    .or_insert_with(|| Batch::new(&snapshot.identity));
                batch.started = Some(batch.started.map_or(created, |s| s.min(created)));
            }
            let attempt = branch_of(state, &snapshot.identity).attempt_mut(snapshot.identity.attempt);
            attempt.pod_name = snapshot.pod_name;
            if !snapshot.containers.is_empty() {
                attempt.containers = snapshot.containers;
            }
            // A final phase is never undone by a late, stale event.
            if !attempt.phase.is_final() || snapshot.phase.is_final() {
                attempt.phase = snapshot.phase;
                attempt.exit_code = snapshot.exit_code.or(attempt.exit_code);
                attempt.reason = snapshot.reason.or(attempt.reason.take());
            }
            attempt.started = snapshot.started.or(attempt.started);
            attempt.finished = snapshot.finished.or(attempt.finished);
            attempt.deleting = snapshot.deleting;
        }
        RunEvent::PodGone(snapshot) => {
            let attempt = branch_of(state, &snapshot.identity).attempt_mut(snapshot.identity.attempt);
            attempt.pod_name = snapshot.pod_name;
            if snapshot.phase.is_final() {
                attempt.phase = snapshot.phase;
                attempt.exit_code = snapshot.exit_code.or(attempt.exit_code);
                attempt.finished = snapshot.finished.or(attempt.finished);
            } else if !attempt.phase.is_final() {
                attempt.phase = Phase::Cancelled;
                attempt.reason = Some("the pod was deleted before it finished".into());
            }
            attempt.deleting = false;
        }
        RunEvent::LaunchFailed { identity, error } => {
            let attempt = branch_of(state, &identity).attempt_mut(identity.attempt);
            attempt.phase = Phase::Failed;
            attempt.reason = Some(error);
        }
        RunEvent::LogLine { batch_id, job, text } => {
            if let Some(branch) = state.batches.get_mut(&batch_id).and_then(|b| b.branches.get_mut(&job))
                && !text.trim().is_empty()
            {
                branch.last_line = Some(text);
            }
        }
    }
}

#[cfg(test)]
mod tests;
