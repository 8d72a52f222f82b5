//! Retention: finished branch pods (and the ConfigMaps they own) are removed after an age and/or
//! beyond the last N batches per tenant and operation; batch records are kept longer, by their own
//! age. Nothing that has not ended is ever touched: a batch is removed only when every attempt of
//! every branch (and its Workflow, on the Argo engine) has ended, its outcome is in its record
//! first, and the deletion itself only takes pods that have ended (a field selector), so a retry
//! started between the preview and the removal is safe. Pods go by label-selected
//! `deletecollection` per namespace, never a GET and a DELETE per pod.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams};

use super::error::{Error, Result, kube_error};
use super::run::{Batch, RunState};
use super::watch::list_batches;
use crate::audit::record::{self, BatchRecord};
use crate::contract::labels::BATCH_ID;

/// Batch ids per `deletecollection` (its label selector's `in (…)` set; keeps URLs short).
pub const IDS_PER_REQUEST: usize = 100;

/// Reads an age: `90m`, `24h`, `7d` (also `s`).
pub fn parse_age(text: &str) -> std::result::Result<SignedDuration, String> {
    let bad = || format!("{text:?} is not an age: expected a number and a unit, e.g. 90m, 24h, 7d");
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(bad()),
    };
    Ok(SignedDuration::from_secs(seconds))
}

/// What to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// Remove finished batches' pods that ended longer ago than this.
    pub older_than: Option<SignedDuration>,
    /// Keep the pods of the last N batches per tenant and operation whatever their age.
    pub keep_last: Option<usize>,
    /// Remove records (of batches without pods) triggered longer ago than this.
    pub records_older_than: Option<SignedDuration>,
}

impl Retention {
    /// The same rules with a region's overrides applied: `older_than=3d, keep_last=5,
    /// records_older_than=90d` (any of them; `""`/`0` turns one off).
    pub fn with_overrides(&self, overrides: &str) -> std::result::Result<Retention, String> {
        let mut r = self.clone();
        for part in overrides.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("{part:?} is not KEY=VALUE"))?;
            let (key, value) = (key.trim(), value.trim().trim_matches('"'));
            let age = |v: &str| if v.is_empty() { Ok(None) } else { parse_age(v).map(Some) };
            match key {
                "older_than" => r.older_than = age(value)?,
                "records_older_than" => r.records_older_than = age(value)?,
                "keep_last" => {
                    let n: usize = value.parse().map_err(|_| format!("keep_last={value:?} is not a whole number"))?;
                    r.keep_last = (n > 0).then_some(n);
                }
                other => {
                    return Err(format!("unknown rule {other:?} (older_than, keep_last, records_older_than)"));
                }
            }
        }
        Ok(r)
    }

    /// Whether any rule is set (without one, nothing is ever removed).
    pub fn is_set(&self) -> bool {
        self.older_than.is_some() || self.keep_last.is_some() || self.records_older_than.is_some()
    }

    /// The rules in words.
    pub fn describe(&self) -> String {
        let mut said = Vec::new();
        if let Some(age) = self.older_than {
            said.push(format!("branch pods of batches ended over {} ago", words(age)));
        }
        if let Some(n) = self.keep_last {
            said.push(format!("keeping the last {n} per tenant and operation"));
        }
        if let Some(age) = self.records_older_than {
            said.push(format!("records over {} old", words(age)));
        }
        said.join(", ")
    }
}

/// `n` and its noun, singular or plural: `1 batch`, `2 batches`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn words(age: SignedDuration) -> String {
    let s = age.as_secs();
    if s == 0 {
        "0s".into()
    } else if s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else {
        format!("{}m", s / 60)
    }
}

/// A batch whose branch pods go.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Doomed {
    /// The batch.
    pub batch_id: String,
    /// Its tenant's name.
    pub tenant: String,
    /// Its operation.
    pub operation: String,
    /// When it ended (its last branch's end, else its start).
    pub ended: Option<Timestamp>,
    /// Its pods, `namespace/name`.
    pub pods: Vec<String>,
    /// What its record needs before its pods go.
    #[serde(skip)]
    pub record: RecordState,
}

