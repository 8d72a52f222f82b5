//! Starting and driving one embedded cluster: the API server, the kubelet, and the in-process
//! handle tests use to seed objects, add users, inject faults and build clients.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::api::server::{self, ApiState, ServerSettings};
use super::auth::{Policy, User};
use super::error::{Error, Result};
use super::faults::Faults;
use super::kubeconfig::{self, Entry};
use super::kubelet::{self, ApiEndpoint, Binaries, Binary, KubeletConfig, Node, NodeServices, SignalError};
use super::logs::LogStore;
use super::manifests;
use super::metrics::Metrics;
use super::store::Store;

/// How to start an embedded cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The region / kubeconfig context name.
    pub name: String,
    /// Where to listen (loopback only; port 0 picks a free one).
    pub bind: SocketAddr,
    /// The admin user's bearer token (random by default).
    pub admin_token: String,
    /// More users (read-only, namespace-limited, …).
    pub users: Vec<User>,
    /// Changes kept for watches; older starts get 410.
    pub history_capacity: usize,
    /// Log bytes kept per container instance.
    pub log_max_bytes: usize,
    /// API server tunables.
    pub server: ServerSettings,
    /// Kubelet tunables.
    pub kubelet: KubeletConfig,
    /// How long Events live, as a real API server's `--event-ttl` (default there: 1 h): an Event
    /// older than this (by its last timestamp, else its creation) is deleted, as etcd's lease
    /// expiry deletes it (watchers see it go). `None`: Events are kept.
    pub event_ttl: Option<std::time::Duration>,
    /// Programs containers may run in process (by the basename of their command's first word);
    /// the cluster takes a copy at start, [`EmbeddedCluster::install_binary`] adds more.
    pub binaries: Binaries,
}

/// A fresh random token.
pub fn random_token() -> String {
    format!("tlc-{}", uuid::Uuid::new_v4().simple())
}

impl ClusterConfig {
    /// Defaults for a cluster named `name`: ephemeral port, random admin token, real time.
    pub fn new(name: &str) -> Self {
        ClusterConfig {
            name: name.to_string(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_token: random_token(),
            users: Vec::new(),
            history_capacity: 10_000,
            log_max_bytes: 16 * 1024 * 1024,
            server: ServerSettings::default(),
            kubelet: KubeletConfig { node_name: format!("{name}-node-1"), ..KubeletConfig::default() },
            event_ttl: None,
            binaries: Binaries::new(),
        }
    }

    /// The same, with Events expiring after `ttl` (see [`ClusterConfig::event_ttl`]).
    pub fn with_event_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.event_ttl = Some(ttl);
        self
    }

    /// The same, with simulated time running `scale` times real time (0.01 = 100× faster).
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.kubelet.time_scale = scale;
        self
    }
}

