//! Following batches live, for `tlc run` and `tlc logs`: label watches feed the run model, every
//! branch's containers are streamed through the multiplexer, and the printer shows their lines and
//! every start and end. It returns when every branch has finished and every stream has ended (or,
//! without `follow`, once every stream has delivered what there was).

use std::collections::{BTreeMap, HashMap, HashSet};

use tokio::sync::mpsc;

use super::printer::{Printer, human};
use crate::contract::JobRef;
use crate::contract::labels::BATCH_ID;
use crate::lifecycle::regions::Regions;
use crate::lifecycle::run::{Phase, PodSnapshot, RunEvent, RunState, is_stand_in, update};
use crate::lifecycle::watch::{WorkflowsWanted, forward_branches, forward_workflows};
use crate::logs::follow::Source;
use crate::logs::mux::{Mux, MuxEvent, Priority, StreamKey, Want};

/// How to follow.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Follow until every branch has finished (else print what there is and stop).
    pub follow: bool,
    /// Print log lines.
    pub lines: bool,
    /// Print status lines (a branch started, ended).
    pub status: bool,
    /// Colours on.
    pub colour: bool,
    /// Prefix lines with the tenant (several tenants).
    pub with_tenant: bool,
    /// Prefix lines with the kubelet's timestamps.
    pub timestamps: bool,
    /// Only these branches (empty: all).
    pub branches: Vec<JobRef>,
    /// Concurrent log streams at most.
    pub stream_limit: usize,
    /// Log lines as newline-delimited JSON.
    pub json: bool,
    /// Also follow the batches' Workflows in this namespace (the Argo engine's).
    pub argo_namespace: Option<String>,
}

/// Progress of the live view, for the caller's exit decision.
pub struct Live {
    /// The model as last seen.
    pub state: RunState,
    /// Streams that ended with an error (their logs may be incomplete).
    pub stream_errors: Vec<String>,
    /// The operator pressed Ctrl-C: the batches go on in the cluster without us.
    pub detached: bool,
}

struct Follower<'a> {
    regions: &'a Regions,
    options: &'a LiveOptions,
    mux: Mux,
    printer: Printer,
    wanted: HashSet<StreamKey>,
    /// Containers streamed per (batch, job, attempt): a prefix names the container when several.
    containers: HashMap<(String, JobRef, u32), usize>,
    ended: HashSet<StreamKey>,
    last_phase: HashMap<(String, JobRef, u32), Phase>,
    /// Final status lines waiting for their branch's log streams to end (so they come last).
    deferred: HashMap<(String, JobRef, u32), (String, String)>,
    stream_errors: Vec<String>,
}

/// A pod whose containers' logs to follow: a branch pod in its team's namespace, or a bridge pod
/// in the Workflow's.
#[derive(Clone, Copy)]
struct Pod<'a> {
    namespace: &'a str,
    name: &'a str,
    containers: &'a [String],
}

