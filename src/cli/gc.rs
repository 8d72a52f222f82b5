//! `tlc gc`: retention (see [`crate::lifecycle::retention`]). A preview of what goes in every region
//! (with its time and the API requests it made), a confirmation (`--yes` for scripts; refused when
//! read-only), then the removal (its time and requests too).

use clap::Args;

use super::confirm::{Ask, confirm};
use super::output::{Format, Table, print_json, safe};
use super::printer::human;
use super::session::{GlobalArgs, Session};
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::retention::{self, GcPlan, Retention};

/// Options of `tlc gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// Remove the pods of finished batches that ended longer ago than this (`7d`, `24h`, `90m`);
    /// overrides `retention.older_than`.
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Keep the pods of the last N batches per tenant and operation; overrides `retention.keep_last`.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Remove records of batches without pods triggered longer ago than this; overrides
    /// `retention.records_older_than`.
    #[arg(long, value_name = "AGE")]
    pub records_older_than: Option<String>,
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Show what would go, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask.
    #[arg(long)]
    pub yes: bool,
    /// Output format of the preview (`json`: the plans; nothing is removed without --yes).
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// A region's rules (`retention_for`), with the command line's flags over them.
fn retention_of(base: &Retention, args: &GcArgs) -> Result<Retention> {
    let age = |flag: &str, text: &Option<String>| {
        text.as_deref().map(|t| retention::parse_age(t).map_err(|e| Error::Input(format!("{flag} {e}")))).transpose()
    };
    let mut r = base.clone();
    if let Some(a) = age("--older-than", &args.older_than)? {
        r.older_than = Some(a);
    }
    if let Some(n) = args.keep {
        r.keep_last = (n > 0).then_some(n);
    }
    if let Some(a) = age("--records-older-than", &args.records_older_than)? {
        r.records_older_than = Some(a);
    }
    Ok(r)
}

fn print_plan(plan: &GcPlan, wide: bool, now: jiff::Timestamp) {
    println!("{}", plan.summary());
    if plan.batches.is_empty() {
        return;
    }
    const SHOWN: usize = 20;
    let mut t = Table::new(&["BATCH", "TENANT", "OPERATION", "ENDED", "PODS"]);
    let shown = if wide { plan.batches.len() } else { SHOWN.min(plan.batches.len()) };
    for d in &plan.batches[..shown] {
        t.row(vec![
            d.batch_id.clone(),
            safe(&d.tenant),
            safe(&d.operation),
            d.ended.map(|e| format!("{} ago", human(now.duration_since(e)))).unwrap_or_else(|| "-".into()),
            d.pods.len().to_string(),
        ]);
    }
    print!("{}", t.render());
    if shown < plan.batches.len() {
        println!("… and {} more batches (-o wide lists them all)", plan.batches.len() - shown);
    }
}

/// Runs `tlc gc`.
pub async fn run(global: &GlobalArgs, args: GcArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let now = jiff::Timestamp::now();
    let previews =
        retention::preview_regions(&session.config, &session.regions, &regions, |r| retention_of(r, &args), now)
            .await?;
    match args.output {
        Format::Json => print_json(&previews.plans),
        Format::Table | Format::Wide => {
            println!("tlc gc: {}", previews.rules.join("; "));
            for plan in &previews.plans {
                print_plan(plan, args.output == Format::Wide, now);
            }
            println!(
                "preview took {} ms: {} API requests (lists of branch pods, Workflows and records, page by page)",
                previews.took.as_millis(),
                previews.requests()
            );
        }
    }
    let (pods, records) = (previews.pods(), previews.records());
    if pods == 0 && records == 0 {
        println!("nothing to remove");
        return Ok(0);
    }
    if args.dry_run {
        return Ok(0);
    }
    let ask = Ask::YesNo(format!("Remove {pods} branch pods and {records} records?"));
    confirm("remove them", &ask, args.yes, session.config.run.read_only)?;
    let (removed, took) = retention::remove_all(&session.config, &session.regions, &previews.plans).await?;
    println!("{}", removed.summary(took));
    Ok(0)
}
