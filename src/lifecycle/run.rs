//! The run model: batches (one tenant × one operation) and their branches (one per lifecycle Job,
//! with attempts), built by a pure [`update`] from events — pod snapshots from a watch or a list,
//! the engine's plan and launch failures, log lines. Nothing here does I/O; the same model backs
//! `tlc run`, `tlc runs`, `tlc logs` and the console, and re-attaching is just feeding it the pods
//! found by their labels.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use super::argo::{self, Shutdown, Stage, State, WorkflowPhase, WorkflowRun};
use super::bridge::outcome;
use crate::contract::labels::MigrationLink;
use crate::contract::{BranchIdentity, Engine, JobRef};

/// Where a branch (attempt) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
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
    /// Stopped by a cancel (its pod stopped and kept, or deleted before it finished).
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
            // Stopped by a cancel (see `lifecycle::stop`): kept, with its exit status.
            "Cancelled" => Phase::Cancelled,
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

/// The exit code of a process ended by SIGTERM (128 + 15): a bridge stopped with its Workflow.
pub const SIGTERM_EXIT: i32 = 143;

/// A branch as its Workflow node shows it (the Argo engine): the bridge step that runs it, with
/// Argo's attempts of the bridge (retries after infrastructure errors), not the branch's own.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BranchNode {
    /// The node's state.
    pub state: State,
    /// The bridge's exit code (the branch's, or 125 when the bridge failed itself).
    pub exit_code: Option<i32>,
    /// Argo's message.
    pub message: Option<String>,
    /// Start.
    pub started: Option<Timestamp>,
    /// End.
    pub finished: Option<Timestamp>,
    /// The bridge's attempts (their pods run `tlc bridge` in the workflow's namespace).
    pub attempts: Vec<argo::Attempt>,
    /// Its Workflow was stopped or terminated (a branch it ended is cancelled, not failed).
    pub stopped: bool,
}

impl BranchNode {
    /// The phase the node says, in the run model's terms. A node Argo skipped is cancelled; so is,
    /// in a stopped Workflow, one that never ran or whose bridge was stopped by SIGTERM (exit 143,
    /// or no exit code) — but not one that had failed on its own before the stop.
    pub fn phase(&self) -> Phase {
        match self.state.run_phase() {
            Some(Phase::Failed) if self.stopped && matches!(self.exit_code, None | Some(SIGTERM_EXIT)) => {
                Phase::Cancelled
            }
            Some(Phase::Pending) if self.stopped => Phase::Cancelled,
            Some(p) => p,
            None => Phase::Cancelled,
        }
    }

    /// The bridge pod of the latest attempt, when it has one.
    pub fn bridge_pod(&self) -> Option<&str> {
        self.attempts.last().and_then(|a| a.pod_name.as_deref())
    }
}

/// One lifecycle Job's part in a batch.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Branch {
    /// The Job.
    pub job: JobRef,
    /// Its attempts by number (a list in JSON): from its branch pods, or the engine's plan.
    pub attempts: Attempts,
    /// The last log line seen (sanitised text).
    pub last_line: Option<String>,
    /// Its Workflow node (the Argo engine; boxed: most branches have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<Box<BranchNode>>,
}

impl Branch {
    fn new(job: JobRef) -> Self {
        Branch { job, attempts: Attempts::default(), last_line: None, node: None }
    }

    /// A branch as a batch record keeps it: the attempt that decided it.
    pub fn from_record(job: JobRef, attempt: Attempt) -> Self {
        Branch { job, attempts: Attempts(vec![attempt]), last_line: None, node: None }
    }

    /// The latest attempt (there is always one once the branch exists).
    pub fn current(&self) -> Option<&Attempt> {
        self.attempts.latest()
    }

    /// The latest attempt's phase; a branch seen only through its Workflow node has the node's.
    /// The branch pod, when there is one, says what the team's container did: it wins.
    /// An attempt only planned (no pod seen yet: the Argo engine announces its branches before
    /// their bridges run) does not hide the node — a bridge that failed before making the pod
    /// leaves only the node to say so.
    pub fn phase(&self) -> Phase {
        match (self.current(), &self.node) {
            (Some(a), Some(node)) if a.pod_name.is_empty() && a.phase == Phase::Pending => node.phase(),
            (Some(a), _) => a.phase,
            (None, Some(node)) => node.phase(),
            (None, None) => Phase::Pending,
        }
    }

