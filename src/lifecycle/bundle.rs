//! Incident bundles: one JSON file with everything someone needs to look at a batch later — the
//! status of every branch (all attempts), every log line held for it (with timestamps,
//! sanitised), and the environment and changeset it ran with, plus the five variables each branch
//! got. Built from a [`BundleInput`] taken in a moment (the log lines are shared, not copied), so
//! building and writing a million-line bundle happens off the console's thread.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::contract::{BatchFiles, JobRef, TenantContext};
use crate::lifecycle::run::Batch;
use crate::logs::scrollback::LogSnapshot;

/// Everything a bundle is made of.
#[derive(Clone, Debug)]
pub struct BundleInput {
    /// The batch as last seen.
    pub batch: Batch,
    /// Its log lines, when this console holds any.
    pub logs: Option<BundleLogs>,
    /// environment.yaml and changeset.yaml, when known.
    pub files: Option<BatchFiles>,
    /// Where branch pods mount the two files.
    pub mount_dir: String,
    /// When it is saved.
    pub now: jiff::Timestamp,
}

/// A batch's log lines as a bundle takes them.
#[derive(Clone, Debug)]
pub struct BundleLogs {
    /// The lines (shared with the console's scrollback, not copied).
    pub lines: LogSnapshot,
    /// The Job of each branch index the lines carry.
    pub jobs: Vec<JobRef>,
}

/// Why a bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A directory or file could not be created or written.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// `create`, `write`.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The bundle could not be encoded.
    #[error("cannot encode the bundle: {0}")]
    Encode(#[from] serde_json::Error),
    /// Every suffixed name is taken.
    #[error("cannot create {}: 100 bundles of this batch and second are already there", .0.display())]
    Crowded(PathBuf),
}

/// The bundle's JSON, in one pass over the log lines.
pub fn build(input: &BundleInput) -> Value {
    let batch = &input.batch;
    let context = TenantContext {
        tenant_id: batch.tenant_id.clone(),
        batch_id: batch.id.clone(),
        operation: batch.operation.clone(),
        mount_dir: input.mount_dir.clone(),
    };
    let env: serde_json::Map<String, Value> =
        context.env().into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect();
    let mut lines_by_index: Vec<Vec<Value>> = Vec::new();
    if let Some(logs) = &input.logs {
        lines_by_index.resize_with(logs.jobs.len(), Vec::new);
        for line in logs.lines.iter() {
            let Some(lines) = lines_by_index.get_mut(line.branch as usize) else { continue };
            let ts =
                line.timestamp().and_then(|t| jiff::Timestamp::from_nanosecond(t as i128).ok()).map(|t| t.to_string());
            lines.push(json!({ "ts": ts, "text": &*line.text }));
        }
    }
    let index_of = |job: &JobRef| input.logs.as_ref().and_then(|l| l.jobs.iter().position(|j| j == job));
    let branches: Vec<Value> = batch
        .branches
        .values()
        .map(|b| {
            let lines = index_of(&b.job).map(|i| std::mem::take(&mut lines_by_index[i])).unwrap_or_default();
            json!({
                "job": b.job.to_string(),
                "phase": b.phase().as_str(),
                "attempts": b.attempts.values().collect::<Vec<_>>(),
                "last_line": b.last_line,
                "log": lines,
            })
        })
        .collect();
    json!({
        "kind": "tlc-incident-bundle",
        "version": 1,
        "saved_at": input.now.to_string(),
        "batch": {
            "id": batch.id,
            "region": batch.region,
            "tenant_id": batch.tenant_id,
            "tenant_name": batch.tenant_name,
            "operation": batch.operation,
            "engine": batch.engine,
            "started": batch.started.map(|t| t.to_string()),
            "phase": batch.phase().as_str(),
            "counts": batch.counts(),
            "from_record": batch.from_record,
        },
        "note": batch.from_record.then_some(
            "its pods are gone, and their logs with them: phases, exit codes, times and each branch's last line are from the batch's record"
        ),
        "env": env,
        "files": {
            "environment.yaml": input.files.as_ref().map(|f| f.environment_yaml.clone()),
            "changeset.yaml": input.files.as_ref().map(|f| f.changeset_yaml.clone()),
        },
        "logs_dropped": input.logs.as_ref().map_or(0, |l| l.lines.dropped()),
        "branches": branches,
    })
}

