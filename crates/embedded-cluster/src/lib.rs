//! The embedded cluster: an in-process Kubernetes API server on loopback with a simulated kubelet.
//! It is a test double with a real wire protocol — production client code (kube-rs over HTTP) and
//! `kubectl` run against it unchanged. It speaks Kubernetes (and stores Argo's resources) and knows
//! nothing of what runs on it: whoever starts it seeds it through [`store::Store`] and
//! [`manifests::apply`].

pub mod api;
pub mod auth;
pub mod error;
pub mod events_ttl;
pub mod faults;
pub mod handle;
pub mod kubeconfig;
pub mod kubelet;
pub mod logs;
pub mod manifests;
pub mod metrics;
pub mod sim;
pub mod store;
pub mod testing;

pub use error::{Error, Result};
pub use handle::{ClusterConfig, EmbeddedCluster};
