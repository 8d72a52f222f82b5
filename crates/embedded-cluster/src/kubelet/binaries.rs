//! In-process programs ("registered binaries"). A container whose command's first word names a
//! registered binary (by basename: `/var/run/argo/argoexec` runs `argoexec`) runs that binary's Rust
//! code in this process instead of the shell interpreter — still nothing runs on the host. The
//! product registers its own subcommands (`tlc discover`, `tlc bridge`), an Argo emulation registers
//! `argoexec`, tests register their own. A binary gets what a process in a real container gets: its
//! argv and environment, the pod's files, stdout/stderr (the container log), SIGTERM (a cancelled
//! token), the in-cluster API credentials of the pod's service account, and the node's clock.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::podfs::PodFs;
use crate::logs::ContainerLog;
use sim_shell::{Host, Program, Vars};

/// The exit code of a process killed by SIGTERM (128 + 15), as a parent shell reports it.
pub const SIGTERM_EXIT: i32 = 143;
/// The exit code of a process killed by SIGKILL (128 + 9), as the kubelet reports it.
pub const SIGKILL_EXIT: i32 = 137;
/// The exit code of a Rust program that panicked.
pub const PANIC_EXIT: i32 = 101;

/// A program the simulated kubelet runs in process. Implemented for any
/// `Fn(Invocation) -> impl Future<Output = i32>`, so a closure is a binary.
pub trait Binary: Send + Sync + 'static {
    /// Runs the program to its exit code (taken modulo 256, as a process's exit status is).
    /// Everything it does should happen inside the returned future: when the kubelet kills the
    /// container, the future is dropped (tasks it spawned are not stopped with it).
    fn run(&self, invocation: Invocation) -> BoxFuture<'static, i32>;
}

impl<F, Fut> Binary for F
where
    F: Fn(Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = i32> + Send + 'static,
{
    fn run(&self, invocation: Invocation) -> BoxFuture<'static, i32> {
        Box::pin(self(invocation))
    }
}

/// The registered binaries, by name. Cloning shares the registry (a binary installed through one
/// clone is visible to all); a started cluster takes its own copy of the config's registry.
#[derive(Clone, Default)]
pub struct Binaries {
    map: Arc<RwLock<BTreeMap<String, Arc<dyn Binary>>>>,
}

impl fmt::Debug for Binaries {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Binaries").field(&self.names()).finish()
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Binaries {
    /// An empty registry.
    pub fn new() -> Self {
        Binaries::default()
    }

    /// The registry with `binary` installed as `name` (builder style, for `ClusterConfig`).
    pub fn with(self, name: &str, binary: Arc<dyn Binary>) -> Self {
        self.install(name, binary);
        self
    }

    /// Installs (or replaces) the binary called `name`; containers started from now on see it.
    pub fn install(&self, name: &str, binary: Arc<dyn Binary>) {
        self.map.write().unwrap_or_else(PoisonError::into_inner).insert(name.to_string(), binary);
    }

    /// The binary a container command runs, looked up by the basename of its first word.
    pub fn resolve(&self, command: &str) -> Option<Arc<dyn Binary>> {
        self.map.read().unwrap_or_else(PoisonError::into_inner).get(basename(command)).cloned()
    }

    /// The installed names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.map.read().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect()
    }

    /// An independent copy (later installs into either do not reach the other).
    pub fn snapshot(&self) -> Binaries {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner).clone();
        Binaries { map: Arc::new(RwLock::new(map)) }
    }
}

/// The pod a binary runs in, as the downward API would describe it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodInfo {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `spec.serviceAccountName` (`default` when unset).
    pub service_account: String,
    /// `spec.nodeName`.
    pub node_name: String,
    /// `status.podIP`.
    pub ip: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
}

/// Standard output or error of a container: what is written goes to the container's log (the same
/// log store as shell output, so `kubectl logs` shows it, timestamped line by line).
#[derive(Clone, Debug)]
pub struct Output {
    log: Arc<ContainerLog>,
}

impl Output {
    /// Output into `log`.
    pub fn new(log: Arc<ContainerLog>) -> Self {
        Output { log }
    }

    /// Appends bytes (lines become visible when their newline arrives).
    pub fn write(&self, bytes: &[u8]) {
        self.log.append(bytes);
    }

    /// Appends `text` and a newline.
    pub fn line(&self, text: &str) {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(b'\n');
        self.log.append(&bytes);
    }
}

impl std::io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.log.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The node's clock: simulated durations multiplied by the kubelet's time scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clock {
    scale: f64,
}

