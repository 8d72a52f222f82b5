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
        batch.id.get(..8).unwrap_or(&batch.id),
        now.strftime("%Y%m%dT%H%M%SZ")
    )
}

/// Writes the bundle into `dir`; never overwrites an existing file.
pub fn write(dir: &Path, name: &str, bundle: &Value) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(name);
    let text = serde_json::to_string_pretty(bundle).map_err(|e| e.to_string())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
