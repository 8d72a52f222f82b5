//! The doctor's report as text: what `tlc doctor` prints and the console's `:doctor` shows, the
//! same lines in both. Values from the cluster are sanitised (an annotation key is untrusted text).

use super::{Report, Status};
use crate::cli::output::{Table, safe};

fn mark(status: Status) -> &'static str {
    match status {
        Status::Ok => "ok",
        Status::Note => "note",
        Status::Fail => "FAIL",
    }
}

/// The report as lines of text (no trailing newlines).
pub fn lines(report: &Report) -> Vec<String> {
    let mut out = vec![format!(
        "tlc doctor: engine {}, lifecycle annotation {}",
        report.engine.as_str(),
        safe(&report.annotation)
    )];
    for r in &report.regions {
        out.push(String::new());
        out.push(format!(
            "{} (context {}): {}",
            r.region,
            r.context,
            if r.ready { "ready to trigger" } else { "NOT ready to trigger" }
        ));
        let width = r.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
        for c in &r.checks {
            out.push(format!("  {:<4}  {:<width$}  {}", mark(c.status), c.check, safe(&c.detail)));
            if let Some(hint) = &c.hint {
                out.push(format!("  {:<4}  {:<width$}  {}", "", "", safe(hint)));
            }
        }
        for c in r.candidates.iter().skip(1) {
            out.push(format!(
                "  {:<4}  {:<width$}  also on suspended Jobs: {} ({} Jobs)",
                "",
                "",
                safe(&c.key),
                c.jobs
            ));
        }
        if !r.permissions.is_empty() {
            let mut t = Table::new(&["ALLOWED", "VERB", "RESOURCE", "NAMESPACE", "TRIGGER", "NEEDED FOR"]);
            for p in &r.permissions {
                t.row(vec![
                    match p.allowed {
                        Some(true) => "yes".into(),
                        Some(false) => "DENIED".into(),
                        None => "unknown".into(),
                    },
                    p.verb.into(),
                    p.resource.clone(),
                    p.namespace.as_deref().map_or_else(|| "(all)".into(), safe),
                    if p.required { "needed".into() } else { String::new() },
                    p.needed_for.into(),
                ]);
            }
            out.push(String::new());
            out.extend(t.render().lines().map(|l| format!("  {l}")));
        }
    }
    out.push(String::new());
    let not_ready: Vec<&str> = report.regions.iter().filter(|r| !r.ready).map(|r| r.region.as_str()).collect();
    out.push(if report.regions.is_empty() {
        "no region to examine".into()
    } else if not_ready.is_empty() {
        format!(
            "ready to trigger in {}",
            report.regions.iter().map(|r| r.region.as_str()).collect::<Vec<_>>().join(", ")
        )
    } else {
        format!("not ready to trigger in {}: fix what says FAIL above", not_ready.join(", "))
    });
    out
}