/// A doomed batch's record, as the preview found it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordState {
    /// It has its outcome: nothing to write.
    #[default]
    Complete,
    /// It exists without an outcome: written into it first.
    NoOutcome,
    /// There is none: made, with the outcome, first.
    Missing,
}

/// What `tlc gc` would remove in one region.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GcPlan {
    /// The region.
    pub region: String,
    /// Batches whose pods go, oldest first.
    pub batches: Vec<Doomed>,
    /// Finished batches kept (too recent, or among the last N).
    pub kept: usize,
    /// Batches not ended (never touched).
    pub running: usize,
    /// Records that go (`namespace/name`): batches without pods, older than the records' age.
    pub records: Vec<String>,
    /// API requests the preview made.
    pub requests: usize,
    /// The full batches (to write outcomes from), by id.
    #[serde(skip)]
    pub ended: BTreeMap<String, Batch>,
}

impl GcPlan {
    /// How many pods go.
    pub fn pods(&self) -> usize {
        self.batches.iter().map(|b| b.pods.len()).sum()
    }

    /// The plan in a sentence, as `tlc gc` and the console's `:gc` say it.
    pub fn summary(&self) -> String {
        format!(
            "{}: the branch pods of {} go ({}; the ConfigMaps they own go with them), {} go; {} kept, {} not ended (never touched)",
            self.region,
            count(self.batches.len(), "batch", "batches"),
            count(self.pods(), "pod", "pods"),
            count(self.records.len(), "record", "records"),
            count(self.kept, "finished batch", "finished batches"),
            self.running
        )
    }
}

/// The previews of several regions, each under its own rules, with the time they took.
#[derive(Clone, Debug, Default)]
pub struct Previews {
    /// One plan per region.
    pub plans: Vec<GcPlan>,
    /// Each region's rules in words (`eu-west: branch pods of batches ended over 7d ago`).
    pub rules: Vec<String>,
    /// How long the previews took.
    pub took: std::time::Duration,
}

impl Previews {
    /// Pods that go, in every region.
    pub fn pods(&self) -> usize {
        self.plans.iter().map(GcPlan::pods).sum()
    }

    /// Records that go, in every region.
    pub fn records(&self) -> usize {
        self.plans.iter().map(|p| p.records.len()).sum()
    }

    /// API requests the previews made.
    pub fn requests(&self) -> usize {
        self.plans.iter().map(|p| p.requests).sum()
    }
}

/// Previews the regions `names` of `regions`, each under `config`'s rules for it as `rules` turns
/// them (`tlc gc`'s flags over them; the console's `:gc` takes them as they are).
pub async fn preview_regions(
    config: &crate::config::Config,
    regions: &super::regions::Regions,
    names: &[String],
    rules: impl Fn(&Retention) -> Result<Retention>,
    now: Timestamp,
) -> Result<Previews> {
    let started = std::time::Instant::now();
    let (namespace, argo_namespace) = (&config.run.records_namespace, &config.run.argo_namespace);
    let mut previews = Previews::default();
    for name in names {
        let region = regions.require(name)?;
        let retention = rules(config.retention_for(name))?;
        previews.plans.push(preview(&region.client, name, namespace, argo_namespace, &retention, now).await?);
        previews.rules.push(format!("{name}: {}", retention.describe()));
    }
    previews.took = started.elapsed();
    Ok(previews)
}

/// Carries out every plan of `previews`, region by region (as `who` in each), and sums up what
/// was removed.
pub async fn remove_all(
    config: &crate::config::Config,
    regions: &super::regions::Regions,
    plans: &[GcPlan],
) -> Result<(Removed, std::time::Duration)> {
    let started = std::time::Instant::now();
    let mut total = Removed::default();
    for plan in plans {
        let region = regions.require(&plan.region)?;
        let who = crate::audit::actor(&region.context);
        let removed = remove(&region.client, plan, &config.run.records_namespace, &who).await?;
        total.batches += removed.batches;
        total.pods += removed.pods;
        total.records += removed.records;
        for (what, n) in removed.requests {
            *total.requests.entry(what).or_default() += n;
        }
    }
    Ok((total, started.elapsed()))
}

fn ended_at(b: &Batch) -> Option<Timestamp> {
    b.branches.values().flat_map(|br| br.attempts.values()).filter_map(|a| a.finished.or(a.started)).max().or(b.started)
}

