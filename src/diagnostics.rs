//! The diagnostics log: tlc's console runs full-screen, so nothing may be written to the terminal
//! behind it. What happens in the background — watches going down and coming back, branches
//! launched, kube-rs's own requests, retries and watch back-offs — goes to a file instead, when the
//! operator asks for one (`--log-file PATH` or `TLC_LOG=PATH`). Off by default.

use std::path::Path;

use tracing_subscriber::EnvFilter;

use crate::lifecycle::error::Error;

/// What is logged when `--log-level`/`TLC_LOG_LEVEL` does not say: tlc's and kube-rs's own
/// decisions (watch errors and back-offs are `debug` in kube-runtime), warnings from the rest.
pub const DEFAULT_FILTER: &str = "warn,tlc=debug,kube_runtime=debug,kube_client=debug";

/// Starts writing the diagnostics log to `path` (appended to, created if missing) with `filter`
/// (`tracing`'s directive syntax, as `RUST_LOG`). Returns an error that names the file or the
/// filter when either is wrong; nothing is logged then.
pub fn init(path: &Path, filter: &str) -> Result<(), Error> {
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| Error::Input(format!("--log-level \"{}\": {e}", filter.escape_debug())))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::io(format!("create {}", dir.display())))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(Error::io(format!("open the log file {}", path.display())))?;
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .map_err(|e| Error::Setup(format!("cannot start the diagnostics log: {e}")))?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "tlc started");
    Ok(())
}