impl Follower<'_> {
    fn selected(&self, job: &JobRef) -> bool {
        self.options.branches.is_empty() || self.options.branches.contains(job)
    }

    fn on_pod(&mut self, state: &RunState, snap: &PodSnapshot) {
        let id = &snap.identity;
        let job = JobRef::new(&id.job_namespace, &id.job_name);
        let pod = Pod { namespace: &job.namespace, name: &snap.pod_name, containers: &snap.containers };
        self.want_logs(&id.region, &id.batch_id, &job, id.attempt, pod, snap.phase);
        self.status(state, &id.batch_id, &job, id.attempt);
    }

    /// A branch of an Argo batch that ended without a branch pod (its bridge failed before making
    /// one) has only its node: its outcome and its bridge pod's `main` log stand in for the
    /// branch's, as attempt 0 (the console does the same). A branch with a pod is left to it.
    fn on_workflow(&mut self, state: &RunState, batch_id: &str) {
        let Some(batch) = state.batches.get(batch_id) else { return };
        let Some(workflow) = &batch.workflow else { return };
        for (job, branch) in &batch.branches {
            let Some(node) = &branch.node else { continue };
            if !self.selected(job) || !node.state.is_final() || branch.attempts.values().any(|a| !a.pod_name.is_empty())
            {
                continue;
            }
            let key = (batch_id.to_string(), job.clone(), 0);
            if self.last_phase.insert(key, node.phase()) == Some(node.phase()) {
                continue;
            }
            if let Some(bridge) = node.bridge_pod() {
                let containers = ["main".to_string()];
                let pod = Pod { namespace: &workflow.namespace, name: bridge, containers: &containers };
                self.want_logs(&batch.region, batch_id, job, 0, pod, node.phase());
            }
            self.printer.fit(&Printer::prefix(&batch.tenant_name, job, self.options.with_tenant));
            let bridge = node.bridge_pod().map(|p| format!("; its bridge was {}/{p}", workflow.namespace));
            // Argo's `main: Error (exit code N)` says no more than the exit code does.
            let said = node
                .message
                .as_deref()
                .filter(|m| !m.ends_with(&format!("(exit code {})", node.exit_code.unwrap_or(-1))))
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            let text = match node.phase() {
                Phase::Failed => match node.exit_code {
                    Some(code) => {
                        format!("failed before its branch pod, exit code {code}{said}{}", bridge.unwrap_or_default())
                    }
                    None => format!("failed before its branch pod{said}{}", bridge.unwrap_or_default()),
                },
                Phase::Cancelled => format!("cancelled before its branch pod{said}"),
                Phase::Succeeded => format!("succeeded without a branch pod{said}"),
                Phase::Pending | Phase::Running => continue,
            };
            self.emit(batch_id, job, 0, &batch.tenant_name, true, text);
        }
    }

    /// Asks the multiplexer for the logs of one attempt's containers (once each).
    #[allow(clippy::too_many_arguments)]
    fn want_logs(&mut self, region: &str, batch_id: &str, job: &JobRef, attempt: u32, pod: Pod<'_>, phase: Phase) {
        if !self.options.lines || !self.selected(job) || pod.name.is_empty() {
            return;
        }
        let Some(region) = self.regions.get(region).or_else(|| self.regions.iter().next()) else { return };
        for container in pod.containers {
            let key =
                StreamKey { batch_id: batch_id.to_string(), job: job.clone(), attempt, container: container.clone() };
            if self.wanted.insert(key.clone()) {
                *self.containers.entry((batch_id.to_string(), job.clone(), attempt)).or_default() += 1;
                self.mux.want(Want {
                    key,
                    source: Source {
                        region: region.name.clone(),
                        namespace: pod.namespace.to_string(),
                        pod: pod.name.to_string(),
                        container: container.clone(),
                    },
                    client: region.client.clone(),
                    live: self.options.follow,
                    priority: Priority::of(phase),
                });
            }
        }
    }

    fn status(&mut self, state: &RunState, batch_id: &str, job: &JobRef, attempt: u32) {
        if !self.selected(job) {
            return;
        }
        let Some(batch) = state.batches.get(batch_id) else { return };
        self.printer.fit(&Printer::prefix(&batch.tenant_name, job, self.options.with_tenant));
        let Some(a) = batch.branches.get(job).and_then(|b| b.attempts.get(&attempt)) else { return };
        let key = (batch_id.to_string(), job.clone(), attempt);
        let before = self.last_phase.insert(key, a.phase);
        if before == Some(a.phase) {
            return;
        }
        let retry = if attempt > 1 { format!(" (attempt {attempt})") } else { String::new() };
        let took = a.duration(jiff::Timestamp::now()).map(|d| format!(" after {}", human(d))).unwrap_or_default();
        if !self.options.status {
            return;
        }
        let text = match a.phase {
            // Waiting branches make no noise; their prefix is already measured above.
            Phase::Pending => return,
            Phase::Running => format!("running{retry}"),
            Phase::Succeeded => format!("succeeded{took}{retry}"),
            Phase::Failed => match (a.exit_code, &a.reason) {
                (Some(code), Some(r)) => format!("failed with exit code {code} ({r}){took}{retry}"),
                (Some(code), None) => format!("failed with exit code {code}{took}{retry}"),
                (None, Some(r)) => format!("failed: {r}{retry}"),
                (None, None) => format!("failed{retry}"),
            },
            Phase::Cancelled => format!("cancelled{took}{retry}"),
        };
        let tenant = batch.tenant_name.clone();
        self.emit(batch_id, job, attempt, &tenant, a.phase.is_final(), text);
    }

    /// Prints a status line, or keeps a final one until its attempt's log streams have ended (so
    /// it comes after the branch's last line).
    fn emit(&mut self, batch_id: &str, job: &JobRef, attempt: u32, tenant: &str, last: bool, text: String) {
        let streaming = self
            .wanted
            .iter()
            .any(|k| k.batch_id == batch_id && &k.job == job && k.attempt == attempt && !self.ended.contains(k));
        if last && streaming {
            self.deferred.insert((batch_id.to_string(), job.clone(), attempt), (tenant.to_string(), text));
        } else {
            self.printer.status(tenant, job, &text);
        }
    }

    /// A stream ended: print its branch's final status if that was waiting for it.
    fn stream_ended(&mut self, key: StreamKey) {
        self.ended.insert(key.clone());
        let branch = (key.batch_id.clone(), key.job.clone(), key.attempt);
        let open = self.wanted.iter().any(|k| {
            k.batch_id == key.batch_id && k.job == key.job && k.attempt == key.attempt && !self.ended.contains(k)
        });
        if !open && let Some((tenant, text)) = self.deferred.remove(&branch) {
            self.printer.status(&tenant, &key.job, &text);
        }
    }

    fn done(&self, state: &RunState, batch_ids: &[String], engine_done: bool) -> bool {
        let streams_done = self.wanted.iter().all(|k| self.ended.contains(k));
        if !self.options.follow {
            return streams_done;
        }
        let branches_done = batch_ids.iter().all(|id| {
            state.batches.get(id).is_some_and(|b| {
                b.workflow.as_ref().is_none_or(|w| w.is_final())
                    && b.branches.iter().filter(|(j, _)| self.selected(j)).all(|(_, br)| br.phase().is_final())
            })
        });
        engine_done && branches_done && streams_done
    }
}

