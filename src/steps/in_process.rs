//! `tlc` as a registered binary of an embedded cluster: a container whose command is
//! `tlc discover …` or `tlc bridge …` runs these steps in this process — with its pod's files
//! (the `tlc` ConfigMap mounted at `TLC_CONFIG`), its log, its SIGTERM and its service account's
//! identity — so `tlc demo`, `tlc sim` and the tests run the WorkflowTemplate's steps with the
//! product's own code, and nothing ever runs on the host. The cluster crate knows nothing of tlc:
//! whoever starts a cluster installs [`binary`] under the name `tlc`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use embedded_cluster::kubelet::{Binary, Invocation, Output, PodFs};
use tokio_util::sync::CancellationToken;

use super::StepEnv;
use crate::cli::bridge::BRIDGE_FAILED;
use crate::cli::session::Session;
use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::regions::{Region, Regions};

/// The name the binary is installed under (the template's `command: [tlc]`).
pub const NAME: &str = "tlc";

/// A step's container in an embedded cluster's pod.
struct PodEnv {
    stdout: Output,
    stderr: Output,
    fs: PodFs,
    terminate: CancellationToken,
    env: BTreeMap<String, String>,
}

impl StepEnv for PodEnv {
    fn stdout(&self, text: &str) {
        self.stdout.write(text.as_bytes());
    }

    fn stderr(&self, text: &str) {
        self.stderr.write(text.as_bytes());
    }

    fn read_file(&self, path: &str) -> std::io::Result<String> {
        self.fs.read_to_string(path).map_err(|e| std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string()))
    }

    fn write_file(&self, path: &str, text: &str) -> std::io::Result<()> {
        self.fs.write(path, text.as_bytes()).map_err(|e| std::io::Error::other(e.to_string()))
    }

    fn terminated(&self) -> CancellationToken {
        self.terminate.clone()
    }

    fn var(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
}

/// The session a step has in its pod: the configuration from the pod's `TLC_CONFIG` file (with the
/// command line's overrides), and one region — the pod's own cluster, named by `TLC_REGION`, reached
/// with the pod's service account.
fn pod_session(invocation: &Invocation, cli: &Cli) -> Result<Session> {
    let config = match invocation.env.get("TLC_CONFIG").filter(|p| !p.is_empty()) {
        Some(path) => {
            let text = invocation
                .fs
                .read_to_string(path)
                .map_err(|e| Error::Setup(format!("config {path} (TLC_CONFIG): {e}")))?;
            Config::from_toml_str(&text, Path::new(path), &cli.global.overrides())
        }
        None => Config::from_toml_str("", Path::new("<defaults>"), &cli.global.overrides()),
    }
    .map_err(|e| Error::Setup(e.to_string()))?;
    let client = invocation.api.client().map_err(|e| Error::Setup(format!("in-cluster client: {e}")))?;
    let region = Region {
        name: invocation.env.get("TLC_REGION").cloned().unwrap_or_else(|| "in-cluster".into()),
        context: "in-cluster".into(),
        url: invocation.api.config().cluster_url.to_string(),
        client,
    };
    Ok(Session { config, regions: Regions::new(vec![region]) })
}

/// Runs one invocation of `tlc` in a pod; the exit code is what the process would exit with.
async fn run(invocation: Invocation) -> i32 {
    let env = PodEnv {
        stdout: invocation.stdout.clone(),
        stderr: invocation.stderr.clone(),
        fs: invocation.fs.clone(),
        terminate: invocation.terminate.clone(),
        env: invocation.env.clone(),
    };
    // Only the pod's environment counts: nothing of this process's reaches a pod's program.
    let cli = match Cli::try_parse_from(&invocation.argv) {
        Ok(cli) => cli,
        Err(e) => {
            env.stderr(&e.to_string());
            return e.exit_code();
        }
    };
    // Exit codes as the real binary's: a step that fails itself exits 1 (discover) or 125 (bridge).
    let failed = match &cli.command {
        Some(Command::Discover(_)) => 1,
        Some(Command::Bridge(_)) => i32::from(BRIDGE_FAILED),
        _ => {
            env.stderr("tlc: in an embedded cluster's pod, only `tlc discover` and `tlc bridge` run\n");
            return 127;
        }
    };
    let outcome = match (pod_session(&invocation, &cli), &cli.command) {
        (Err(e), _) => Err(e),
        (Ok(session), Some(Command::Discover(args))) => super::discover::run(&env, &session, args).await,
        (Ok(session), Some(Command::Bridge(args))) => super::bridge::run(&env, &session, args).await,
        (Ok(_), _) => Ok(127),
    };
    match outcome {
        Ok(code) => i32::from(code),
        Err(e) => {
            env.stderr(&format!("tlc: {e}\n"));
            failed
        }
    }
}

/// The `tlc` binary to install in an embedded cluster (`ClusterConfig::binaries`).
pub fn binary() -> Arc<dyn Binary> {
    Arc::new(run)
}