/// Builds the bundle and writes it into `dir` (see [`write`]): the blocking work, for a worker thread.
pub fn save(input: &BundleInput, dir: &Path) -> Result<PathBuf, BundleError> {
    write(dir, &file_name(&input.batch, input.now), &build(input))
}

/// The bundle's file name: `tlc-incident-TENANT-OPERATION-BATCH8-YYYYmmddTHHMMSSZ.json`.
pub fn file_name(batch: &Batch, now: jiff::Timestamp) -> String {
    let safe = |s: &str| {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect::<String>()
    };
    format!(
        "tlc-incident-{}-{}-{}-{}.json",
        safe(&batch.tenant_name),
        safe(batch.operation.trim_start_matches("lifecycle.")),
        crate::contract::names::short_id(&batch.id),
        now.strftime("%Y%m%dT%H%M%SZ")
    )
}

/// Writes the bundle into `dir` as `name`, or `name` with `-2`, `-3`, … before `.json` when a
/// bundle of the same second is already there: never overwrites an existing file.
pub fn write(dir: &Path, name: &str, bundle: &Value) -> Result<PathBuf, BundleError> {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BundleError {
        let path = path.to_path_buf();
        move |source| BundleError::Io { what, path, source }
    }
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let text = serde_json::to_string_pretty(bundle)?;
    let stem = name.strip_suffix(".json").unwrap_or(name);
    for n in 1..=100 {
        let path = if n == 1 { dir.join(name) } else { dir.join(format!("{stem}-{n}.json")) };
        let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io("create", &path)(e)),
        };
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io("write", &path))?;
        return Ok(path);
    }
    Err(BundleError::Crowded(dir.join(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_known_from_its_record_makes_a_bundle_that_says_so_with_every_branch_as_it_ended() {
        let estate = crate::demo::GeneratedEstate {
            tenants: 2,
            namespaces: 3,
            jobs_per_namespace: 2,
            records: 3,
            ..Default::default()
        };
        let cms: Vec<k8s_openapi::api::core::v1::ConfigMap> = estate
            .records("eu-west", 1_764_500_000)
            .into_iter()
            .map(|v| serde_json::from_value(v).expect("a ConfigMap"))
            .collect();
        let record = crate::audit::record::BatchRecord::from_configmap(&cms[0], "eu-west").expect("a record");
        let batch = record.to_batch();
        let input =
            BundleInput { batch, logs: None, files: None, mount_dir: "/m".into(), now: jiff::Timestamp::UNIX_EPOCH };
        let bundle = build(&input);
        assert_eq!(bundle["batch"]["from_record"], true);
        assert!(bundle["note"].as_str().is_some_and(|n| n.starts_with("its pods are gone")), "{bundle:#}");
        let branches = bundle["branches"].as_array().expect("branches");
        assert_eq!(branches.len(), 6, "every Job of the batch: {bundle:#}");
        for b in branches {
            let attempt = &b["attempts"][0];
            assert!(matches!(attempt["phase"].as_str(), Some("succeeded" | "failed")), "{b:#}");
            assert!(attempt["exit_code"].is_i64(), "{b:#}");
            assert!(b["last_line"].is_string(), "{b:#}");
        }
    }

    #[test]
    fn a_second_bundle_of_the_same_second_gets_a_suffix_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let name = "tlc-incident-acme-upsert-0000abcd-20261121T100000Z.json";
        let first = write(dir.path(), name, &serde_json::json!({"n": 1})).expect("first");
        let second = write(dir.path(), name, &serde_json::json!({"n": 2})).expect("second");
        assert_eq!(first, dir.path().join(name));
        assert_eq!(second, dir.path().join("tlc-incident-acme-upsert-0000abcd-20261121T100000Z-2.json"));
        let read = |p: &Path| std::fs::read_to_string(p).expect("read");
        assert!(read(&first).contains("\"n\": 1") && read(&second).contains("\"n\": 2"));
    }

    #[test]
    fn an_unwritable_directory_is_named_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "x").expect("write");
        let e = write(&file, "b.json", &serde_json::json!({})).expect_err("a file is not a directory").to_string();
        assert!(e.starts_with(&format!("cannot create {}", file.display())), "{e}");
    }
}
