//! The local audit history: one JSON object per line in `history.jsonl` in the user's data dir
//! (`$TLC_DATA_DIR` overrides it). Appends are whole lines; a line that cannot be read back is
//! reported with its line number and the rest is still shown.

use crate::lifecycle::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::AuditRecord;

/// The file name in the data dir.
pub const HISTORY_FILE: &str = "history.jsonl";

/// The data dir: `$TLC_DATA_DIR`, else the platform's (`~/.local/share/tlc` on Linux).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TLC_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "tlc", "tlc").map(|d| d.data_dir().to_path_buf())
}

/// The history file's path.
pub fn history_path() -> Option<PathBuf> {
    data_dir().map(|d| d.join(HISTORY_FILE))
}

/// Appends a record (creating the directory and file as needed).
pub fn append(path: &Path, record: &AuditRecord) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io(format!("create {}", dir.display())))?;
    }
    let mut line =
        serde_json::to_string(record).map_err(|e| Error::io("encode the audit record")(std::io::Error::other(e)))?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(Error::io(format!("open {}", path.display())))?;
    file.write_all(line.as_bytes()).map_err(Error::io(format!("write {}", path.display())))
}

/// Reads the history, newest first; unreadable lines are returned as problems (`file:line: why`).
pub fn read(path: &Path) -> (Vec<AuditRecord>, Vec<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(e) => return (Vec::new(), vec![format!("cannot read {}: {e}", path.display())]),
    };
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<AuditRecord>(line) {
            Ok(r) => records.push(r),
            Err(e) => problems.push(format!("{}:{}: {e}", path.display(), i + 1)),
        }
    }
    records.reverse();
    (records, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditAction;

    fn record(batch: &str) -> AuditRecord {
        AuditRecord {
            at: jiff::Timestamp::UNIX_EPOCH,
            who: "alice via eu-west".into(),
            action: AuditAction::Trigger,
            batch_id: batch.into(),
            region: "eu-west".into(),
            tenant_id: "t-1".into(),
            tenant_name: "acme".into(),
            operation: "lifecycle.upsert".into(),
            changeset_digest: crate::audit::changeset_digest(""),
            jobs: vec!["ns/job".into()],
            outcome: "ok".into(),
        }
    }

    #[test]
    fn appends_and_reads_back_newest_first_reporting_bad_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join(HISTORY_FILE);
        append(&path, &record("b1")).expect("append");
        append(&path, &record("b2")).expect("append");
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"{not json\n").expect("write");
        let (records, problems) = read(&path);
        assert_eq!(records.iter().map(|r| r.batch_id.as_str()).collect::<Vec<_>>(), vec!["b2", "b1"]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains(":3: "), "{problems:?}");
        assert_eq!(read(&dir.path().join("missing")), (vec![], vec![]));
    }
}