/// How long a batch whose record names Jobs that have no branch pod yet is taken to be still
/// launching them (the direct engine starts a few at a time) after its newest pod was made; past
/// it, whoever launched it is taken to have stopped (a closed laptop) and its pods decide.
pub const LAUNCH_GRACE: SignedDuration = SignedDuration::from_hours(1);

/// Whether every attempt of every branch (and its Workflow) has ended, and no Job its record names
/// is still to be launched.
fn all_ended(b: &Batch, record: Option<&BatchRecord>, now: Timestamp) -> bool {
    let attempts_ended = b.branches.values().all(|br| br.attempts.values().all(|a| a.phase.is_final()));
    let workflow_ended = b.workflow.as_ref().is_none_or(|w| w.phase.is_final());
    let launching = record.and_then(|r| r.actions.first()).is_some_and(|trigger| {
        let launched: BTreeSet<String> = b.branches.keys().map(ToString::to_string).collect();
        let newest_pod = b.branches.values().flat_map(|br| br.attempts.values()).filter_map(|a| a.started).max();
        trigger.jobs.iter().any(|job| !launched.contains(job))
            && newest_pod.or(b.started).is_none_or(|t| now.duration_since(t) < LAUNCH_GRACE)
    });
    attempts_ended && workflow_ended && !launching
}

/// Decides, from what the cluster holds, which batches' pods and which records go.
pub fn decide(
    region: &str,
    state: &RunState,
    records: &[BatchRecord],
    records_namespace: &str,
    retention: &Retention,
    now: Timestamp,
) -> GcPlan {
    let mut plan = GcPlan { region: region.to_string(), ..Default::default() };
    let by_batch: BTreeMap<&str, &BatchRecord> = records.iter().map(|r| (r.batch_id.as_str(), r)).collect();
    let mut groups: BTreeMap<(String, String), Vec<&Batch>> = BTreeMap::new();
    for b in state.batches.values().filter(|b| !b.from_record) {
        if all_ended(b, by_batch.get(b.id.as_str()).copied(), now) {
            groups.entry((b.tenant_id.clone(), b.operation.clone())).or_default().push(b);
        } else {
            plan.running += 1;
        }
    }
    let pods_only = retention.older_than.is_some() || retention.keep_last.is_some();
    for batches in groups.values_mut() {
        batches.sort_by_key(|b| std::cmp::Reverse(b.started.or_else(|| ended_at(b))));
        for (i, b) in batches.iter().enumerate() {
            let kept_as_recent = retention.keep_last.is_some_and(|n| i < n);
            let old_enough =
                retention.older_than.is_none_or(|age| ended_at(b).is_some_and(|t| now.duration_since(t) >= age));
            if !pods_only || kept_as_recent || !old_enough {
                plan.kept += 1;
                continue;
            }
            let pods: Vec<String> = b
                .branches
                .values()
                .flat_map(|br| br.attempts.values().map(move |a| (br, a)))
                .filter(|(_, a)| !a.pod_name.is_empty())
                .map(|(br, a)| format!("{}/{}", br.job.namespace, a.pod_name))
                .collect();
            if pods.is_empty() {
                continue;
            }
            plan.batches.push(Doomed {
                batch_id: b.id.clone(),
                tenant: b.tenant_name.clone(),
                operation: b.operation.clone(),
                ended: ended_at(b),
                pods,
                record: match by_batch.get(b.id.as_str()) {
                    Some(r) if r.outcome.is_some() => RecordState::Complete,
                    Some(_) => RecordState::NoOutcome,
                    None => RecordState::Missing,
                },
            });
            plan.ended.insert(b.id.clone(), (*b).clone());
        }
    }
    plan.batches.sort_by_key(|d| d.ended);
    if let Some(age) = retention.records_older_than {
        let live: BTreeSet<&str> = state.batches.keys().map(String::as_str).collect();
        plan.records = records
            .iter()
            .filter(|r| !live.contains(r.batch_id.as_str()))
            .filter(|r| r.triggered().is_some_and(|t| now.duration_since(t) >= age))
            .map(|r| format!("{records_namespace}/{}", record::record_name(&r.batch_id)))
            .collect();
    }
    plan
}