    /// The exit code that decides the branch: its latest attempt's, else its node's.
    pub fn exit_code(&self) -> Option<i32> {
        self.current().and_then(|a| a.exit_code).or_else(|| self.node.as_ref().and_then(|n| n.exit_code))
    }

    fn attempt_mut(&mut self, number: u32) -> &mut Attempt {
        self.attempts.get_or_insert(number)
    }
}

/// A branch's attempts, ordered by number. A list, not a map: a branch has one or two, and an
/// estate's console holds tens of thousands of branches (a B-tree's node costs eleven attempts'
/// room however few it holds).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Attempts(Vec<Attempt>);

impl Attempts {
    /// Every attempt, oldest first.
    pub fn values(&self) -> std::slice::Iter<'_, Attempt> {
        self.0.iter()
    }

    /// The attempt numbered `number`.
    pub fn get(&self, number: &u32) -> Option<&Attempt> {
        self.0.iter().find(|a| a.number == *number)
    }

    /// The latest attempt.
    pub fn latest(&self) -> Option<&Attempt> {
        self.0.last()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attempt numbered `number`, made (pending, in its place by number) when new.
    fn get_or_insert(&mut self, number: u32) -> &mut Attempt {
        let at = match self.0.binary_search_by_key(&number, |a| a.number) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, Attempt::new(number));
                at
            }
        };
        &mut self.0[at]
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
    /// Its Workflow, when the Argo engine runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<WorkflowInfo>,
    /// Known from its record only: its pods are gone (see `audit::record`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_record: bool,
}

/// A batch's Workflow as the run model keeps it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WorkflowInfo {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// Argo's phase of the Workflow.
    pub phase: WorkflowPhase,
    /// A stop or terminate someone asked for.
    pub shutdown: Option<Shutdown>,
    /// Suspended.
    pub suspended: bool,
    /// The Workflow's message.
    pub message: Option<String>,
    /// Start.
    pub started: Option<Timestamp>,
    /// End.
    pub finished: Option<Timestamp>,
    /// Where the batch is (discovering, discovery failed, nothing to run, fanned out, …).
    pub stage: Stage,
    /// The discovery step.
    pub discovery: Option<argo::Unit>,
    /// Why its status could not be read (an offloaded Workflow: only the Argo server has it).
    pub problem: Option<String>,
    /// The Argo Events Sensor that started it, when one did.
    pub sensor: Option<String>,
}

impl WorkflowInfo {
    /// A fanned-out Workflow, running (the tests' stand-in for one read from the cluster).
    #[cfg(test)]
    pub fn running(namespace: &str, name: &str) -> Self {
        WorkflowInfo {
            namespace: namespace.into(),
            name: name.into(),
            uid: "u".into(),
            phase: WorkflowPhase::Running,
            shutdown: None,
            suspended: false,
            message: None,
            started: None,
            finished: None,
            stage: Stage::FannedOut,
            discovery: None,
            problem: None,
            sensor: None,
        }
    }

    /// Whether the Workflow is over.
    pub fn is_final(&self) -> bool {
        self.phase.is_final()
    }