impl Clock {
    /// A clock running `scale` times real time (0 = instant).
    pub fn new(scale: f64) -> Self {
        Clock { scale }
    }

    /// The time scale.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// `seconds` of simulated time in real time; `None` for infinity (which stays infinite).
    pub fn scaled_secs(&self, seconds: f64) -> Option<Duration> {
        if seconds.is_infinite() && seconds > 0.0 {
            return None;
        }
        let s = seconds * self.scale;
        Some(if s.is_finite() && s > 0.0 { Duration::from_secs_f64(s.min(1.0e9)) } else { Duration::ZERO })
    }

    /// A simulated duration in real time.
    pub fn scaled(&self, d: Duration) -> Duration {
        self.scaled_secs(d.as_secs_f64()).unwrap_or(Duration::MAX)
    }

    /// Sleeps `d` of simulated time (at scale 0 it only yields to the runtime).
    pub async fn sleep(&self, d: Duration) {
        self.sleep_secs(d.as_secs_f64()).await;
    }

    /// Sleeps `seconds` of simulated time; `f64::INFINITY` never returns.
    pub async fn sleep_secs(&self, seconds: f64) {
        match self.scaled_secs(seconds) {
            None => std::future::pending().await,
            Some(d) if d.is_zero() => tokio::task::yield_now().await,
            Some(d) => tokio::time::sleep(d).await,
        }
    }
}

/// The API credentials a process in the pod has: what `kube::Config::incluster()` would give in a
/// real pod (the API server's URL, its CA, the bearer token of the pod's service account, the pod's
/// namespace as the default).
#[derive(Clone)]
pub struct ApiAccess {
    config: kube::Config,
    token: String,
    user: String,
}

impl fmt::Debug for ApiAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAccess").field("server", &self.config.cluster_url).field("user", &self.user).finish()
    }
}

impl ApiAccess {
    /// Credentials for `user` (its name, for messages) with `token`, on the server `config` points at.
    pub fn new(config: kube::Config, token: String, user: String) -> Self {
        ApiAccess { config, token, user }
    }

    /// The client configuration.
    pub fn config(&self) -> kube::Config {
        self.config.clone()
    }

    /// The bearer token (what `/var/run/secrets/kubernetes.io/serviceaccount/token` would hold).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The user the token authenticates as: `system:serviceaccount:NAMESPACE:NAME`.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// A kube-rs client with these credentials.
    pub fn client(&self) -> Result<kube::Client, kube::Error> {
        kube::Client::try_from(self.config.clone())
    }
}

/// Everything a registered binary gets when its container starts.
pub struct Invocation {
    /// `command` + `args` after `$(VAR)` expansion, exactly as the shell path would get them.
    pub argv: Vec<String>,
    /// The resolved environment (`env`, `envFrom`, `fieldRef`, `configMapKeyRef`, and the
    /// variables every container gets: `PATH`, `HOSTNAME`, `HOME`).
    pub env: BTreeMap<String, String>,
    /// The pod it runs in.
    pub pod: PodInfo,
    /// The container's name.
    pub container: String,
    /// The pod's files as this container sees them.
    pub fs: PodFs,
    /// Standard output (the container log).
    pub stdout: Output,
    /// Standard error (the same container log, in order).
    pub stderr: Output,
    /// Cancelled on SIGTERM: the binary may clean up and exit; if it has not exited when the grace
    /// period ends, it is killed (exit code 137).
    pub terminate: CancellationToken,
    /// In-cluster API credentials of the pod's service account.
    pub api: ApiAccess,
    /// The node's clock.
    pub clock: Clock,
    binaries: Binaries,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("argv", &self.argv)
            .field("pod", &format!("{}/{}", self.pod.namespace, self.pod.name))
            .field("container", &self.container)
            .finish_non_exhaustive()
    }
}

/// What a container runs, and how it ended when it did not exit by itself.
pub(crate) struct Launch {
    pub argv: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub pod: PodInfo,
    pub container: String,
    pub fs: PodFs,
    pub output: Output,
    pub terminate: CancellationToken,
    pub api: ApiAccess,
    pub clock: Clock,
    pub binaries: Binaries,
}

impl Launch {
    pub(crate) fn into_invocation(self) -> Invocation {
        Invocation {
            argv: self.argv,
            env: self.env,
            pod: self.pod,
            container: self.container,
            fs: self.fs,
            stdout: self.output.clone(),
            stderr: self.output,
            terminate: self.terminate,
            api: self.api,
            clock: self.clock,
            binaries: self.binaries,
        }
    }
}

