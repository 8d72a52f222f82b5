//! Batch records: one ConfigMap per batch in its region's records namespace (`run.records_namespace`),
//! labelled with the contract's labels, holding every audited action on the batch (the trigger,
//! then each cancel and retry: who, when, how it went) and, once the batch has ended, its outcome
//! (each branch's phase, exit code, start, finish, attempt and last line). A batch outlives its
//! pods (cancelled, cleaned up, deleted by hand) and the audit outlives Events (an API server
//! drops them after `--event-ttl`, an hour by default): `tlc runs`, `tlc history` and the console
//! read the records of every region, so the whole team sees one history.

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};

use super::AuditRecord;
use crate::contract::labels::{BATCH_ID, ENGINE, MANAGED_BY, MANAGER, OPERATION, REGION, TENANT_ID, TENANT_NAME};
use crate::contract::{Engine, JobRef};
use crate::lifecycle::discovery::list_all;
use crate::lifecycle::error::{Error, Result, kube_error};
use crate::lifecycle::run::{Attempt, Batch, Branch, Phase};

/// The label that marks a batch record (value `batch`).
pub const RECORD: &str = "tlc.dev/record";
/// The data key of the audited actions, one JSON record per line, oldest first.
pub const AUDIT_KEY: &str = "audit.jsonl";
/// The data key of the outcome, once the batch has ended.
pub const OUTCOME_KEY: &str = "outcome.json";
/// How many times a record update is tried again after a conflict (two writers at once).
const CONFLICT_RETRIES: usize = 5;
/// The longest last line a record keeps per branch (characters).
const LAST_LINE_CHARS: usize = 300;

/// The record's name: `tlc-batch-<batch id>`.
pub fn record_name(batch_id: &str) -> String {
    format!("tlc-batch-{batch_id}")
}

/// How one branch ended, as its record keeps it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BranchOutcome {
    /// The Job, `namespace/name`.
    pub job: String,
    /// The attempt that decided it.
    pub attempt: u32,
    /// Its phase.
    pub phase: Phase,
    /// Its exit code.
    pub exit_code: Option<i32>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
    /// When its container started.
    pub started: Option<Timestamp>,
    /// When it finished.
    pub finished: Option<Timestamp>,
    /// Its last log line (sanitised, cut).
    pub last_line: Option<String>,
}

/// How a batch ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchOutcome {
    /// The batch's phase.
    pub phase: Phase,
    /// When this was written, and by whom.
    pub recorded_at: Timestamp,
    /// Who wrote it (`alice via eu-west`).
    pub recorded_by: String,
    /// Every branch.
    pub branches: Vec<BranchOutcome>,
}

impl BatchOutcome {
    /// The outcome of an ended batch as `who` sees it now.
    pub fn of(batch: &Batch, who: &str) -> Self {
        let branches = batch
            .branches
            .values()
            .filter_map(|b| {
                let a = b.current()?;
                Some(BranchOutcome {
                    job: b.job.to_string(),
                    attempt: a.number,
                    phase: b.phase(),
                    exit_code: b.exit_code(),
                    reason: a.reason.clone(),
                    started: a.started,
                    finished: a.finished,
                    last_line: b.last_line.as_ref().map(|l| l.chars().take(LAST_LINE_CHARS).collect()),
                })
            })
            .collect();
        BatchOutcome { phase: batch.phase(), recorded_at: Timestamp::now(), recorded_by: who.into(), branches }
    }
}

/// A batch's record, as read back.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BatchRecord {
    /// The batch id.
    pub batch_id: String,
    /// The region whose cluster holds it.
    pub region: String,
    /// The tenant id.
    pub tenant_id: String,
    /// The tenant's name.
    pub tenant_name: String,
    /// The operation.
    pub operation: String,
    /// The engine (`direct`, `argo`), when the record says.
    pub engine: Option<Engine>,
    /// Every audited action, oldest first (the first is the trigger).
    pub actions: Vec<AuditRecord>,
    /// The outcome, once written.
    pub outcome: Option<BatchOutcome>,
    /// Lines of the record that could not be read (kept for the report, never dropped silently).
    pub problems: Vec<String>,
}

