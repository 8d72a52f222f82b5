//! Regions: one kube context each, with its own client. A console works on all configured regions
//! at once; an unreachable region is reported as such and the others keep working.

use std::path::Path;

use super::error::{Error, Result};

/// One region and its client.
#[derive(Clone)]
pub struct Region {
    /// The region's name (the kube context's, unless configured otherwise).
    pub name: String,
    /// The kube context it maps to.
    pub context: String,
    /// The API server URL (for messages).
    pub url: String,
    /// A client for it.
    pub client: kube::Client,
}

impl std::fmt::Debug for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Region")
            .field("name", &self.name)
            .field("context", &self.context)
            .field("url", &self.url)
            .finish()
    }
}

/// The configured regions.
#[derive(Clone, Debug, Default)]
pub struct Regions {
    regions: Vec<Region>,
}

impl Regions {
    /// Regions from ready-made clients.
    pub fn new(regions: Vec<Region>) -> Self {
        Regions { regions }
    }

    /// Connects to `contexts` (pairs of region name and kube context) of a kubeconfig (`None`: the
    /// kube-rs default: `$KUBECONFIG` or `~/.kube/config`); no contexts means the current one.
    pub async fn connect(kubeconfig: Option<&Path>, contexts: &[(String, String)]) -> Result<Self> {
        if kubeconfig.is_none() && contexts.is_empty() && std::env::var_os("KUBECONFIG").is_none() {
            // Inside a pod (the Argo steps) there is no kubeconfig: use the service account.
            if let Ok(config) = kube::Config::incluster() {
                let url = config.cluster_url.to_string();
                let client =
                    kube::Client::try_from(config).map_err(|e| Error::Setup(format!("in-cluster client: {e}")))?;
                let name = std::env::var("TLC_REGION").unwrap_or_else(|_| "in-cluster".into());
                return Ok(Regions { regions: vec![Region { name, context: "in-cluster".into(), url, client }] });
            }
        }
        let kc = match kubeconfig {
            Some(path) => kube::config::Kubeconfig::read_from(path)
                .map_err(|e| Error::Setup(format!("cannot read kubeconfig {}: {e}", path.display())))?,
            None => kube::config::Kubeconfig::read()
                .map_err(|e| Error::Setup(format!("cannot read the kubeconfig: {e}")))?,
        };
        let pairs: Vec<(String, String)> = if contexts.is_empty() {
            let current = kc.current_context.clone().ok_or_else(|| {
                Error::Setup(
                    "the kubeconfig has no current context; configure cluster.contexts or pass --context".into(),
                )
            })?;
            vec![(current.clone(), current)]
        } else {
            contexts.to_vec()
        };
        let mut regions = Vec::new();
        for (name, context) in pairs {
            if !kc.contexts.iter().any(|c| c.name == context) {
                let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
                return Err(Error::Setup(format!(
                    "kube context \"{context}\" (region {name}) is not in the kubeconfig; it has: {}",
                    known.join(", ")
                )));
            }
            let options = kube::config::KubeConfigOptions { context: Some(context.clone()), ..Default::default() };
            let config = kube::Config::from_custom_kubeconfig(kc.clone(), &options)
                .await
                .map_err(|e| Error::Setup(format!("kube context \"{context}\": {e}")))?;
            let url = config.cluster_url.to_string();
            let client = kube::Client::try_from(config).map_err(|e| {
                let said = super::error::credential_plugin_failure(&e).unwrap_or_else(|| e.to_string());
                Error::Setup(format!("kube context \"{context}\": {said}"))
            })?;
            regions.push(Region { name, context, url, client });
        }
        Ok(Regions { regions })
    }

    /// A region by name.
    pub fn get(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name == name)
    }

    /// A region by name, or an error listing the known ones.
    pub fn require(&self, name: &str) -> Result<&Region> {
        self.get(name).ok_or_else(|| {
            Error::Input(format!("region \"{name}\" is not configured (configured: {})", self.names().join(", ")))
        })
    }

    /// All regions, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter()
    }

    /// Their names.
    pub fn names(&self) -> Vec<String> {
        self.regions.iter().map(|r| r.name.clone()).collect()
    }
}