/// Runs a binary to its exit code; a panic is reported on stderr and is exit code 101.
pub(crate) async fn run_binary(binary: Arc<dyn Binary>, invocation: Invocation) -> i32 {
    let name = invocation.argv.first().map(|a| basename(a).to_string()).unwrap_or_default();
    let stderr = invocation.stderr.clone();
    match std::panic::AssertUnwindSafe(binary.run(invocation)).catch_unwind().await {
        Ok(code) => code.rem_euclid(256),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".to_string());
            stderr.line(&format!("{name}: panicked: {message}"));
            PANIC_EXIT
        }
    }
}

/// The script host: files from the pod's filesystem, output to the container log, sleep on the
/// node's clock.
pub(crate) struct ShellHost {
    pub output: Output,
    pub fs: PodFs,
    pub clock: Clock,
}

impl Host for ShellHost {
    fn read_file(&self, path: &str) -> Result<String, String> {
        self.fs.read_to_string(path).map_err(|e| e.kind.strerror().to_string())
    }

    fn stdout(&mut self, text: &str) {
        self.output.write(text.as_bytes());
    }

    fn stderr(&mut self, text: &str) {
        self.output.write(text.as_bytes());
    }

    fn sleep(&mut self, seconds: f64) -> impl Future<Output = ()> + Send {
        let clock = self.clock;
        async move { clock.sleep_secs(seconds).await }
    }
}

/// Runs an argv with the shell interpreter: its exit code, and the interpreter's refusal (exit code
/// 127, also written to the log) when the argv is outside the supported subset.
pub(crate) async fn run_shell(
    argv: &[String],
    env: &BTreeMap<String, String>,
    host: &mut ShellHost,
) -> (i32, Option<String>) {
    match Program::from_argv(argv) {
        Ok(program) => {
            let mut vars: Vars = env.clone().into_iter().collect();
            (program.run(&mut vars, host).await, None)
        }
        Err(unsupported) => {
            let message = unsupported.to_string();
            host.stderr(&format!("{message}\n"));
            (127, Some(message))
        }
    }
}

impl Invocation {
    /// Runs another argv inside this same container — a registered binary, or the shell exactly as
    /// a container command would be — with this container's environment, files and log, and returns
    /// its exit code (like `argoexec emissary -- CMD...`). The child is sent SIGTERM when this
    /// container is (signals are forwarded, as the emissary does): a child binary sees its own
    /// `terminate` cancelled; a shell, which is not PID 1 here, dies of it with exit code 143.
    pub async fn exec(&self, argv: Vec<String>) -> i32 {
        let terminate = self.terminate.child_token();
        if let Some(binary) = argv.first().and_then(|a| self.binaries.resolve(a)) {
            let child = Invocation {
                argv,
                env: self.env.clone(),
                pod: self.pod.clone(),
                container: self.container.clone(),
                fs: self.fs.clone(),
                stdout: self.stdout.clone(),
                stderr: self.stderr.clone(),
                terminate,
                api: self.api.clone(),
                clock: self.clock,
                binaries: self.binaries.clone(),
            };
            return run_binary(binary, child).await;
        }
        let mut host = ShellHost { output: self.stdout.clone(), fs: self.fs.clone(), clock: self.clock };
        tokio::select! {
            (code, _) = run_shell(&argv, &self.env, &mut host) => code,
            _ = terminate.cancelled() => SIGTERM_EXIT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_resolve_by_basename_and_snapshots_are_independent() {
        let binaries = Binaries::new().with("argoexec", Arc::new(|_inv: Invocation| async { 0 }));
        assert!(binaries.resolve("/var/run/argo/argoexec").is_some());
        assert!(binaries.resolve("argoexec").is_some());
        assert!(binaries.resolve("sh").is_none());
        let copy = binaries.snapshot();
        copy.install("tlc", Arc::new(|_inv: Invocation| async { 1 }));
        assert_eq!(copy.names(), vec!["argoexec", "tlc"]);
        assert_eq!(binaries.names(), vec!["argoexec"]);
        assert_eq!(format!("{binaries:?}"), "Binaries([\"argoexec\"])");
    }

    #[test]
    fn the_clock_scales_and_keeps_infinity() {
        let clock = Clock::new(0.01);
        assert_eq!(clock.scaled(Duration::from_secs(30)), Duration::from_millis(300));
        assert_eq!(clock.scaled_secs(f64::INFINITY), None);
        assert_eq!(Clock::new(0.0).scaled(Duration::from_secs(30)), Duration::ZERO);
    }
}