impl BatchRecord {
    /// Reads a record ConfigMap of `region`.
    pub fn from_configmap(cm: &ConfigMap, region: &str) -> Option<Self> {
        let labels = cm.metadata.labels.as_ref()?;
        if labels.get(RECORD).map(String::as_str) != Some("batch") {
            return None;
        }
        let annotations = cm.metadata.annotations.clone().unwrap_or_default();
        let data = cm.data.clone().unwrap_or_default();
        let mut problems = Vec::new();
        let mut actions = Vec::new();
        for (i, line) in data.get(AUDIT_KEY).map(String::as_str).unwrap_or_default().lines().enumerate() {
            match serde_json::from_str::<AuditRecord>(line) {
                Ok(r) => actions.push(r),
                Err(e) => problems.push(format!("{AUDIT_KEY} line {}: {e}", i + 1)),
            }
        }
        let outcome = data.get(OUTCOME_KEY).and_then(|text| match serde_json::from_str(text) {
            Ok(o) => Some(o),
            Err(e) => {
                problems.push(format!("{OUTCOME_KEY}: {e}"));
                None
            }
        });
        Some(BatchRecord {
            batch_id: labels.get(BATCH_ID).cloned().unwrap_or_default(),
            region: annotations.get(REGION).cloned().unwrap_or_else(|| region.to_string()),
            tenant_id: labels.get(TENANT_ID).cloned().unwrap_or_default(),
            tenant_name: annotations.get(TENANT_NAME).cloned().unwrap_or_default(),
            operation: labels.get(OPERATION).cloned().unwrap_or_default(),
            engine: labels.get(ENGINE).and_then(|e| e.parse().ok()),
            actions,
            outcome,
            problems,
        })
    }

    /// The batch as its record tells it (its pods are gone): every branch of the outcome, or,
    /// before one was written, the batch with no branch.
    pub fn to_batch(&self) -> Batch {
        let mut branches = BTreeMap::new();
        for b in self.outcome.iter().flat_map(|o| &o.branches) {
            let Some((namespace, name)) = b.job.split_once('/') else { continue };
            let job = JobRef::new(namespace, name);
            let attempt = Attempt {
                number: b.attempt,
                pod_name: String::new(),
                phase: b.phase,
                exit_code: b.exit_code,
                reason: b.reason.clone(),
                started: b.started,
                finished: b.finished,
                deleting: false,
                containers: Vec::new(),
            };
            let mut branch = Branch::from_record(job.clone(), attempt);
            branch.last_line = b.last_line.clone();
            branches.insert(job, branch);
        }
        Batch::from_record(self, branches)
    }

    /// Adds this record's batch to `state` where its pods and Workflow are gone (a batch seen in
    /// the cluster is shown from the cluster).
    pub fn merge_into(&self, state: &mut crate::lifecycle::run::RunState) {
        state.add_from_record(self.to_batch());
    }

    /// When the batch was triggered (its first action).
    pub fn triggered(&self) -> Option<Timestamp> {
        self.actions.first().map(|a| a.at)
    }
}

/// What a record is about (for its labels and annotations).
struct About<'a> {
    batch_id: &'a str,
    tenant_id: &'a str,
    tenant_name: &'a str,
    operation: &'a str,
    region: &'a str,
    engine: Option<Engine>,
}

impl<'a> About<'a> {
    /// What an audited action's record is about.
    fn entry(entry: &'a AuditRecord, engine: Option<Engine>) -> Self {
        About {
            batch_id: &entry.batch_id,
            tenant_id: &entry.tenant_id,
            tenant_name: &entry.tenant_name,
            operation: &entry.operation,
            region: &entry.region,
            engine,
        }
    }