    /// What the batch has to say when its branches do not (or do not yet) say it: the stage.
    pub fn summary(&self) -> String {
        if let Some(p) = &self.problem {
            return p.clone();
        }
        let discovery_message =
            || self.discovery.as_ref().and_then(|d| d.message.clone()).unwrap_or_else(|| "see its log".into());
        match &self.stage {
            Stage::NotStarted => "waiting for the Argo controller".into(),
            Stage::Discovering => "discovering the lifecycle Jobs".into(),
            Stage::DiscoveryFailed => format!("discovery failed: {}", discovery_message()),
            Stage::AwaitingFanOut => "discovery done; the branches are starting".into(),
            Stage::NothingToRun { message } => format!("nothing to run: {message}"),
            Stage::FannedOut | Stage::NoFanOut => {
                self.message.clone().unwrap_or_else(|| self.phase.as_str().to_lowercase())
            }
        }
    }
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
            workflow: None,
            from_record: false,
        }
    }

    /// A batch as its record tells it, with the branches of its outcome.
    pub fn from_record(record: &crate::audit::record::BatchRecord, branches: BTreeMap<JobRef, Branch>) -> Self {
        Batch {
            id: record.batch_id.clone(),
            region: record.region.clone(),
            tenant_id: record.tenant_id.clone(),
            tenant_name: record.tenant_name.clone(),
            operation: record.operation.clone(),
            engine: record.engine,
            started: record.triggered(),
            migration: None,
            branches,
            workflow: None,
            from_record: true,
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

    /// Whether every branch is over (and, for the Argo engine, its Workflow too: discovery may
    /// not have listed every branch yet).
    pub fn is_finished(&self) -> bool {
        let branches_over = self.branches.values().all(|b| b.phase().is_final());
        match &self.workflow {
            Some(w) => w.is_final() && branches_over,
            None => !self.branches.is_empty() && branches_over,
        }
    }

    /// The batch's overall phase: running until all are over, then failed if any failed,
    /// cancelled if any was cancelled, else succeeded. A Workflow that ended without branches
    /// (discovery failed, nothing to run) has the Workflow's phase.
    pub fn phase(&self) -> Phase {
        let c = self.counts();
        if let Some(w) = &self.workflow
            && c.total() == 0
        {
            return match w.phase {
                WorkflowPhase::Pending | WorkflowPhase::Unknown => Phase::Pending,
                WorkflowPhase::Running => Phase::Running,
                WorkflowPhase::Succeeded => Phase::Succeeded,
                WorkflowPhase::Failed | WorkflowPhase::Error if w.shutdown.is_some() => Phase::Cancelled,
                WorkflowPhase::Failed | WorkflowPhase::Error => Phase::Failed,
            };
        }
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
    /// A Workflow of the Argo engine was seen (created, updated, or listed).
    Workflow(Box<WorkflowSeen>),
    /// A Workflow is gone (deleted, or its TTL ran out).
    WorkflowGone {
        /// Its UID.
        uid: String,
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

impl RunEvent {
    /// The batch a branch event is about (`None` for Workflow events, keyed by their Workflow).
    pub fn batch_id(&self) -> Option<&str> {
        match self {
            RunEvent::Planned(identity) | RunEvent::LaunchFailed { identity, .. } => Some(&identity.batch_id),
            RunEvent::Pod(s) | RunEvent::PodGone(s) => Some(&s.identity.batch_id),
            RunEvent::LogLine { batch_id, .. } => Some(batch_id),
            RunEvent::Workflow(_) | RunEvent::WorkflowGone { .. } => None,
        }
    }
}

/// A Workflow as a watch saw it: where, what its metadata says of the batch, and its status read
/// by `lifecycle::argo` (or why it could not be).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowSeen {
    /// The region whose cluster runs it.
    pub region: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// The tenant's name (tlc's annotation), when tlc submitted it.
    pub tenant_name: Option<String>,
    /// The migration it is half of (tlc's annotations).
    pub migration: Option<MigrationLink>,
    /// The Argo Events Sensor that created it (`events.argoproj.io/sensor`), when one did.
    pub sensor: Option<String>,
    /// Its status, or why it could not be read.
    pub run: Result<WorkflowRun, String>,
}

impl WorkflowSeen {
    /// Reads a Workflow object seen in `region`.
    pub fn read(region: &str, workflow: &kube::api::DynamicObject) -> Self {
        let meta = &workflow.metadata;
        let annotation = |k: &str| meta.annotations.as_ref().and_then(|a| a.get(k)).filter(|v| !v.is_empty()).cloned();
        let migration = match (
            annotation(crate::contract::labels::MIGRATION),
            annotation(crate::contract::labels::MIGRATION_TARGET),
        ) {
            (Some(id), Some(target)) => Some(MigrationLink { id, target }),
            _ => None,
        };
        WorkflowSeen {
            region: region.to_string(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone().unwrap_or_default(),
            tenant_name: annotation(crate::contract::labels::TENANT_NAME),
            migration,
            sensor: meta.labels.as_ref().and_then(|l| l.get("events.argoproj.io/sensor")).cloned(),
            run: WorkflowRun::from_dynamic(workflow).map_err(|e| e.to_string()),
        }
    }

    /// The batch it is: its id once known, else a stand-in named after the Workflow (a Workflow
    /// submitted without a batch id gets one from discovery, before any branch starts).
    fn batch_key(&self) -> String {
        match self.run.as_ref().ok().and_then(|r| r.batch_id.as_ref()) {
            Some(b) => b.id.clone(),
            None => format!("{STAND_IN_PREFIX}{}/{}", self.namespace, self.name),
        }
    }
}

/// How the key of a batch known only through its Workflow begins (`workflow:NAMESPACE/NAME`), until
/// its discovery names the batch.
const STAND_IN_PREFIX: &str = "workflow:";

/// Whether a batch key is a stand-in (a Workflow whose discovery has not named its batch yet).
pub fn is_stand_in(key: &str) -> bool {
    key.starts_with(STAND_IN_PREFIX)
}

/// Every batch the console knows about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunState {
    /// Batches by id (UUIDv7 ids sort by start time).
    pub batches: BTreeMap<String, Batch>,
    /// The batch each Workflow (by UID) is, so a Workflow whose batch id becomes known moves.
    workflows: BTreeMap<String, String>,
    /// Stand-in batch keys and the batch each became (what shows a stand-in follows it).
    moved: BTreeMap<String, String>,
    /// How many batches have been removed so far (an index of the batches rebuilds when it changes).
    removed: u64,
}

impl RunState {
    /// The batch a key names now: itself, or the batch a stand-in became.
    pub fn resolve<'a>(&'a self, id: &'a str) -> &'a str {
        self.moved.get(id).map_or(id, String::as_str)
    }

    /// The batch a Workflow (by UID) is, once seen.
    pub fn batch_of_workflow(&self, uid: &str) -> Option<&str> {
        self.workflows.get(uid).map(String::as_str)
    }

    /// How many batches have been removed so far: what an index of the batches checks to know
    /// that one it points at may be gone.
    pub fn removed(&self) -> u64 {
        self.removed
    }

    /// Shows a batch known from its record (`batch.from_record`), unless the cluster shows it (its
    /// pods or Workflow); a batch shown from its record before is replaced (the record changed: an
    /// outcome was written since). Returns whether it is shown from this record now.
    pub fn add_from_record(&mut self, batch: Batch) -> bool {
        match self.batches.get_mut(&batch.id) {
            Some(shown) if !shown.from_record => false,
            Some(shown) => {
                *shown = batch;
                true
            }
            None => {
                self.batches.insert(batch.id.clone(), batch);
                true
            }
        }
    }

    /// Forgets a batch shown from its record only, when its record is deleted (a batch the cluster
    /// still shows stays).
    pub fn forget_record(&mut self, batch_id: &str) {
        if self.batches.get(batch_id).is_some_and(|b| b.from_record) {
            self.batches.remove(batch_id);
            self.removed += 1;
        }
    }

    /// Removes a batch, counted.
    fn remove(&mut self, batch_id: &str) -> Option<Batch> {
        let batch = self.batches.remove(batch_id)?;
        self.removed += 1;
        Some(batch)
    }
}

/// Applies a Workflow to its batch: the batch's Workflow, and its branches' nodes.
fn apply_workflow(state: &mut RunState, seen: WorkflowSeen) {
    let key = seen.batch_key();
    if let Some(previous) = state.workflows.insert(seen.uid.clone(), key.clone())
        && previous != key
        && let Some(mut old) = state.remove(&previous)
    {
        // The stand-in becomes the batch (its pods may already have made it: theirs is merged in).
        state.moved.insert(previous.clone(), key.clone());
        old.id = key.clone();
        let batch = state.batches.entry(key.clone()).or_insert(old.clone());
        for (job, branch) in old.branches {
            batch.branches.entry(job).or_insert(branch);
        }
    }
    let run = seen.run.as_ref().ok();
    let params = run.map(|r| r.parameters.clone()).unwrap_or_default();
    let tenant = params.tenant.clone().unwrap_or_default();
    let tenant_is_id = uuid::Uuid::parse_str(&tenant).is_ok();
    let batch = state.batches.entry(key.clone()).or_insert_with(|| Batch {
        id: key.clone(),
        region: seen.region.clone(),
        tenant_id: if tenant_is_id { tenant.clone() } else { String::new() },
        tenant_name: seen
            .tenant_name
            .clone()
            .unwrap_or_else(|| if tenant_is_id { String::new() } else { tenant.clone() }),
        operation: params.operation.clone().unwrap_or_default(),
        engine: Some(Engine::Argo),
        started: None,
        migration: seen.migration.clone(),
        branches: BTreeMap::new(),
        workflow: None,
        from_record: false,
    });
    if batch.tenant_name.is_empty() {
        batch.tenant_name =
            seen.tenant_name.clone().unwrap_or_else(|| if tenant_is_id { String::new() } else { tenant });
    }
    if batch.operation.is_empty() {
        batch.operation = params.operation.unwrap_or_default();
    }
    if batch.migration.is_none() {
        batch.migration = seen.migration.clone();
    }
    batch.engine = Some(Engine::Argo);
    match &seen.run {
        Ok(run) => {
            if let Some(started) = run.started {
                batch.started = Some(batch.started.map_or(started, |s| s.min(started)));
            }
            batch.workflow = Some(WorkflowInfo {
                namespace: seen.namespace.clone(),
                name: seen.name.clone(),
                uid: seen.uid.clone(),
                phase: run.phase,
                shutdown: run.shutdown,
                suspended: run.suspended,
                message: run.message.clone(),
                started: run.started,
                finished: run.finished,
                stage: run.stage.clone(),
                discovery: run.discovery.as_ref().map(|d| d.unit.clone()),
                problem: None,
                sensor: seen.sensor.clone(),
            });
            for b in &run.branches {
                let Some(job) = &b.job else { continue };
                let branch = batch.branches.entry(job.clone()).or_insert_with(|| Branch::new(job.clone()));
                branch.node = Some(Box::new(match &b.unit {
                    Some(u) => BranchNode {
                        state: u.state,
                        exit_code: u.exit_code,
                        message: u.message.clone(),
                        started: u.started,
                        finished: u.finished,
                        attempts: u.attempts.clone(),
                        stopped: run.shutdown.is_some(),
                    },
                    None => BranchNode {
                        state: State::Pending,
                        exit_code: None,
                        message: None,
                        started: None,
                        finished: None,
                        attempts: Vec::new(),
                        stopped: run.shutdown.is_some(),
                    },
                }));
            }
        }
        Err(problem) => {
            let info = batch.workflow.get_or_insert_with(|| WorkflowInfo {
                namespace: seen.namespace.clone(),
                name: seen.name.clone(),
                uid: seen.uid.clone(),
                phase: WorkflowPhase::Unknown,
                shutdown: None,
                suspended: false,
                message: None,
                started: None,
                finished: None,
                stage: Stage::NotStarted,
                discovery: None,
                problem: None,
                sensor: seen.sensor.clone(),
            });
            info.problem = Some(problem.clone());
        }
    }
}

fn branch_of<'a>(state: &'a mut RunState, identity: &BranchIdentity) -> &'a mut Branch {
    let batch = state.batches.entry(identity.batch_id.clone()).or_insert_with(|| Batch::new(identity));
    if batch.tenant_id.is_empty() {
        batch.tenant_id = identity.tenant_id.clone();
    }
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
            if let Some(b) = state.batches.get_mut(&snapshot.identity.batch_id) {
                b.from_record = false;
            }
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
        RunEvent::Workflow(seen) => apply_workflow(state, *seen),
        RunEvent::WorkflowGone { uid } => {
            let Some(key) = state.workflows.remove(&uid) else { return };
            let Some(batch) = state.batches.get_mut(&key) else { return };
            batch.workflow = None;
            for branch in batch.branches.values_mut() {
                branch.node = None;
            }
            // Nothing else shows it (no branch pod): it is gone with its Workflow.
            batch.branches.retain(|_, b| !b.attempts.is_empty());
            if batch.branches.is_empty() {
                state.remove(&key);
            }
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
