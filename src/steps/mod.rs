//! The Argo WorkflowTemplate's two steps — `tlc discover` and `tlc bridge` — as code that runs
//! wherever their pod runs: a real pod (the process's stdio, files and SIGTERM, the in-cluster
//! service account) or a pod of an embedded cluster, in process (its log, its filesystem, its
//! termination signal, its service account's token). The steps only ever see a [`StepEnv`], so the
//! same code is exercised by the demo and the tests as runs in a real cluster.

pub mod bridge;
pub mod discover;
pub mod in_process;

use std::io::Write as _;

use tokio_util::sync::CancellationToken;

/// What a step's container gives it.
pub trait StepEnv: Send + Sync {
    /// Writes to the container's standard output (the step's log in Argo).
    fn stdout(&self, text: &str);
    /// Writes to the container's standard error.
    fn stderr(&self, text: &str);
    /// Reads a file of the container (a mounted ConfigMap, a changeset file).
    fn read_file(&self, path: &str) -> std::io::Result<String>;
    /// Writes a file of the container (an Argo output parameter), creating its directory.
    fn write_file(&self, path: &str, text: &str) -> std::io::Result<()>;
    /// Cancelled when the container is asked to stop (SIGTERM: a stopped or terminated Workflow,
    /// or the step's own pod being deleted).
    fn terminated(&self) -> CancellationToken;
    /// A variable of the container's environment (`HOSTNAME`: the pod's name, as Kubernetes sets
    /// it in every container).
    fn var(&self, name: &str) -> Option<String>;
}

/// A step in this process: stdout, stderr, the filesystem, and SIGTERM.
pub struct ProcessEnv {
    terminated: CancellationToken,
}

impl ProcessEnv {
    /// Listens for SIGTERM (on Unix) for the rest of the process's life.
    pub fn new() -> Self {
        let terminated = CancellationToken::new();
        #[cfg(unix)]
        {
            let token = terminated.clone();
            if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                tokio::spawn(async move {
                    term.recv().await;
                    token.cancel();
                });
            }
        }
        ProcessEnv { terminated }
    }
}

impl Default for ProcessEnv {
    fn default() -> Self {
        ProcessEnv::new()
    }
}

impl StepEnv for ProcessEnv {
    fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn stderr(&self, text: &str) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    fn read_file(&self, path: &str) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn write_file(&self, path: &str, text: &str) -> std::io::Result<()> {
        if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text)
    }

    fn terminated(&self) -> CancellationToken {
        self.terminated.clone()
    }

    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The exit code of a step stopped by SIGTERM (128 + 15, as a shell reports it).
pub const TERMINATED: u8 = 143;
