//! `tlc sim`: the embedded cluster(s) on their own, for kubectl and other tools.

use crate::lifecycle::error::Error;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use crate::demo::{self, GeneratedEstate};
use embedded_cluster::ClusterConfig;
use embedded_cluster::sim::{DEMO_REGIONS, Sim};

/// Options of `tlc sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Where to write the kubeconfig (one context per region, plus a read-only `REGION-viewer`).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Regions to serve, each its own cluster.
    #[arg(long, value_delimiter = ',', default_values_t = DEMO_REGIONS.iter().map(|s| s.to_string()).collect::<Vec<_>>())]
    pub regions: Vec<String>,
    /// First port to listen on (region N gets PORT+N); 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Simulated time per real second (1 = real time; 10 runs demo jobs ten times faster).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub speed: f64,
    /// What to seed each region with.
    #[arg(long, value_enum, default_value_t = EstateKind::Demo)]
    pub estate: EstateKind,
    /// Generated estate: tenants per region.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub tenants: usize,
    /// Generated estate: team namespaces per region.
    #[arg(long, default_value_t = 100, value_name = "M")]
    pub namespaces: usize,
    /// Generated estate: lifecycle Jobs per namespace.
    #[arg(long, default_value_t = 10, value_name = "K")]
    pub jobs: usize,
    /// Generated estate: log lines each Job prints.
    #[arg(long, default_value_t = 100, value_name = "LINES")]
    pub log_lines: usize,
    /// Generated estate: log lines per second each Job prints (simulated time, so --speed
    /// multiplies it); 0 prints as fast as the kubelet interprets the script.
    #[arg(long, default_value_t = 0, value_name = "LINES_PER_SECOND")]
    pub log_rate: usize,
    /// Generated estate: finished branch pods of past upsert batches per region (10 per batch,
    /// one batch per tenant round-robin, one in 25 failed), as the direct engine leaves them.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub pods: usize,
    /// Generated estate: records (run.records_namespace) of older batches whose pods are gone, per
    /// region, each with its trigger and outcome.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub records: usize,
}

/// Seed data for `tlc sim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EstateKind {
    /// The demo estate (deploy/examples): 12 tenants, 8 team namespaces.
    Demo,
    /// Nothing but the system namespaces.
    Empty,
    /// A generated estate sized by --tenants, --namespaces, --jobs, --log-lines, --log-rate, --pods.
    Generated,
}

fn default_kubeconfig() -> PathBuf {
    directories::ProjectDirs::from("dev", "tlc", "tlc")
        .map(|d| d.data_dir().join("sim").join("kubeconfig"))
        .unwrap_or_else(|| PathBuf::from("tlc-sim.kubeconfig"))
}

/// Runs `tlc sim` until Ctrl-C or SIGTERM.
pub async fn run(args: SimArgs) -> Result<(), Error> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(Error::Input(format!("--speed must be a positive number, got {}", args.speed)));
    }
    let configs = args
        .regions
        .iter()
        .enumerate()
        .map(|(i, region)| {
            let mut c = ClusterConfig::new(region).with_time_scale(1.0 / args.speed);
            if args.port != 0 {
                c.bind = SocketAddr::from(([127, 0, 0, 1], args.port.saturating_add(i as u16)));
            }
            c
        })
        .collect();
    let generated_only =
        [("--pods", args.pods != 0), ("--log-rate", args.log_rate != 0), ("--records", args.records != 0)];
    if args.estate != EstateKind::Generated
        && let Some((flag, _)) = generated_only.iter().find(|(_, set)| *set)
    {
        return Err(Error::Input(format!("{flag} applies to the generated estate only (add --estate generated)")));
    }
    let sim = Sim::start(configs).await.map_err(|e| Error::Setup(e.to_string()))?;
    let mut seeded = Vec::new();
    let mut controllers = Vec::new();
    for c in sim.clusters() {
        let count = match args.estate {
            EstateKind::Demo => demo::examples::seed(c.store(), c.name()).map_err(|e| Error::Setup(e.to_string()))?,
            EstateKind::Empty => 0,
            EstateKind::Generated => GeneratedEstate {
                tenants: args.tenants,
                namespaces: args.namespaces,
                jobs_per_namespace: args.jobs,
                log_lines: args.log_lines,
                log_rate: args.log_rate,
                branch_pods: args.pods,
                records: args.records,
            }
            .seed(c.store(), c.name())
            .map_err(|e| Error::Setup(e.to_string()))?,
        };
        let kit = match args.estate {
            EstateKind::Empty => 0,
            EstateKind::Demo | EstateKind::Generated => {
                let equipped =
                    demo::argo::equip(c).map_err(|e| Error::Setup(format!("cannot install the Argo kit: {e}")))?;
                controllers.push(equipped.controller);
                equipped.objects
            }
        };
        seeded.push(count + kit);
    }
    let path = args.kubeconfig.unwrap_or_else(default_kubeconfig);
    sim.write_kubeconfig(&path).map_err(|e| Error::Setup(e.to_string()))?;
    let tlc_config = path.with_file_name("tlc.toml");
    write_tlc_config(&tlc_config, &path, &args.regions, args.estate)?;
    println!("tlc sim: {} embedded cluster(s) on loopback", sim.clusters().len());
    for (c, count) in sim.clusters().iter().zip(&seeded) {
        println!("  {:<10} {}   ({count} objects seeded)", c.name(), c.url());
    }
    println!();
    println!("kubeconfig: {}", path.display());
    println!("  export KUBECONFIG={}", path.display());
    let first = sim.clusters().first().map(|c| c.name().to_string()).unwrap_or_default();
    println!("  kubectl --context {first} get jobs -A");
    println!("  kubectl --context {first}-viewer get pods -A      # a read-only user");
    println!();
    println!("tlc configuration for these regions: {}", tlc_config.display());
    println!("  export TLC_CONFIG={}", tlc_config.display());
    println!("  tlc tenants");
    println!("  tlc run --tenant acme-prod --operation lifecycle.upsert");
    println!();
    println!("Serving until interrupted (Ctrl-C).");
    wait_for_termination().await;
    drop(controllers);
    sim.shutdown().await;
    Ok(())
}

/// Writes a tlc configuration for the simulated regions (their contexts, the estate's annotation),
/// so that `TLC_CONFIG=… tlc tenants` works against them. Never overwrites a file it did not write.
fn write_tlc_config(
    path: &std::path::Path,
    kubeconfig: &std::path::Path,
    regions: &[String],
    estate: EstateKind,
) -> Result<(), Error> {
    const MARKER: &str = "# Written by `tlc sim` for its embedded clusters.";
    if let Ok(existing) = std::fs::read_to_string(path)
        && !existing.starts_with(MARKER)
    {
        return Err(Error::Setup(format!("refusing to overwrite {}: `tlc sim` did not write it", path.display())));
    }
    let annotation = match estate {
        EstateKind::Demo | EstateKind::Generated => crate::demo::generated::ANNOTATION,
        EstateKind::Empty => "tlc.dev/lifecycle",
    };
    let contexts: Vec<String> = regions.iter().map(|r| format!("{r:?}")).collect();
    let text = format!(
        "{MARKER}\n[cluster]\nkubeconfig = {:?}\ncontexts = [{}]\n\n[lifecycle]\nannotation = {annotation:?}\n",
        kubeconfig.display().to_string(),
        contexts.join(", ")
    );
    std::fs::write(path, text).map_err(Error::io(format!("write {}", path.display())))
}

async fn wait_for_termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
