//! Incident bundles: one JSON file with everything someone needs to look at a batch later — the
//! status of every branch (all attempts), every log line the console holds for it (with
//! timestamps, sanitised), and the environment and changeset it ran with, plus the five variables
//! each branch got.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::contract::TenantContext;
use crate::lifecycle::run::Batch;
use crate::tui::app::logview::BatchLogs;

/// The bundle's JSON.
pub fn build(
    batch: &Batch,
    logs: Option<&BatchLogs>,
    files: Option<&(String, String)>,
    mount_dir: &str,
    now: jiff::Timestamp,
) -> Value {
    let context = TenantContext {
        tenant_id: batch.tenant_id.clone(),
        batch_id: batch.id.clone(),
        operation: batch.operation.clone(),
        mount_dir: mount_dir.to_string(),
    };
    let env: serde_json::Map<String, Value> =
        context.env().into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect();
    let branches: Vec<Value> = batch
        .branches
        .values()
        .map(|b| {
            let lines: Vec<Value> = logs
                .and_then(|l| l.index_of(&b.job).map(|i| (l, i)))
                .map(|(l, i)| {
                    l.scrollback
                        .branch_lines(i)
                        .map(|line| {
                            let ts = line
                                .timestamp()
                                .and_then(|t| jiff::Timestamp::from_nanosecond(t as i128).ok())
                                .map(|t| t.to_string());
                            json!({ "ts": ts, "text": &*line.text })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "job": b.job.to_string(),
                "phase": b.phase().as_str(),
                "attempts": b.attempts.values().collect::<Vec<_>>(),
                "log": lines,
            })
        })
        .collect();
    json!({
        "kind": "tlc-incident-bundle",
        "version": 1,
        "saved_at": now.to_string(),
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
        },
        "env": env,
        "files": {
            "environment.yaml": files.map(|f| f.0.clone()),
            "changeset.yaml": files.map(|f| f.1.clone()),
        },
        "logs_dropped": logs.map_or(0, |l| l.scrollback.dropped()),
        "branches": branches,
    })
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
        crate::tui::app::trigger::short(&batch.id),
        now.strftime("%Y%m%dT%H%M%SZ")
    )
}

/// Writes the bundle into `dir` as `name`, or `name` with `-2`, `-3`, … before `.json` when a
/// bundle of the same second is already there: never overwrites an existing file.
pub fn write(dir: &Path, name: &str, bundle: &Value) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let text = serde_json::to_string_pretty(bundle).map_err(|e| e.to_string())?;
    let stem = name.strip_suffix(".json").unwrap_or(name);
    for n in 1..=100 {
        let path = if n == 1 { dir.join(name) } else { dir.join(format!("{stem}-{n}.json")) };
        let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
        };
        std::io::Write::write_all(&mut file, text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        return Ok(path);
    }
    Err(format!("cannot create {}: 100 bundles of this batch and second are already there", dir.join(name).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = write(&file, "b.json", &serde_json::json!({})).expect_err("a file is not a directory");
        assert!(e.starts_with(&format!("cannot create {}", file.display())), "{e}");
    }
}