/// Reads a region (its branch pods, the Argo engine's Workflows in `argo_namespace` — a batch
/// whose Workflow runs has not ended, whatever its pods say — and its records) and decides (see
/// [`decide`]); counts the requests it made (every list page).
pub async fn preview(
    client: &kube::Client,
    region: &str,
    records_namespace: &str,
    argo_namespace: &str,
    retention: &Retention,
    now: Timestamp,
) -> Result<GcPlan> {
    if !retention.is_set() {
        return Err(Error::Input(
            "no retention is set: set [retention] older_than, keep_last or records_older_than in the configuration (tlc gc also takes --older-than, --keep, --records-older-than)"
                .into(),
        ));
    }
    let (read, requests) = super::discovery::counting_list_requests(async {
        let mut state = list_batches(client, region, None).await?;
        for w in super::watch::list_workflows(client, region, argo_namespace, None).await? {
            super::run::update(&mut state, w);
        }
        let records = record::list(client, region, records_namespace).await?;
        Ok::<_, Error>((state, records))
    })
    .await;
    let (state, records) = read?;
    let mut plan = decide(region, &state, &records, records_namespace, retention, now);
    plan.requests = requests;
    Ok(plan)
}

/// What a removal did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Removed {
    /// Batches whose pods were removed.
    pub batches: usize,
    /// Pods asked to go (the ConfigMaps they own go with them).
    pub pods: usize,
    /// Records removed.
    pub records: usize,
    /// Requests, by `verb resource`.
    pub requests: BTreeMap<String, usize>,
}

impl Removed {
    /// What was removed in a sentence, with the time it took and the requests it made.
    pub fn summary(&self, took: std::time::Duration) -> String {
        let calls: usize = self.requests.values().sum();
        let by_kind: Vec<String> = self.requests.iter().map(|(what, n)| format!("{what} ×{n}")).collect();
        format!(
            "removed {} of {} and {} in {} ms: {calls} API requests ({})",
            count(self.pods, "branch pod", "branch pods"),
            count(self.batches, "batch", "batches"),
            count(self.records, "record", "records"),
            took.as_millis(),
            by_kind.join(", ")
        )
    }
}

