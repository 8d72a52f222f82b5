//! The listener: binds loopback, serves HTTPS (HTTP/1.1) connections with the request handler, and stops
//! cleanly when the cluster shuts down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::handler;
use crate::auth::Policy;
use crate::faults::Faults;
use crate::logs::LogStore;
use crate::store::Store;

/// Tunables of the API server.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_interval: Duration,
    /// How long a watch without `timeoutSeconds` stays open.
    pub default_watch_timeout: Duration,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { bookmark_interval: Duration::from_secs(10), default_watch_timeout: Duration::from_secs(1800) }
    }
}

/// Everything a request handler may touch.
pub struct ApiState {
    /// The objects.
    pub store: Arc<Store>,
    /// The container logs of the simulated node.
    pub logs: Arc<LogStore>,
    /// Users and their rules.
    pub policy: Arc<Policy>,
    /// Fault switches.
    pub faults: Arc<Faults>,
    /// Load gauges.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Tunables.
    pub settings: ServerSettings,
    /// Cancelled when the cluster shuts down; open streams end.
    pub shutdown: CancellationToken,
    /// `host:port` the server listens on (for `/api`'s serverAddressByClientCIDRs).
    pub server_address: String,
}

/// Binds `addr` (which must be a loopback address) and returns the listener and its real address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("the embedded cluster binds to loopback only, not {addr}"),
        ));
    }
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Accepts TLS connections until the shutdown token is cancelled.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, state: Arc<ApiState>) {
    loop {
        let accepted = tokio::select! {
            _ = state.shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let shutdown = state.shutdown.clone();
            let handshake = tokio::select! {
                _ = shutdown.cancelled() => return,
                h = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)) => h,
            };
            let Ok(Ok(tls)) = handshake else { return };
            // A verified client certificate names the connection's user (CN) and groups (O).
            let subject = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| super::tls::tls().ok().and_then(|t| t.subject_of(leaf.as_ref())));
            let service = service_fn(move |req| handler::handle(state.clone(), subject.clone(), req));
            let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(2), conn.as_mut()).await;
                }
            }
        });
    }
}