    /// What a batch's record is about.
    fn batch(batch: &'a Batch) -> Self {
        About {
            batch_id: &batch.id,
            tenant_id: &batch.tenant_id,
            tenant_name: &batch.tenant_name,
            operation: &batch.operation,
            region: &batch.region,
            engine: batch.engine,
        }
    }
}

/// An audited action as its line in [`AUDIT_KEY`].
fn audit_line(entry: &AuditRecord) -> Result<String> {
    serde_json::to_string(entry).map(|l| l + "\n").map_err(|e| Error::Input(format!("audit record: {e}")))
}

/// A new, empty record ConfigMap labelled with the contract's labels.
fn new_record(namespace: &str, about: &About<'_>) -> ConfigMap {
    let mut labels = BTreeMap::from([
        (RECORD.to_string(), "batch".to_string()),
        (BATCH_ID.to_string(), about.batch_id.to_string()),
        (TENANT_ID.to_string(), about.tenant_id.to_string()),
        (OPERATION.to_string(), about.operation.to_string()),
        (MANAGED_BY.to_string(), MANAGER.to_string()),
    ]);
    if let Some(e) = about.engine {
        labels.insert(ENGINE.to_string(), e.as_str().to_string());
    }
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(record_name(about.batch_id)),
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([
                (TENANT_NAME.to_string(), about.tenant_name.to_string()),
                (REGION.to_string(), about.region.to_string()),
            ])),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A whole record as it would be written: its first action (the trigger) and, when given, its
/// outcome (generated estates and tests seed records this way).
pub fn record_configmap(
    namespace: &str,
    entry: &AuditRecord,
    engine: Option<Engine>,
    outcome: Option<&BatchOutcome>,
) -> Result<ConfigMap> {
    let mut cm = new_record(namespace, &About::entry(entry, engine));
    let mut data = BTreeMap::from([(AUDIT_KEY.to_string(), audit_line(entry)?)]);
    if let Some(o) = outcome {
        let text = serde_json::to_string(o).map_err(|e| Error::Input(format!("outcome: {e}")))?;
        data.insert(OUTCOME_KEY.to_string(), text);
    }
    cm.data = Some(data);
    Ok(cm)
}

/// Reads, changes and writes a record back, trying again on a conflict; `create` (changed the same
/// way) is made when it does not exist yet.
async fn update(
    api: &Api<ConfigMap>,
    region: &str,
    namespace: &str,
    create: ConfigMap,
    change: impl Fn(&mut BTreeMap<String, String>),
) -> Result<()> {
    let name = create.metadata.name.clone().unwrap_or_default();
    for _ in 0..CONFLICT_RETRIES {
        let current = api.get_opt(&name).await.map_err(kube_error(region, "get", "configmaps", Some(namespace)))?;
        let result = match current {
            Some(mut cm) => {
                change(cm.data.get_or_insert_with(BTreeMap::new));
                api.replace(&name, &PostParams::default(), &cm).await.map_err(|e| ("update", e))
            }
            None => {
                let mut new = create.clone();
                change(new.data.get_or_insert_with(BTreeMap::new));
                api.create(&PostParams::default(), &new).await.map_err(|e| ("create", e))
            }
        };
        match result {
            Ok(_) => return Ok(()),
            Err((_, kube::Error::Api(s))) if s.code == 409 => continue,
            Err((verb, e)) => return Err(kube_error(region, verb, "configmaps", Some(namespace))(e)),
        }
    }
    Err(Error::Input(format!(
        "{region}: record {namespace}/{name} kept changing under this write ({CONFLICT_RETRIES} conflicts)"
    )))
}

/// Adds an audited action to its batch's record, creating the record with the first one.
pub async fn append(client: &kube::Client, namespace: &str, entry: &AuditRecord, engine: Option<Engine>) -> Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let line = audit_line(entry)?;
    update(&api, &entry.region, namespace, new_record(namespace, &About::entry(entry, engine)), |data| {
        data.entry(AUDIT_KEY.to_string()).or_default().push_str(&line);
    })
    .await
}

