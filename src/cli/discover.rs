//! `tlc discover`: the discovery step of the Argo WorkflowTemplate (see `steps::discover`), usable by
//! hand too. By default it prints the seed's JSON — `[{"name":…,"namespace":…}]`, stable order,
//! runnable Jobs only — for a `withParam`; `--output wide|json` shows every lifecycle Job with its
//! problems instead.

use clap::Args;

use super::session::{GlobalArgs, Session};
use crate::lifecycle::error::Result;
use crate::steps::{self, ProcessEnv};

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
    /// Check this tenant (id or name) exists in the region and can be used; fail otherwise.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The batch id to settle (empty or absent: a new UUIDv7), written to `--outputs`.
    #[arg(long)]
    pub batch: Option<String>,
    /// Only these Jobs, comma-separated `NAMESPACE/NAME` (a team operation's pick); empty: every Job.
    #[arg(long)]
    pub jobs: Option<String>,
    /// The changeset the run carries (its digest goes into the record of a run submitted without a
    /// batch id).
    #[arg(long, value_name = "TEXT")]
    pub changeset_yaml: Option<String>,
    /// The Workflow this step runs in (`NAMESPACE/NAME`), named in the record of a run submitted
    /// without a batch id.
    #[arg(long, value_name = "NAMESPACE/NAME")]
    pub workflow: Option<String>,
    /// Also write `jobs.json` and `batch` into this directory (Argo's output parameters).
    #[arg(long, value_name = "DIR")]
    pub outputs: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: DiscoverFormat,
}

/// Runs `tlc discover` in this process.
pub async fn run(global: &GlobalArgs, args: DiscoverArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    steps::discover::run(&ProcessEnv::new(), &session, &args).await
}
