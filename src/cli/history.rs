//! `tlc history`: who triggered, cancelled and retried what, from the batch records of every region
//! (so the whole team sees one history, long after the Events expired), with this machine's local
//! history as the fallback for what could not be written into a cluster.

use clap::Args;
use jiff::Timestamp;

use super::output::{Format, Table, print_json, safe};
use super::printer::human;
use super::session::{GlobalArgs, Session};
use crate::audit::{history, record};
use crate::lifecycle::error::{Error, Result};

/// Options of `tlc history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this tenant (name or id).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only this operation.
    #[arg(long)]
    pub operation: Option<String>,
    /// Only actions by someone whose name contains this (`alice`, `via eu-west`).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only actions since this: a duration back from now (`90m`, `24h`, `7d`) or an RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// Reads `--since`: `90m`, `24h`, `7d` back from `now`, or an RFC 3339 time.
pub fn since(text: &str, now: Timestamp) -> Result<Timestamp> {
    let bad = || {
        Error::Input(format!("--since {text:?}: expected a duration back from now (90m, 24h, 7d) or an RFC 3339 time"))
    };
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    crate::lifecycle::retention::parse_age(text).map(|age| now - age).map_err(|_| bad())
}

/// Runs `tlc history`.
pub async fn run(global: &GlobalArgs, args: HistoryArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let now = Timestamp::now();
    let since = args.since.as_deref().map(|s| since(s, now)).transpose()?;
    let namespace = &session.config.run.records_namespace;
    let local = history::history_path();
    let (mut entries, problems) = record::team_history(&session.regions, &regions, namespace, local.as_deref()).await;
    entries.retain(|e| {
        let r = &e.record;
        args.tenant.as_deref().is_none_or(|t| r.tenant_name == t || r.tenant_id == t)
            && args.operation.as_deref().is_none_or(|o| r.operation == o)
            && args.actor.as_deref().is_none_or(|a| r.who.contains(a))
            && since.is_none_or(|s| r.at >= s)
    });
    match args.output {
        Format::Json => print_json(&entries),
        Format::Table | Format::Wide => {
            if entries.is_empty() {
                println!(
                    "No audited action in {} (batch records in namespace {namespace}, and this machine's history){}.",
                    regions.join(", "),
                    describe_filters(&args)
                );
            } else {
                let mut t = Table::new(&[
                    "WHEN",
                    "ACTION",
                    "OPERATION",
                    "TENANT",
                    "REGION",
                    "BATCH",
                    "WHO",
                    "OUTCOME",
                    "SOURCE",
                ]);
                for e in &entries {
                    let r = &e.record;
                    t.row(vec![
                        format!("{} ago", human(now.duration_since(r.at))),
                        r.action.as_str().into(),
                        safe(&r.operation),
                        safe(&r.tenant_name),
                        safe(&r.region),
                        r.batch_id.clone(),
                        safe(&r.who),
                        safe(&r.outcome),
                        e.source.into(),
                    ]);
                }
                print!("{}", t.render());
            }
        }
    }
    for p in &problems {
        eprintln!("tlc: {p}");
    }
    Ok(u8::from(!problems.is_empty()))
}

fn describe_filters(args: &HistoryArgs) -> String {
    let mut said = Vec::new();
    if let Some(t) = &args.tenant {
        said.push(format!("tenant {t}"));
    }
    if let Some(o) = &args.operation {
        said.push(format!("operation {o}"));
    }
    if let Some(a) = &args.actor {
        said.push(format!("actor containing {a:?}"));
    }
    if let Some(s) = &args.since {
        said.push(format!("since {s}"));
    }
    if said.is_empty() { String::new() } else { format!(" matching {}", said.join(", ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_durations_back_from_now_and_timestamps_and_names_what_is_wrong() {
        let now: Timestamp = "2026-11-30T12:00:00Z".parse().expect("time");
        assert_eq!(since("90m", now).expect("90m").to_string(), "2026-11-30T10:30:00Z");
        assert_eq!(since("7d", now).expect("7d").to_string(), "2026-11-23T12:00:00Z");
        assert_eq!(since("2026-11-01T00:00:00Z", now).expect("rfc3339").to_string(), "2026-11-01T00:00:00Z");
        let e = since("yesterday", now).expect_err("refused").to_string();
        assert_eq!(e, "--since \"yesterday\": expected a duration back from now (90m, 24h, 7d) or an RFC 3339 time");
        assert!(since("5w", now).is_err());
    }
}
