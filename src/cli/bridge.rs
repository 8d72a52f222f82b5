//! `tlc bridge`: the bridge step of the Argo WorkflowTemplate (see `steps::bridge`), usable by hand
//! too: it runs one branch and exits with its container's exit code — or 125 with a message when
//! the bridge itself fails, like `docker run`.

use std::path::PathBuf;

use clap::Args;

use super::session::{GlobalArgs, Session};
use crate::contract::Engine;
use crate::lifecycle::error::{Error, Result};
use crate::steps::{self, ProcessEnv};

/// The exit code of a bridge that failed itself (not the team's container).
pub const BRIDGE_FAILED: u8 = 125;

/// Options of `tlc bridge`.
#[derive(Debug, Args)]
pub struct BridgeArgs {
    /// The lifecycle Job, `NAMESPACE/NAME`.
    #[arg(long)]
    pub job: String,
    /// The tenant: its id or name.
    #[arg(long)]
    pub tenant: String,
    /// The operation.
    #[arg(long)]
    pub operation: String,
    /// The batch id (one per triggered operation; the workflow's).
    #[arg(long)]
    pub batch: String,
    /// The changeset file (YAML); default an empty changeset.
    #[arg(long, value_name = "FILE", conflicts_with = "changeset_yaml")]
    pub changeset: Option<PathBuf>,
    /// The changeset itself (YAML text; empty: `{}`), as the WorkflowTemplate passes it.
    #[arg(long, value_name = "YAML")]
    pub changeset_yaml: Option<String>,
    /// Attempt number (default: the branch's running attempt, or the next after a failed one).
    #[arg(long)]
    pub attempt: Option<u32>,
    /// Region (default: the first configured, or the in-cluster one).
    #[arg(long)]
    pub region: Option<String>,
    /// Engine label to put on the branch.
    #[arg(long, value_enum, default_value_t = Engine::Argo)]
    pub engine: Engine,
    /// The migration this batch is half of (its migrate-out batch id; empty: none).
    #[arg(long, value_name = "BATCH")]
    pub migration: Option<String>,
    /// The region the migration moves the tenant to.
    #[arg(long, value_name = "REGION")]
    pub migration_target: Option<String>,
}

/// Reads and checks a changeset file (default: an empty changeset).
pub fn read_changeset(path: Option<&PathBuf>) -> Result<String> {
    let Some(path) = path else { return Ok("{}\n".into()) };
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input(format!("changeset {}: {e}", path.display())))?;
    steps::bridge::check_changeset(&text, &path.display().to_string())
}

/// Runs `tlc bridge` in this process; the exit code is the container's.
pub async fn run(global: &GlobalArgs, args: BridgeArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    steps::bridge::run(&ProcessEnv::new(), &session, &args).await
}
