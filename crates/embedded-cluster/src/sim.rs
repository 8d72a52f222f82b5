//! Several embedded clusters in one process — one per region — with one kubeconfig for all of them.

use std::path::Path;

use super::auth::User;
use super::error::{Error, Result};
use super::handle::{ClusterConfig, EmbeddedCluster, random_token};
use super::kubeconfig::{self, Entry};
use kube_grammar::selector::is_dns_label;

/// The regions of the demo estate.
pub const DEMO_REGIONS: &[&str] = &["eu-west", "us-east"];

/// The first line of every kubeconfig `tlc sim` writes; a file without it is never overwritten.
pub const KUBECONFIG_MARKER: &str = "# Written by `tlc sim`: contexts for its embedded clusters.";

/// A set of running regions.
pub struct Sim {
    clusters: Vec<EmbeddedCluster>,
}

impl Sim {
    /// Starts one cluster per config, each with an extra read-only user named `viewer`.
    pub async fn start(configs: Vec<ClusterConfig>) -> Result<Self> {
        let names: Vec<String> = configs.iter().map(|c| c.name.clone()).collect();
        let unique = names.iter().enumerate().all(|(i, n)| !names[..i].contains(n));
        if names.is_empty() || !unique || !names.iter().all(|n| is_dns_label(n)) {
            return Err(Error::Regions(names));
        }
        let mut clusters = Vec::new();
        for mut config in configs {
            config.users.push(User::read_only("viewer", &random_token()));
            clusters.push(EmbeddedCluster::start(config).await?);
        }
        Ok(Sim { clusters })
    }

    /// The running clusters, in region order.
    pub fn clusters(&self) -> &[EmbeddedCluster] {
        &self.clusters
    }

    /// The cluster of a region.
    pub fn region(&self, name: &str) -> Option<&EmbeddedCluster> {
        self.clusters.iter().find(|c| c.name() == name)
    }

    /// Every context of every region.
    pub fn kubeconfig_entries(&self) -> Vec<Entry> {
        self.clusters.iter().flat_map(EmbeddedCluster::kubeconfig_entries).collect()
    }

    /// Writes the kubeconfig (first region current). Refuses to overwrite a file `tlc sim` did not write.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<()> {
        if let Ok(existing) = std::fs::read_to_string(path)
            && !existing.starts_with(KUBECONFIG_MARKER)
        {
            return Err(Error::Kubeconfig {
                path: path.to_path_buf(),
                message:
                    "refusing to overwrite a kubeconfig that `tlc sim` did not write; choose another --kubeconfig path"
                        .into(),
            });
        }
        let current = self.clusters.first().map(|c| c.name().to_string()).unwrap_or_default();
        kubeconfig::write(path, &self.kubeconfig_entries(), &current, KUBECONFIG_MARKER)
    }

    /// Stops every region.
    pub async fn shutdown(self) {
        for c in self.clusters {
            c.shutdown().await;
        }
    }
}