/// Creates the record of a new batch with its trigger: one request, `create` only (what the Argo
/// kit's discovery step may do); a record made in the meantime is appended to instead.
pub async fn create_trigger(
    client: &kube::Client,
    namespace: &str,
    entry: &AuditRecord,
    engine: Option<Engine>,
) -> Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    match api.create(&PostParams::default(), &record_configmap(namespace, entry, engine, None)?).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => append(client, namespace, entry, engine).await,
        Err(e) => Err(kube_error(&entry.region, "create", "configmaps", Some(namespace))(e)),
    }
}

/// Writes an ended batch's outcome into its record (an existing one is replaced: the latest
/// attempt decides). A batch without a record (triggered by a tlc that wrote none, or by hand)
/// gets one, with the outcome and no action.
pub async fn write_outcome(client: &kube::Client, namespace: &str, batch: &Batch, who: &str) -> Result<()> {
    let (api, new, text) = outcome_parts(client, namespace, batch, who)?;
    update(&api, &batch.region, namespace, new, |data| {
        data.insert(OUTCOME_KEY.to_string(), text.clone());
    })
    .await
}

/// Creates the record of a batch known to have none, with its outcome: one request (a record
/// made in the meantime is written into instead).
pub async fn create_with_outcome(client: &kube::Client, namespace: &str, batch: &Batch, who: &str) -> Result<()> {
    let (api, mut new, text) = outcome_parts(client, namespace, batch, who)?;
    new.data = Some(BTreeMap::from([(OUTCOME_KEY.to_string(), text)]));
    match api.create(&PostParams::default(), &new).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => write_outcome(client, namespace, batch, who).await,
        Err(e) => Err(kube_error(&batch.region, "create", "configmaps", Some(namespace))(e)),
    }
}

/// The API, the record a batch would get, and its outcome's text.
fn outcome_parts(
    client: &kube::Client,
    namespace: &str,
    batch: &Batch,
    who: &str,
) -> Result<(Api<ConfigMap>, ConfigMap, String)> {
    if !batch.phase().is_final() {
        return Err(Error::Input(format!("batch {} has not ended: no outcome to record yet", batch.id)));
    }
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let text = serde_json::to_string(&BatchOutcome::of(batch, who))
        .map_err(|e| Error::Input(format!("outcome of batch {}: {e}", batch.id)))?;
    Ok((api, new_record(namespace, &About::batch(batch)), text))
}

/// Every batch record of a region.
pub async fn list(client: &kube::Client, region: &str, namespace: &str) -> Result<Vec<BatchRecord>> {
    list_matching(client, region, namespace, None).await
}

/// The batch records of a region that match a label selector too (`tlc.dev/batch-id=…`).
pub async fn list_matching(
    client: &kube::Client,
    region: &str,
    namespace: &str,
    selector: Option<&str>,
) -> Result<Vec<BatchRecord>> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut labels = format!("{RECORD}=batch");
    if let Some(s) = selector.filter(|s| !s.is_empty()) {
        labels = format!("{labels},{s}");
    }
    let cms = list_all(&api, &ListParams::default().labels(&labels)).await.map_err(kube_error(
        region,
        "list",
        "configmaps",
        Some(namespace),
    ))?;
    Ok(cms.iter().filter_map(|cm| BatchRecord::from_configmap(cm, region)).collect())
}

/// How many records a watch of records reads per page, and hands over at once while listing.
const RECORD_PAGE: u32 = 500;

/// What a watch of a region's batch records reports.
#[derive(Debug)]
pub enum RecordChange {
    /// Batches as their records tell them: a page of the list, or a record added or changed.
    Batches(Vec<Batch>),
    /// A record was deleted (`tlc gc`): the id of its batch.
    Gone(String),
}