/// Follows `batch_ids` (in their regions) from `initial`, printing as it goes. `engine` is the
/// engine's event stream while it still launches branches (its end counts as "engine done").
/// Ctrl-C detaches — at once when every branch is launched; while some are not (they would never
/// run with the direct engine), only on a second Ctrl-C.
pub async fn follow_batches(
    regions: &Regions,
    batch_ids: &[(String, String)],
    initial: RunState,
    mut engine: Option<mpsc::UnboundedReceiver<RunEvent>>,
    options: LiveOptions,
) -> Live {
    let (mux, mut merged) = Mux::start(options.stream_limit);
    let mut follower = Follower {
        regions,
        options: &options,
        mux: mux.clone(),
        printer: {
            let p = Printer::new(options.colour, options.with_tenant, options.timestamps, &[]);
            if options.json { p.json() } else { p }
        },
        wanted: HashSet::new(),
        containers: HashMap::new(),
        ended: HashSet::new(),
        last_phase: HashMap::new(),
        deferred: HashMap::new(),
        stream_errors: Vec::new(),
    };
    let mut ids: Vec<String> = batch_ids.iter().map(|(_, id)| id.clone()).collect();
    // Start from what is already known (re-attach), streaming the latest attempt of each branch.
    let state = initial;
    for batch in state.batches.values() {
        for branch in batch.branches.values() {
            if let Some(a) = branch.current().filter(|_| follower.selected(&branch.job)) {
                let pod = Pod { namespace: &branch.job.namespace, name: &a.pod_name, containers: &a.containers };
                follower.want_logs(&batch.region, &batch.id, &branch.job, a.number, pod, a.phase);
                follower.last_phase.insert((batch.id.clone(), branch.job.clone(), a.number), a.phase);
                follower.printer.fit(&Printer::prefix(&batch.tenant_name, &branch.job, options.with_tenant));
            }
        }
    }
    let keys: Vec<String> = state.batches.keys().cloned().collect();
    for key in &keys {
        follower.on_workflow(&state, key);
    }
    let mut state = state;
    let (tx, mut watched) = mpsc::unbounded_channel();
    let mut by_region: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (region, id) in batch_ids {
        by_region.entry(region.clone()).or_default().push(id.clone());
    }
    let mut watchers = Vec::new();
    let watch_branches = |region: &str, ids: &[String], watchers: &mut Vec<tokio::task::JoinHandle<()>>| {
        if let Some(r) = regions.get(region)
            && !ids.is_empty()
        {
            let selector = format!("{BATCH_ID} in ({})", ids.join(","));
            watchers.push(tokio::spawn(forward_branches(r.client.clone(), Some(selector), r.url.clone(), tx.clone())));
        }
    };
    for (region, keys) in &by_region {
        let Some(r) = regions.get(region) else { continue };
        // A batch still in its Workflow's discovery has a stand-in key, not yet an id to select
        // its branch pods by: their watch starts when discovery names it (below).
        let labelled: Vec<String> = keys.iter().filter(|k| !is_stand_in(k)).cloned().collect();
        watch_branches(region, &labelled, &mut watchers);
        let Some(namespace) = &options.argo_namespace else { continue };
        // A known Workflow is followed by name (one a Sensor made has no batch label); the others
        // by the label tlc's engine gives the Workflows it submits.
        let mut wanted: Vec<WorkflowsWanted> = keys
            .iter()
            .filter_map(|k| state.batches.get(k)?.workflow.as_ref())
            .map(|w| WorkflowsWanted::Named(w.name.clone()))
            .collect();
        let unnamed: Vec<&String> =
            labelled.iter().filter(|k| state.batches.get(*k).is_none_or(|b| b.workflow.is_none())).collect();
        if !unnamed.is_empty() {
            let joined: Vec<&str> = unnamed.iter().map(|k| k.as_str()).collect();
            wanted.push(WorkflowsWanted::Labelled(format!("{BATCH_ID} in ({})", joined.join(","))));
        }
        for which in wanted {
            watchers.push(tokio::spawn(forward_workflows(
                r.client.clone(),
                r.name.clone(),
                namespace.clone(),
                which,
                r.url.clone(),
                tx.clone(),
            )));
        }
    }
    let mut engine_done = engine.is_none();
    let mut interrupts = 0;
    let mut detached = false;
    loop {
        if follower.done(&state, &ids, engine_done) {
            break;
        }
        tokio::select! {
            ev = async { match engine.as_mut() { Some(e) => e.recv().await, None => std::future::pending().await } } => match ev {
                Some(ev) => {
                    let identity = match &ev {
                        RunEvent::Planned(i) | RunEvent::LaunchFailed { identity: i, .. } => Some(i.clone()),
                        _ => None,
                    };
                    update(&mut state, ev);
                    if let Some(i) = identity {
                        follower.status(&state, &i.batch_id, &JobRef::new(&i.job_namespace, &i.job_name), i.attempt);
                    }
                }
                None => {
                    engine = None;
                    engine_done = true;
                }
            },
            ev = watched.recv() => match ev {
                Some(RunEvent::Pod(snap)) => {
                    update(&mut state, RunEvent::Pod(snap.clone()));
                    follower.on_pod(&state, &snap);
                }
                Some(RunEvent::PodGone(snap)) => {
                    update(&mut state, RunEvent::PodGone(snap.clone()));
                    let id = &snap.identity;
                    follower.status(&state, &id.batch_id, &JobRef::new(&id.job_namespace, &id.job_name), id.attempt);
                }
                Some(RunEvent::Workflow(seen)) => {
                    let uid = seen.uid.clone();
                    update(&mut state, RunEvent::Workflow(seen));
                    if let Some(key) = state.batch_of_workflow(&uid).map(str::to_string) {
                        // Discovery named a batch followed by its stand-in key: follow it by its id.
                        for id in ids.iter_mut().filter(|id| is_stand_in(id) && state.resolve(id) == key) {
                            id.clone_from(&key);
                            let region = state.batches.get(&key).map(|b| b.region.clone()).unwrap_or_default();
                            watch_branches(&region, std::slice::from_ref(&key), &mut watchers);
                        }
                        follower.on_workflow(&state, &key);
                    }
                }
                Some(other) => update(&mut state, other),
                None => {
                    // Every watch ended (cannot happen while they retry); stop waiting on them.
                    if !engine_done {
                        continue;
                    }
                    break;
                }
            },
            m = merged.recv() => match m {
                Some(MuxEvent::Lines { key, lines }) => {
                    let tenant = state.batches.get(&key.batch_id).map(|b| b.tenant_name.clone()).unwrap_or_default();
                    if let Some((_, last)) = lines.last() {
                        update(&mut state, RunEvent::LogLine { batch_id: key.batch_id.clone(), job: key.job.clone(), text: last.plain() });
                    }
                    // Name the container only when the branch has several.
                    let several = follower.containers.get(&(key.batch_id.clone(), key.job.clone(), key.attempt)).is_some_and(|n| *n > 1);
                    let container = several.then_some(key.container.as_str());
                    for (ts, line) in &lines {
                        if follower.printer.is_json() {
                            follower.printer.json_line(&key.batch_id, &key.job, &key.container, *ts, line);
                        } else {
                            follower.printer.line(&tenant, &key.job, container, *ts, line);
                        }
                    }
                    follower.printer.flush();
                }
                Some(MuxEvent::Ended { key, result }) => {
                    if let Err(e) = &result {
                        follower.stream_errors.push(format!("{} {}: {e}", key.job, key.container));
                    }
                    follower.stream_ended(key);
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                interrupts += 1;
                let unlaunched: usize = ids
                    .iter()
                    .filter_map(|id| state.batches.get(id))
                    .flat_map(|b| b.branches.values())
                    .filter(|br| br.current().is_some_and(|a| a.pod_name.is_empty() && !a.phase.is_final()))
                    .count();
                if engine_done || unlaunched == 0 || interrupts >= 2 {
                    detached = true;
                    break;
                }
                eprintln!("tlc: {unlaunched} branches are not launched yet and will not run if you detach now; press Ctrl-C again to detach anyway");
            }
        }
    }
    mux.stop();
    for w in watchers {
        w.abort();
    }
    Live { state, stream_errors: follower.stream_errors, detached }
}
