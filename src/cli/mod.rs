//! The command line: parsing with clap and running the chosen command. Errors reach the user as one
//! clear message and an exit code scripts can use (see docs/cli.md).

pub mod bridge;
pub mod config_cmd;
pub mod confirm;
pub mod console;
pub mod discover;
pub mod doctor;
pub mod gc;
pub mod history;
pub mod jobs;
pub mod live;
pub mod logs;
pub mod manage;
pub mod migrate;
pub mod output;
pub mod printer;
pub mod run;
pub mod runs;
pub mod session;
pub mod sim;
pub mod tenants;

use clap::{Parser, Subcommand};

use crate::lifecycle::error::Error;

/// tlc, the tenant lifecycle console.
#[derive(Debug, Parser)]
#[command(name = "tlc", version, about = "tlc, the tenant lifecycle console", long_about = None)]
pub struct Cli {
    /// Options shared by the cluster-facing commands.
    #[command(flatten)]
    pub global: session::GlobalArgs,
    /// What to do (none: open the console on the configured regions).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console on the embedded demo estate (two regions, nothing else needed).
    Demo(console::DemoArgs),
    /// List tenants of every region.
    Tenants(tenants::TenantsArgs),
    /// List discovered lifecycle Jobs and their problems.
    Jobs(jobs::JobsArgs),
    /// Discovery for Argo: the runnable Jobs of an operation as JSON.
    Discover(discover::DiscoverArgs),
    /// Run one branch (the Argo bridge step): create its pod, stream its logs, exit with its code.
    Bridge(bridge::BridgeArgs),
    /// Trigger an operation for tenants, follow every branch, summarise.
    Run(run::RunArgs),
    /// Move tenants to another region: migrate-out, then (if it all succeeded) migrate-in.
    Migrate(migrate::MigrateArgs),
    /// List batches in the clusters (re-attached from labels).
    Runs(runs::RunsArgs),
    /// Logs of a batch's branches.
    Logs(logs::LogsArgs),
    /// Cancel a batch's unfinished branches.
    Cancel(manage::ManageArgs),
    /// Retry a batch's failed and cancelled branches.
    Retry(manage::ManageArgs),
    /// Serve the embedded Kubernetes cluster(s) until interrupted, and write a kubeconfig for kubectl.
    Sim(sim::SimArgs),
    /// Who triggered, cancelled and retried what: the batch records of every region.
    History(history::HistoryArgs),
    /// Retention: remove finished batches' branch pods (and old records), after a preview.
    Gc(gc::GcArgs),
    /// Pre-flight check per region: reachable, lifecycle Jobs, tenants, Argo template, permissions.
    Doctor(doctor::DoctorArgs),
    /// Show the configuration in force (or, with --defaults, the shipped defaults).
    Config(config_cmd::ConfigArgs),
}

/// Exit code: a mutation was refused (read-only mode, not confirmed).
pub const REFUSED: u8 = 4;

/// Why the command line failed: the message for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: u8,
    /// The message.
    pub message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match e {
            Error::Refused(_) => REFUSED,
            _ => 1,
        };
        Failure { code, message: e.to_string() }
    }
}

/// Runs the parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let g = &cli.global;
    if let Some(path) = &g.log_file {
        crate::diagnostics::init(path, &g.log_level)?;
    }
    let Some(command) = cli.command else {
        return console::open(g).await.map_err(Failure::from);
    };
    let result = match command {
        Command::Demo(a) => console::demo(g, a).await,
        Command::Tenants(a) => tenants::run(g, a).await,
        Command::Jobs(a) => jobs::run(g, a).await,
        Command::Discover(a) => discover::run(g, a).await,
        Command::Bridge(a) => {
            return bridge::run(g, a)
                .await
                .map_err(|e| Failure { code: bridge::BRIDGE_FAILED, message: e.to_string() });
        }
        Command::Run(a) => run::run(g, a).await,
        Command::Migrate(a) => migrate::run(g, a).await,
        Command::Runs(a) => runs::run(g, a).await,
        Command::Logs(a) => logs::run(g, a).await,
        Command::Cancel(a) => manage::cancel(g, a).await,
        Command::Retry(a) => manage::retry(g, a).await,
        Command::Sim(a) => sim::run(a).await.map(|()| 0),
        Command::Doctor(a) => doctor::run(g, a).await,
        Command::Gc(a) => gc::run(g, a).await,
        Command::History(a) => history::run(g, a).await,
        Command::Config(a) => config_cmd::run(g, a),
    };
    result.map_err(Failure::from)
}
