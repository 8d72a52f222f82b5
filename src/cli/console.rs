//! `tlc` (no command) and `tlc demo`: the interactive console, on the kubeconfig's regions or on
//! the embedded demo estate.

use clap::Args;

use super::session::{GlobalArgs, Session};
use crate::config::{RegionContext, TenantSource};
use crate::demo;
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::regions::{Region, Regions};
use crate::tui::runtime::{Console, run};
use embedded_cluster::ClusterConfig;
use embedded_cluster::sim::{DEMO_REGIONS, Sim};

/// Options of `tlc demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated time per real second (1 = real time; 10 runs the demo jobs ten times faster).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub speed: f64,
    /// Open without the run an Argo Events Sensor starts as the demo opens (a quiet estate).
    #[arg(long)]
    pub no_sensor_run: bool,
}

fn refuse_without_terminal() -> Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Error::Input(
            "the console needs a terminal (stdin and stdout); for scripts use the commands: tlc --help".into(),
        ));
    }
    Ok(())
}

/// Opens the console on the configured regions.
pub async fn open(global: &GlobalArgs) -> Result<u8> {
    refuse_without_terminal()?;
    let session = Session::open(global).await?;
    let console = Console { config: session.config, regions: session.regions, theme_dir: global.theme_dir() };
    run(console).await
}

/// Serves the demo estate in-process and opens the console on it.
pub async fn demo(global: &GlobalArgs, args: DemoArgs) -> Result<u8> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(Error::Input(format!("--speed must be a positive number, got {}", args.speed)));
    }
    refuse_without_terminal()?;
    let mut config = global.load_config()?;
    let configs = DEMO_REGIONS.iter().map(|r| ClusterConfig::new(r).with_time_scale(1.0 / args.speed)).collect();
    let sim = Sim::start(configs).await.map_err(|e| Error::Setup(format!("cannot start the demo clusters: {e}")))?;
    let mut regions = Vec::new();
    let mut controllers = Vec::new();
    for c in sim.clusters() {
        demo::examples::seed(c.store(), c.name())
            .map_err(|e| Error::Setup(format!("cannot seed the demo estate: {e}")))?;
        controllers.push(
            demo::argo::equip(c).map_err(|e| Error::Setup(format!("cannot install the Argo kit: {e}")))?.controller,
        );
        let client = c.client().await.map_err(|e| Error::Setup(format!("demo region {}: {e}", c.name())))?;
        regions.push(Region { name: c.name().to_string(), context: c.name().to_string(), url: c.url(), client });
    }
    // A run no console started: what an Argo Events Sensor submits when a request arrives.
    if let Some(c) = sim.region("eu-west").filter(|_| !args.no_sensor_run) {
        let client = c.client().await.map_err(|e| Error::Setup(format!("demo region eu-west: {e}")))?;
        demo::argo::submit_as_sensor(&client, "umbrella-prod", "lifecycle.upsert", "reason: nightly reconcile\n")
            .await
            .map_err(|e| Error::Setup(format!("cannot start the demo's Sensor run: {e}")))?;
    }
    // The demo estate's conventions, whatever the user's file says about real clusters.
    config.cluster.contexts =
        DEMO_REGIONS.iter().map(|r| RegionContext { region: r.to_string(), context: r.to_string() }).collect();
    if global.annotation.is_none() {
        config.lifecycle.annotation = demo::generated::ANNOTATION.to_string();
    }
    config.lifecycle.namespaces.clear();
    let defaults = crate::config::Config::defaults().map_err(|e| Error::Setup(e.to_string()))?;
    if !matches!(config.tenants.source, TenantSource::ConfigMaps { .. }) || global.tenant_namespace.is_none() {
        config.tenants = defaults.tenants;
    }
    let console = Console { config, regions: Regions::new(regions), theme_dir: global.theme_dir() };
    let result = run(console).await;
    drop(controllers);
    sim.shutdown().await;
    result
}