/// Carries out a plan: writes each missing outcome into its record, then removes the pods with one
/// label-selected `deletecollection` per namespace and up to [`IDS_PER_REQUEST`] batches (ended pods
/// only), then the records that go.
pub async fn remove(client: &kube::Client, plan: &GcPlan, records_namespace: &str, who: &str) -> Result<Removed> {
    let region = plan.region.as_str();
    let mut removed = Removed::default();
    let mut count = |what: &str| *removed.requests.entry(what.to_string()).or_default() += 1;
    // Outcomes first (16 at a time): no batch loses its evidence with its pods.
    use futures::StreamExt;
    // Collected first: a stream over the iterator's closures would not be `Send` (rust#102211), and
    // the console runs this on a spawned task.
    let writes: Vec<_> = plan
        .batches
        .iter()
        .filter_map(|d| plan.ended.get(&d.batch_id).map(|b| (d.record, b)))
        .map(|(state, batch)| async move {
            let requests: &'static [&'static str] = match state {
                RecordState::Complete => &[],
                RecordState::NoOutcome => {
                    record::write_outcome(client, records_namespace, batch, who).await?;
                    &["get configmaps", "update configmaps"]
                }
                RecordState::Missing => {
                    record::create_with_outcome(client, records_namespace, batch, who).await?;
                    &["create configmaps"]
                }
            };
            Ok(requests)
        })
        .collect();
    let written: Vec<Result<&[&str]>> = futures::stream::iter(writes).buffer_unordered(16).collect().await;
    for made in written {
        for what in made? {
            count(what);
        }
    }
    let mut by_namespace: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for d in &plan.batches {
        for pod in &d.pods {
            if let Some((ns, _)) = pod.split_once('/') {
                by_namespace.entry(ns).or_default().insert(d.batch_id.as_str());
            }
        }
    }
    for (ns, ids) in &by_namespace {
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        let ids: Vec<&str> = ids.iter().copied().collect();
        for chunk in ids.chunks(IDS_PER_REQUEST) {
            let lp = ListParams::default()
                .labels(&format!("{BATCH_ID} in ({})", chunk.join(",")))
                .fields("status.phase!=Pending,status.phase!=Running");
            api.delete_collection(&DeleteParams::default(), &lp).await.map_err(kube_error(
                region,
                "deletecollection",
                "pods",
                Some(ns),
            ))?;
            count("deletecollection pods");
        }
    }
    removed.batches = plan.batches.len();
    removed.pods = plan.pods();
    let records: Api<ConfigMap> = Api::namespaced(client.clone(), records_namespace);
    for r in &plan.records {
        let name = r.rsplit('/').next().unwrap_or(r);
        match records.delete(name, &DeleteParams::default()).await {
            Ok(_) => removed.records += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(kube_error(region, "delete", "configmaps", Some(records_namespace))(e)),
        }
        count("delete configmaps");
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditAction, AuditRecord};
    use crate::contract::JobRef;
    use crate::lifecycle::run::{Attempt, Branch, Phase, WorkflowInfo};

    fn at(minutes_ago: i64) -> Timestamp {
        NOW - SignedDuration::from_mins(minutes_ago)
    }

    const NOW: Timestamp = Timestamp::constant(1_790_000_000, 0);

    /// A batch of `tenant` whose branches (Jobs `team/job-N`) ended `minutes_ago`, in `phase`.
    fn batch(id: &str, tenant: &str, jobs: usize, minutes_ago: i64, phase: Phase) -> Batch {
        let branches = (0..jobs)
            .map(|i| {
                let job = JobRef::new("team", &format!("job-{i}"));
                let attempt = Attempt {
                    number: 1,
                    pod_name: format!("{id}-job-{i}-1"),
                    phase,
                    exit_code: phase.is_final().then_some(0),
                    reason: None,
                    started: Some(at(minutes_ago + 1)),
                    finished: phase.is_final().then(|| at(minutes_ago)),
                    deleting: false,
                    containers: Vec::new(),
                };
                (job.clone(), Branch::from_record(job, attempt))
            })
            .collect();
        Batch {
            id: id.into(),
            region: "eu-west".into(),
            tenant_id: tenant.into(),
            tenant_name: tenant.into(),
            operation: "lifecycle.upsert".into(),
            engine: None,
            started: Some(at(minutes_ago + 1)),
            migration: None,
            branches,
            workflow: None,
            from_record: false,
        }
    }

    /// The record of `b`'s trigger, naming `jobs` Jobs.
    fn record_of(b: &Batch, jobs: usize) -> BatchRecord {
        BatchRecord {
            batch_id: b.id.clone(),
            region: b.region.clone(),
            tenant_id: b.tenant_id.clone(),
            tenant_name: b.tenant_name.clone(),
            operation: b.operation.clone(),
            engine: None,
            actions: vec![AuditRecord {
                at: b.started.unwrap_or(NOW),
                who: "alice via eu-west".into(),
                action: AuditAction::Trigger,
                batch_id: b.id.clone(),
                region: b.region.clone(),
                tenant_id: b.tenant_id.clone(),
                tenant_name: b.tenant_name.clone(),
                operation: b.operation.clone(),
                changeset_digest: String::new(),
                jobs: (0..jobs).map(|i| format!("team/job-{i}")).collect(),
                outcome: "ok".into(),
            }],
            outcome: None,
            problems: Vec::new(),
        }
    }

    fn state(batches: Vec<Batch>) -> RunState {
        let mut s = RunState::default();
        s.batches = batches.into_iter().map(|b| (b.id.clone(), b)).collect();
        s
    }

    fn doomed(plan: &GcPlan) -> Vec<&str> {
        plan.batches.iter().map(|d| d.batch_id.as_str()).collect()
    }

    fn rules(older_than_mins: Option<i64>, keep_last: Option<usize>) -> Retention {
        Retention { older_than: older_than_mins.map(SignedDuration::from_mins), keep_last, records_older_than: None }
    }

    #[test]
    fn age_and_last_n_per_tenant_decide_and_nothing_running_is_touched() {
        let s = state(vec![
            batch("a-old", "acme", 2, 600, Phase::Succeeded),
            batch("a-mid", "acme", 2, 300, Phase::Failed),
            batch("a-new", "acme", 2, 10, Phase::Succeeded),
            batch("g-old", "globex", 2, 900, Phase::Succeeded),
            batch("g-run", "globex", 2, 0, Phase::Running),
        ]);
        let plan = decide("eu-west", &s, &[], "tlc-records", &rules(Some(60), None), NOW);
        assert_eq!(doomed(&plan), vec!["g-old", "a-old", "a-mid"], "oldest first; the recent and the running stay");
        assert_eq!((plan.kept, plan.running, plan.pods()), (1, 1, 6));
        assert_eq!(plan.batches[0].record, RecordState::Missing, "no record: one is made first");
        let plan = decide("eu-west", &s, &[], "tlc-records", &rules(Some(60), Some(2)), NOW);
        assert_eq!(doomed(&plan), vec!["a-old"], "acme's last two and globex's only ended one are kept");
        let plan = decide("eu-west", &s, &[], "tlc-records", &rules(None, Some(1)), NOW);
        assert_eq!(doomed(&plan), vec!["a-old", "a-mid"], "keep_last alone: any age");
    }

    #[test]
    fn a_batch_whose_record_names_jobs_without_pods_is_still_launching_until_the_grace_is_over() {
        // Two of three Jobs launched and ended; the launcher is still starting the third.
        let launching = batch("launching", "acme", 2, 5, Phase::Succeeded);
        let abandoned = batch("abandoned", "globex", 2, 120, Phase::Succeeded);
        let records = vec![record_of(&launching, 3), record_of(&abandoned, 3)];
        let s = state(vec![launching, abandoned]);
        let plan = decide("eu-west", &s, &records, "tlc-records", &rules(Some(0), None), NOW);
        assert_eq!(doomed(&plan), vec!["abandoned"], "an hour after its last pod, its pods decide");
        assert_eq!(plan.running, 1);
        assert_eq!(plan.batches[0].record, RecordState::NoOutcome, "its outcome is written first");
    }

    #[test]
    fn a_batch_whose_workflow_still_runs_is_not_touched_whatever_its_pods_say() {
        let mut argo = batch("argo", "acme", 2, 120, Phase::Succeeded);
        argo.workflow = Some(WorkflowInfo::running("argo", "tenant-lifecycle-x"));
        let plan = decide("eu-west", &state(vec![argo]), &[], "tlc-records", &rules(Some(0), None), NOW);
        assert!(plan.batches.is_empty(), "{plan:?}");
        assert_eq!(plan.running, 1);
    }

    #[test]
    fn records_go_by_their_own_age_and_never_while_the_cluster_shows_their_batch() {
        let shown = batch("shown", "acme", 1, 60 * 24 * 100, Phase::Succeeded);
        let gone = batch("gone", "acme", 1, 60 * 24 * 100, Phase::Succeeded);
        let young = batch("young", "acme", 1, 60, Phase::Succeeded);
        let records = vec![record_of(&shown, 1), record_of(&gone, 1), record_of(&young, 1)];
        let retention =
            Retention { records_older_than: Some(SignedDuration::from_hours(24 * 90)), ..rules(None, None) };
        let plan = decide("eu-west", &state(vec![shown]), &records, "tlc-records", &retention, NOW);
        assert_eq!(plan.records, vec!["tlc-records/tlc-batch-gone"]);
        assert!(plan.batches.is_empty(), "no pod rule: no pod goes");
    }

    #[test]
    fn ages_read_and_say_as_written() {
        assert_eq!(parse_age("90m"), Ok(SignedDuration::from_mins(90)));
        assert_eq!(parse_age("7d").map(words), Ok("7d".to_string()));
        assert_eq!(parse_age("0s").map(words), Ok("0s".to_string()));
        assert_eq!(
            parse_age("7 days"),
            Err("\"7 days\" is not an age: expected a number and a unit, e.g. 90m, 24h, 7d".into())
        );
        assert_eq!(
            Retention::default().with_overrides("older_than=1d, keep_last=0, colour=red"),
            Err("unknown rule \"colour\" (older_than, keep_last, records_older_than)".into())
        );
    }
}
