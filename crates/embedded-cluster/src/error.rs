//! Errors of the embedded cluster's own operations (starting, seeding, writing kubeconfigs).

use std::path::PathBuf;

/// What went wrong starting or driving an embedded cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A manifest could not be read or applied.
    #[error("{origin}: document {document}: {message}")]
    Manifest {
        /// Where the manifest came from (a file name or a description).
        origin: String,
        /// 1-based index of the YAML document.
        document: usize,
        /// What was wrong.
        message: String,
    },
    /// A kubeconfig could not be written or loaded.
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A kube-rs client could not be built.
    #[error("cannot build a client for the embedded cluster: {0}")]
    Client(String),
    /// The TLS material could not be generated.
    #[error("{0}")]
    Tls(String),
    /// Two regions were given the same name.
    #[error("region names must be unique and DNS labels: {0:?}")]
    Regions(Vec<String>),
}

/// Result of embedded-cluster operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
