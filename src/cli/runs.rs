//! `tlc runs`: every batch in the clusters, live and finished, rebuilt from labelled pods — this
//! console's, another console's, or Argo's.

use clap::Args;
use jiff::Timestamp;

use super::output::{Format, Table, print_json, safe};
use super::printer::human;
use super::session::{GlobalArgs, Session, report};
use crate::lifecycle::error::Result;
use crate::lifecycle::run::{Batch, RunState, update};
use crate::lifecycle::watch::{list_branch_pods, list_workflows};

/// Options of `tlc runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// Batches of the given regions, merged, with the regions that could not be read.
pub async fn batches(
    session: &Session,
    regions: &[String],
    selector: Option<&str>,
) -> (RunState, Vec<crate::lifecycle::error::Error>) {
    let namespace = &session.config.run.argo_namespace;
    let reads = regions.iter().filter_map(|r| session.regions.get(r)).map(|r| async move {
        futures::join!(
            list_workflows(&r.client, &r.name, namespace, selector),
            list_branch_pods(&r.client, &r.name, selector)
        )
    });
    let mut state = RunState::default();
    let mut errors = Vec::new();
    for (workflows, pods) in futures::future::join_all(reads).await {
        // Workflows first, then the branch pods: one model, each branch seen both ways.
        for events in [workflows, pods] {
            match events {
                Ok(events) => events.into_iter().for_each(|e| update(&mut state, e)),
                Err(e) => errors.push(e),
            }
        }
    }
    (state, errors)
}

/// One batch as a table row.
pub fn row(b: &Batch, now: Timestamp) -> Vec<String> {
    let c = b.counts();
    let age = b.started.map(|s| human(now.duration_since(s))).unwrap_or_else(|| "-".into());
    vec![
        b.id.clone(),
        safe(&b.region),
        safe(&b.tenant_name),
        safe(&b.operation),
        b.engine_name().to_string(),
        age,
        format!(
            "{}/{} ok, {} failed, {} running",
            c.succeeded,
            c.total(),
            c.failed + c.cancelled,
            c.running + c.pending
        ),
        b.phase().as_str().into(),
    ]
}

/// Runs `tlc runs`.
pub async fn run(global: &GlobalArgs, args: RunsArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let (state, errors) = batches(&session, &regions, None).await;
    match args.output {
        Format::Json => print_json(&state.batches.values().collect::<Vec<_>>()),
        Format::Table | Format::Wide => {
            let now = Timestamp::now();
            let mut t = Table::new(&["BATCH", "REGION", "TENANT", "OPERATION", "ENGINE", "AGE", "PROGRESS", "PHASE"]);
            for b in state.batches.values().rev() {
                t.row(row(b, now));
            }
            if t.is_empty() {
                println!("No batches in {}.", regions.join(", "));
            } else {
                print!("{}", t.render());
            }
        }
    }
    report(&errors);
    Ok(u8::from(!errors.is_empty()))
}
