//! The command line: parsing with clap and running the chosen command. Errors reach the user as one
//! clear message and a non-zero exit code.

pub mod sim;

use clap::{Parser, Subcommand};

/// tlc, the tenant lifecycle console.
#[derive(Debug, Parser)]
#[command(name = "tlc", version, about = "tlc, the tenant lifecycle console", long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the embedded Kubernetes cluster(s) until interrupted, and write a kubeconfig for kubectl.
    Sim(sim::SimArgs),
}

/// Runs the parsed command line; the `Err` text is printed by `main`.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Sim(args) => sim::run(args).await,
    }
}