/// Watches the batch records of `region` (in `namespace`) until `on` returns `false`: the list
/// page by page, then each record added, changed or deleted, each turned into its batch at once
/// (an estate's records are tens of thousands: never all held as ConfigMaps, never listed again
/// every minute). A record deleted while the watch was down is not reported (its batch stays shown
/// until the next start). The connection's changes are reported as they happen.
pub async fn watch_batches(
    client: &kube::Client,
    region: &str,
    namespace: &str,
    url: &str,
    mut on: impl FnMut(crate::watch::Report<RecordChange>) -> bool,
) {
    use crate::watch::{Report, Seen};
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let config = kube::runtime::watcher::Config::default().labels(&format!("{RECORD}=batch")).page_size(RECORD_PAGE);
    let mut page: Vec<Batch> = Vec::new();
    let mut listing = false;
    crate::watch::watch_each(api, config, url, crate::watch::trim::managed_fields, |seen| match seen {
        Seen::Connection(c) => on(Report::Connection(c)),
        Seen::Relisting => {
            listing = true;
            true
        }
        Seen::Object(cm) => {
            page.extend(BatchRecord::from_configmap(&cm, region).map(|r| r.to_batch()));
            if page.is_empty() || (listing && page.len() < RECORD_PAGE as usize) {
                return true;
            }
            on(Report::Data(RecordChange::Batches(std::mem::take(&mut page))))
        }
        Seen::Listed => {
            listing = false;
            page.is_empty() || on(Report::Data(RecordChange::Batches(std::mem::take(&mut page))))
        }
        Seen::Deleted(cm) => match cm.metadata.labels.as_ref().and_then(|l| l.get(BATCH_ID)) {
            Some(id) => on(Report::Data(RecordChange::Gone(id.clone()))),
            None => true,
        },
    })
    .await;
}

/// One line of the team's history, and where it was read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    /// The action.
    #[serde(flatten)]
    pub record: AuditRecord,
    /// `record` (the batch's record in its region) or `local` (this machine's history only).
    pub source: &'static str,
}

/// The whole team's history in `regions`, newest first: every action in the batch records of each
/// region, plus the lines of this machine's history (`local`) that no record holds (written where
/// a cluster could not take them). Returns it with what could not be read (a region's records, a
/// record's or the local file's unreadable lines), each said in words.
pub async fn team_history(
    regions: &crate::lifecycle::regions::Regions,
    names: &[String],
    namespace: &str,
    local: Option<&std::path::Path>,
) -> (Vec<HistoryEntry>, Vec<String>) {
    let reads = names
        .iter()
        .filter_map(|r| regions.get(r))
        .map(|r| async move { (r.name.clone(), list(&r.client, &r.name, namespace).await) });
    let mut entries: Vec<HistoryEntry> = Vec::new();
    let mut problems = Vec::new();
    for (region, result) in futures::future::join_all(reads).await {
        match result {
            Ok(records) => {
                for r in records {
                    problems
                        .extend(r.problems.iter().map(|p| format!("{region}: record of batch {}: {p}", r.batch_id)));
                    entries.extend(r.actions.into_iter().map(|record| HistoryEntry { record, source: "record" }));
                }
            }
            Err(e) => problems.push(format!("{e} (its batch records are not in this history)")),
        }
    }
    if let Some(path) = local {
        let seen: std::collections::BTreeSet<(String, Timestamp, &'static str)> =
            entries.iter().map(|e| (e.record.batch_id.clone(), e.record.at, e.record.action.as_str())).collect();
        let (lines, unread) = super::history::read(path);
        problems.extend(unread.into_iter().map(|p| format!("local history {}: {p}", path.display())));
        entries.extend(
            lines
                .into_iter()
                .filter(|r| names.contains(&r.region))
                .filter(|r| !seen.contains(&(r.batch_id.clone(), r.at, r.action.as_str())))
                .map(|record| HistoryEntry { record, source: "local" }),
        );
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.record.at));
    (entries, problems)
}
