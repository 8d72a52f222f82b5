//! Stern-style output of a fan-out: every log line with a coloured branch prefix, status lines when
//! branches start and end, and a summary table at the end. Log text is printed only after the
//! sanitiser has neutralised it; with colours off it is plain text.

use std::collections::BTreeMap;
use std::io::Write;

use jiff::Timestamp;

use super::output::{Table, safe};
use crate::contract::JobRef;
use crate::lifecycle::run::{Batch, Phase};
use crate::logs::sanitize::SafeLine;

const PALETTE: [u8; 12] = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

/// Prints lines of many branches (buffered: call [`Printer::flush`] after a burst).
pub struct Printer {
    out: std::io::BufWriter<std::io::Stdout>,
    /// One JSON object per line instead of text.
    json: bool,
    colour: bool,
    with_tenant: bool,
    timestamps: bool,
    width: usize,
    colours: BTreeMap<String, u8>,
}

fn hash(s: &str) -> usize {
    s.bytes().fold(5381usize, |h, b| h.wrapping_mul(33) ^ usize::from(b))
}

/// A duration for people: `850ms`, `7.2s`, `3m05s`, `1h02m`.
pub fn human(d: jiff::SignedDuration) -> String {
    let ms = d.as_millis().max(0);
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

impl Printer {
    /// A printer; `with_tenant` adds the tenant to the prefix (several tenants in one run).
    pub fn new(colour: bool, with_tenant: bool, timestamps: bool, prefixes: &[String]) -> Self {
        let width = prefixes.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        Printer {
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout()),
            json: false,
            colour,
            with_tenant,
            timestamps,
            width,
            colours: BTreeMap::new(),
        }
    }

    /// Switches to newline-delimited JSON: `{"batch", "branch", "container", "time", "line"}` per log
    /// line (sanitised plain text), no status lines.
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }

    /// Widens the prefix column to fit `prefix` (branches appear as the run goes).
    pub fn fit(&mut self, prefix: &str) {
        self.width = self.width.max(prefix.chars().count());
    }

    /// The prefix of a branch.
    pub fn prefix(tenant: &str, job: &JobRef, with_tenant: bool) -> String {
        if with_tenant { format!("{tenant} {job}") } else { job.to_string() }
    }

    fn coloured(&mut self, prefix: &str) -> String {
        let padded = format!("{prefix:<width$}", width = self.width);
        if !self.colour {
            return format!("{padded} │ ");
        }
        let code = *self.colours.entry(prefix.to_string()).or_insert(PALETTE[hash(prefix) % PALETTE.len()]);
        format!("\u{1b}[{code}m{padded}\u{1b}[0m \u{1b}[2m│\u{1b}[0m ")
    }

    /// Prints one log line of a branch as JSON.
    pub fn json_line(&mut self, batch: &str, job: &JobRef, container: &str, ts: Option<i64>, line: &SafeLine) {
        let time = ts.map(|t| {
            let mut v = Vec::new();
            kube_grammar::time::format_rfc3339_nano(t, &mut v);
            String::from_utf8_lossy(&v).into_owned()
        });
        let record = serde_json::json!({"batch": batch, "branch": job.to_string(), "container": container, "time": time, "line": line.plain()});
        let _ = writeln!(self.out, "{record}");
    }

    /// Whether lines are JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints one log line of a branch.
    pub fn line(&mut self, tenant: &str, job: &JobRef, container: Option<&str>, ts: Option<i64>, line: &SafeLine) {
        let mut prefix = Printer::prefix(tenant, job, self.with_tenant);
        if let Some(c) = container {
            prefix = format!("{prefix}:{c}");
        }
        let head = self.coloured(&prefix);
        let stamp = match (self.timestamps, ts) {
            (true, Some(t)) => {
                let mut v = Vec::new();
                kube_grammar::time::format_rfc3339_nano(t, &mut v);
                format!("{} ", String::from_utf8_lossy(&v))
            }
            _ => String::new(),
        };
        let text = if self.colour { line.to_ansi() } else { line.plain() };
        let _ = writeln!(self.out, "{head}{stamp}{text}");
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }

    /// Prints a status line of a branch (started, succeeded, failed …), dimmed.
    pub fn status(&mut self, tenant: &str, job: &JobRef, text: &str) {
        if self.json {
            return;
        }
        let head = self.coloured(&Printer::prefix(tenant, job, self.with_tenant));
        let body = if self.colour {
            format!("\u{1b}[2m── {}\u{1b}[0m", safe(text))
        } else {
            format!("── {}", safe(text))
        };
        let _ = writeln!(std::io::stdout(), "{head}{body}");
    }
}

/// The summary of one batch: a header line and a branch table.
pub fn summary(batch: &Batch, now: Timestamp) -> String {
    let c = batch.counts();
    let mut out = format!(
        "batch {}  {} ({})  {}  {} branches: {} succeeded, {} failed, {} cancelled, {} running, {} pending\n",
        batch.id,
        safe(&batch.tenant_name),
        safe(&batch.region),
        safe(&batch.operation),
        c.total(),
        c.succeeded,
        c.failed,
        c.cancelled,
        c.running,
        c.pending
    );
    let mut t = Table::new(&["BRANCH", "PHASE", "EXIT", "DURATION", "ATTEMPT", "LAST LINE / REASON"]);
    // A big batch lists only what needs attention.
    let brief = batch.branches.len() > SUMMARY_ALL_UP_TO;
    for b in batch.branches.values().filter(|b| !brief || b.phase() != Phase::Succeeded) {
        let a = b.current();
        let exit = b.exit_code().map(|c| c.to_string()).unwrap_or_else(|| "-".into());
        // A branch that ended without a pod (its Argo bridge failed first): its node's times.
        let node_took = || {
            let n = b.node.as_ref()?;
            Some(n.finished.unwrap_or(now).duration_since(n.started?))
        };
        let duration = a.and_then(|a| a.duration(now)).or_else(node_took).map(human).unwrap_or_else(|| "-".into());
        let phase = b.phase();
        let detail = match (phase, a.and_then(|a| a.reason.clone())) {
            (Phase::Failed | Phase::Cancelled, Some(r)) if b.last_line.is_none() => r,
            _ => b.last_line.clone().unwrap_or_default(),
        };
        let mut detail = safe(&detail);
        if detail.chars().count() > 80 {
            detail = detail.chars().take(79).collect::<String>() + "…";
        }
        t.row(vec![
            safe(&b.job.to_string()),
            phase.as_str().into(),
            exit,
            duration,
            a.map_or(1, |a| a.number).to_string(),
            detail,
        ]);
    }
    if !t.is_empty() {
        out.push_str(&t.render());
    }
    if brief {
        out.push_str(&format!("({} succeeded branches not listed; -o json shows every branch)\n", c.succeeded));
    }
    out
}

/// Batches with more branches than this list only the branches that did not succeed.
pub const SUMMARY_ALL_UP_TO: usize = 30;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(human(jiff::SignedDuration::from_millis(850)), "850ms");
        assert_eq!(human(jiff::SignedDuration::from_millis(7200)), "7.2s");
        assert_eq!(human(jiff::SignedDuration::from_secs(185)), "3m05s");
        assert_eq!(human(jiff::SignedDuration::from_secs(3720)), "1h02m");
    }
}
