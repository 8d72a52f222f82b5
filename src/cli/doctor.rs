//! `tlc doctor`: the pre-flight check of every configured region (see [`crate::doctor`]); exit 0
//! only when everything triggering needs is in place.

use clap::Args;

use super::output::{Format, print_json};
use super::session::{GlobalArgs, Session};
use crate::doctor;
use crate::lifecycle::error::Result;

/// Exit code of `tlc doctor` when something triggering needs is missing in a region.
pub const NOT_READY: u8 = 1;

/// Options of `tlc doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Only these regions (repeatable).
    #[arg(long)]
    pub region: Vec<String>,
    /// Output format (`json` for scripts; `wide` is the same as `table`).
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Format,
}

/// Runs `tlc doctor`.
pub async fn run(global: &GlobalArgs, args: DoctorArgs) -> Result<u8> {
    let session = Session::open(global).await?;
    let regions = session.region_names(&args.region)?;
    let report = doctor::examine(&session.config, &session.regions, &regions).await;
    match args.output {
        Format::Json => print_json(&report),
        Format::Table | Format::Wide => {
            for line in doctor::render::lines(&report) {
                println!("{line}");
            }
        }
    }
    Ok(if report.ready { 0 } else { NOT_READY })
}
