//! `tlc discover`: the discovery step of the Argo WorkflowTemplate. By default it prints the seed's
//! JSON — `[{"name":…,"namespace":…}]`, stable order, runnable Jobs only — for a `withParam`;
//! `--output wide|json` shows every lifecycle Job with its problems instead.

use clap::Args;

use super::jobs::JobView;
use super::output::{Table, print_json, safe};
use super::session::{GlobalArgs, Session};
use crate::contract::Operation;
use crate::lifecycle::discovery;
use crate::lifecycle::error::{Error, Result};

/// `tlc discover` output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DiscoverFormat {
    /// `[{"name":…,"namespace":…}]` of the runnable Jobs (for Argo's withParam).
    #[default]
    Seed,
    /// A table of every lifecycle Job handling the operation, with problems.
    Wide,
    /// JSON of every lifecycle Job handling the operation, with problems.
    Json,
}

/// Options of `tlc discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The operation to discover Jobs for.
    #[arg(long)]
    pub operation: String,
    /// The region (default: the first configured, or the in-cluster one).
    #[arg(long)]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: DiscoverFormat,
}

/// Runs `tlc discover`.
pub async fn run(global: &GlobalArgs, args: DiscoverArgs) -> Result<u8> {
    let operation = Operation::new(&args.operation).map_err(|e| Error::Input(format!("--operation: {e}")))?;
    let session = Session::open(global).await?;
    let region = match &args.region {
        Some(r) => session.regions.require(r)?,
        None => session.regions.iter().next().ok_or_else(|| Error::Setup("no region configured".into()))?,
    };
    let jobs = discovery::discover(&region.client, &region.name, &session.scope()).await?;
    let relevant: Vec<_> = jobs.iter().filter(|j| j.handles(operation.as_str()) || j.operations.is_empty()).collect();
    match args.output {
        DiscoverFormat::Seed => println!("{}", discovery::seed_json(&jobs, operation.as_str())),
        DiscoverFormat::Json => print_json(&relevant.iter().map(|j| JobView::new(&region.name, j)).collect::<Vec<_>>()),
        DiscoverFormat::Wide => {
            let mut t = Table::new(&["NAMESPACE", "NAME", "RUNS", "PROBLEMS"]);
            for j in relevant {
                let runs = if j.is_runnable() && j.handles(operation.as_str()) { "yes" } else { "no" };
                let problems: Vec<String> = j.problems.iter().map(ToString::to_string).collect();
                t.row(vec![safe(&j.job.namespace), safe(&j.job.name), runs.into(), safe(&problems.join("; "))]);
            }
            print!("{}", t.render());
        }
    }
    Ok(0)
}
