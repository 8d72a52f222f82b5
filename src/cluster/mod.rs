//! The embedded cluster: an in-process Kubernetes API server on loopback with a simulated kubelet,
//! used by `tlc demo`, `tlc sim`, the tests and the benchmarks. It is a test double with a real wire
//! protocol — the production client code (kube-rs over HTTP) and `kubectl` run against it unchanged.

pub mod api;
pub mod auth;
pub mod error;
pub mod estate;
pub mod faults;
pub mod handle;
pub mod kubeconfig;
pub mod kubelet;
pub mod logs;
pub mod manifests;
pub mod metrics;
pub mod sim;
pub mod store;
pub mod time;

pub use error::{Error, Result};
pub use handle::{ClusterConfig, EmbeddedCluster};