/// A running embedded cluster. Dropping it stops the server and the kubelet.
pub struct EmbeddedCluster {
    name: String,
    addr: SocketAddr,
    admin_token: String,
    store: Arc<Store>,
    logs: Arc<LogStore>,
    policy: Arc<Policy>,
    faults: Arc<Faults>,
    metrics: Arc<Metrics>,
    binaries: Binaries,
    node: Option<Arc<Node>>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl EmbeddedCluster {
    /// Binds the listener and starts serving, with the kubelet running.
    pub async fn start(config: ClusterConfig) -> Result<Self> {
        let tls = super::api::tls::tls().map_err(Error::Tls)?;
        let (listener, addr) =
            server::bind(config.bind).await.map_err(|source| Error::Bind { addr: config.bind, source })?;
        let store = Arc::new(Store::new(config.history_capacity));
        let logs = Arc::new(LogStore::new(config.log_max_bytes));
        let mut users = vec![User::admin("admin", &config.admin_token)];
        users.extend(config.users.iter().cloned());
        let policy = Arc::new(Policy::new(users));
        let faults = Arc::new(Faults::default());
        let metrics = Arc::new(Metrics::default());
        let shutdown = CancellationToken::new();
        let state = Arc::new(ApiState {
            store: store.clone(),
            logs: logs.clone(),
            policy: policy.clone(),
            faults: faults.clone(),
            metrics: metrics.clone(),
            settings: config.server.clone(),
            shutdown: shutdown.clone(),
            server_address: addr.to_string(),
        });
        let mut tasks = vec![tokio::spawn(server::serve(listener, tls.acceptor.clone(), state))];
        if let Some(ttl) = config.event_ttl {
            tasks.push(tokio::spawn(crate::events_ttl::run(store.clone(), ttl, shutdown.clone())));
        }
        let binaries = config.binaries.snapshot();
        let mut node = None;
        if config.kubelet.enabled {
            let services = NodeServices {
                binaries: binaries.clone(),
                api: ApiEndpoint { url: format!("https://{addr}"), ca_pem: tls.ca_pem.clone() },
                policy: policy.clone(),
            };
            let n = Arc::new(Node::new(store.clone(), logs.clone(), config.kubelet.clone(), services));
            tasks.push(tokio::spawn(kubelet::run(n.clone(), shutdown.clone())));
            node = Some(n);
        }
        Ok(EmbeddedCluster {
            name: config.name,
            addr,
            admin_token: config.admin_token,
            store,
            logs,
            policy,
            faults,
            metrics,
            binaries,
            node,
            shutdown,
            tasks,
        })
    }

    /// The region / context name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA certificate (PEM) that signed the server's certificate.
    pub fn ca_pem(&self) -> String {
        super::api::tls::tls().map(|t| t.ca_pem.clone()).unwrap_or_default()
    }

    /// A client certificate for user `user` in `groups`, signed by the cluster's CA: the server
    /// authenticates it as kube-apiserver does (`--client-ca-file`: CN the user, O the groups). The
    /// user has the rules of the configured user of that name, if any, and what RBAC bindings give.
    pub fn client_certificate(&self, user: &str, groups: &[&str]) -> Result<super::api::tls::ClientCertificate> {
        super::api::tls::tls().map_err(Error::Tls)?.client_certificate(user, groups).map_err(Error::Tls)
    }

    /// The admin bearer token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The object store (seed and inspect without HTTP).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The node's container logs.
    pub fn logs(&self) -> &Arc<LogStore> {
        &self.logs
    }

    /// Fault injection switches.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Load gauges (open log streams and watches).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Users and rules.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// Adds (or replaces) a user.
    pub fn add_user(&self, user: User) {
        self.policy.upsert(user);
    }

    /// Installs (or replaces) a binary containers may run in process, by name (a container whose
    /// command's first word has this basename runs it); pods started from now on see it.
    pub fn install_binary(&self, name: &str, binary: Arc<dyn Binary>) {
        self.binaries.install(name, binary);
    }

    /// The registered binaries.
    pub fn binaries(&self) -> &Binaries {
        &self.binaries
    }

    /// The simulated node (for in-process controllers: signals, its clock), unless the kubelet is off.
    pub fn node(&self) -> Option<&Arc<Node>> {
        self.node.as_ref()
    }

    /// Sends SIGTERM to a running container (see [`Node::signal_container`]).
    pub fn signal_container(&self, namespace: &str, pod: &str, container: &str) -> Result<(), SignalError> {
        self.node.as_ref().ok_or(SignalError::NoKubelet)?.signal_container(namespace, pod, container)
    }

    /// The bearer token of a service account, as its pods get it (it authenticates while the
    /// account exists).
    pub fn service_account_token(&self, namespace: &str, name: &str) -> String {
        self.policy.service_account_token(&self.store, namespace, name)
    }

    /// A kube-rs client acting as a service account (`system:serviceaccount:NAMESPACE:NAME`).
    pub async fn service_account_client(&self, namespace: &str, name: &str) -> Result<kube::Client> {
        self.client_with_token(&self.service_account_token(namespace, name)).await
    }

    /// Applies a multi-document manifest text to the store; returns how many objects it created.
    pub fn apply_manifests(&self, origin: &str, text: &str) -> Result<usize> {
        manifests::apply(&self.store, origin, text)
    }

    /// Kubeconfig entries: the admin context named after the region, and `region-USER` for others.
    pub fn kubeconfig_entries(&self) -> Vec<Entry> {
        self.policy
            .users()
            .into_iter()
            .map(|u| {
                let context =
                    if u.token == self.admin_token { self.name.clone() } else { format!("{}-{}", self.name, u.name) };
                Entry {
                    context,
                    cluster: self.name.clone(),
                    server: self.url(),
                    ca_pem: self.ca_pem(),
                    user: format!("{}-{}", self.name, u.name),
                    token: u.token,
                }
            })
            .collect()
    }

    fn entry_for(&self, token: &str) -> Result<Entry> {
        self.kubeconfig_entries()
            .into_iter()
            .find(|e| e.token == token)
            .ok_or_else(|| Error::Client(format!("no user with that token in cluster {}", self.name)))
    }

    /// A kube-rs client as the admin user.
    pub async fn client(&self) -> Result<kube::Client> {
        self.client_as(&self.admin_token.clone()).await
    }

    /// A kube-rs client as the user with `token`.
    pub async fn client_as(&self, token: &str) -> Result<kube::Client> {
        let config = self.client_config_as(token).await?;
        kube::Client::try_from(config).map_err(|e| Error::Client(e.to_string()))
    }

    /// The kube-rs configuration for the user with `token` (to adjust before building a client).
    pub async fn client_config_as(&self, token: &str) -> Result<kube::Config> {
        kubeconfig::client_config(&self.entry_for(token)?).await
    }

    /// A kube-rs client with an arbitrary (e.g. wrong) token, for authentication tests.
    pub async fn client_with_token(&self, token: &str) -> Result<kube::Client> {
        let entry = Entry {
            context: self.name.clone(),
            cluster: self.name.clone(),
            server: self.url(),
            ca_pem: self.ca_pem(),
            user: "anyone".into(),
            token: token.into(),
        };
        let config = kubeconfig::client_config(&entry).await?;
        kube::Client::try_from(config).map_err(|e| Error::Client(e.to_string()))
    }

    /// Stops serving and waits for the server and kubelet tasks to end.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
