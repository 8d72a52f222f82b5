//! `tlc logs BATCH`: the logs of a batch's branches, stern-style — what there is, or (with
//! `--follow`) live until every branch has finished. Works for any batch in the cluster, whoever
//! started it: the branches are found by their labels.

use clap::Args;

use super::live::{LiveOptions, follow_batches};
use super::output::colour;
use super::printer::summary;
use super::runs::find_batch;
use super::session::{GlobalArgs, Session};
use crate::contract::JobRef;
use crate::lifecycle::error::{Error, Result};

/// Options of `tlc logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The batch id, or its Workflow's name.
    pub batch: String,
    /// Only these branches, `NAMESPACE/NAME` of their Job (repeatable).
    #[arg(long = "branch", value_name = "NS/NAME")]
    pub branches: Vec<String>,
    /// Follow until every branch has finished.
    #[arg(long, short)]
    pub follow: bool,
    /// Prefix lines with the kubelet's timestamps.
    #[arg(long)]
    pub timestamps: bool,
    /// Only look in these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Output: text lines with a branch prefix, or one JSON object per line.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: LogsFormat,
}

/// `tlc logs` output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogsFormat {
    /// `namespace/job │ line`, coloured on a terminal.
    #[default]
    Text,
    /// `{"batch", "branch", "container", "time", "line"}` per line.
    Json,
}

/// Runs `tlc logs`; exit code 3 when the batch has failed branches, 1 when logs are incomplete.
pub async fn run(global: &GlobalArgs, args: LogsArgs) -> Result<u8> {
    let branches = args
        .branches
        .iter()
        .map(|b| JobRef::parse(b).ok_or_else(|| Error::Input(format!("--branch must be NAMESPACE/NAME, got \"{b}\""))))
        .collect::<Result<Vec<_>>>()?;
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let (state, batch) = find_batch(&session, &regions, &args.batch).await?;
    if batch.from_record {
        eprintln!(
            "tlc: batch {}'s pods are gone, and their logs with them: its record keeps each branch's phase, exit code and last line (below)",
            batch.id
        );
    }
    // A Workflow still in discovery does not know its branches yet.
    for b in branches.iter().filter(|_| !crate::lifecycle::run::is_stand_in(&batch.id)) {
        if !batch.branches.contains_key(b) {
            return Err(Error::Input(format!("batch {} has no branch {b}", batch.id)));
        }
    }
    let options = LiveOptions {
        follow: args.follow,
        lines: true,
        status: true,
        colour: colour() && args.output == LogsFormat::Text,
        with_tenant: false,
        timestamps: args.timestamps,
        branches,
        stream_limit: 64,
        json: args.output == LogsFormat::Json,
        argo_namespace: Some(session.config.run.argo_namespace.clone()),
    };
    let live =
        follow_batches(&session.regions, &[(batch.region.clone(), batch.id.clone())], state, None, options).await;
    for e in &live.stream_errors {
        eprintln!("tlc: log stream incomplete: {e}");
    }
    if live.detached {
        return Ok(super::run::DETACHED);
    }
    let now = jiff::Timestamp::now();
    // A batch first known by its Workflow (discovery had not named it) goes by its id now.
    let id = live.state.resolve(&batch.id);
    if let Some(b) = live.state.batches.get(id) {
        eprintln!();
        eprint!("{}", summary(b, now));
    }
    let failed = live.state.batches.get(id).is_some_and(|b| b.counts().failed + b.counts().cancelled > 0);
    Ok(if !live.stream_errors.is_empty() {
        1
    } else if failed {
        super::run::BRANCHES_FAILED
    } else {
        0
    })
}
