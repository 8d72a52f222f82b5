//! TEMPORARY stand-in for the configuration module (replaced by the real one): defaults and flag
//! overrides only, with the agreed API.

use std::path::{Path, PathBuf};

/// Config error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Config.
#[derive(Clone, Debug)]
pub struct Config {
    /// Cluster.
    pub cluster: ClusterConfig,
    /// Lifecycle.
    pub lifecycle: LifecycleConfig,
    /// Tenants.
    pub tenants: TenantsConfig,
    /// Run.
    pub run: RunConfig,
}
/// Cluster.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// Kubeconfig.
    pub kubeconfig: Option<PathBuf>,
    /// Contexts.
    pub contexts: Vec<RegionContext>,
}
/// Region context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionContext {
    /// Region.
    pub region: String,
    /// Context.
    pub context: String,
}
/// Lifecycle.
#[derive(Clone, Debug)]
pub struct LifecycleConfig {
    /// Annotation.
    pub annotation: String,
    /// Namespaces.
    pub namespaces: Vec<String>,
    /// Mount dir.
    pub mount_dir: String,
}
/// Tenant source.
#[derive(Clone, Debug)]
pub enum TenantSource {
    /// ConfigMaps.
    ConfigMaps {
        /// Namespace.
        namespace: String,
        /// Selector.
        selector: String,
        /// Id label.
        id_label: String,
        /// Key.
        key: String,
    },
    /// Directory.
    Directory {
        /// Path.
        path: PathBuf,
    },
}
/// Tenants.
#[derive(Clone, Debug)]
pub struct TenantsConfig {
    /// Source.
    pub source: TenantSource,
}
/// Engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Direct.
    Direct,
    /// Argo.
    Argo,
}
/// Run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Engine.
    pub engine: Engine,
    /// Concurrency.
    pub concurrency: usize,
    /// Read only.
    pub read_only: bool,
    /// Argo namespace.
    pub argo_namespace: String,
    /// Template.
    pub workflow_template: String,
}
/// Overrides.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// .
    pub kubeconfig: Option<PathBuf>,
    /// .
    pub contexts: Option<Vec<String>>,
    /// .
    pub annotation: Option<String>,
    /// .
    pub namespaces: Option<Vec<String>>,
    /// .
    pub mount_dir: Option<String>,
    /// .
    pub tenant_source: Option<String>,
    /// .
    pub tenant_namespace: Option<String>,
    /// .
    pub engine: Option<String>,
    /// .
    pub concurrency: Option<usize>,
    /// .
    pub read_only: bool,
}
/// Source.
#[derive(Clone, Debug)]
pub enum ConfigSource {
    /// Default path.
    Default,
    /// Explicit.
    Explicit(PathBuf),
}
impl Config {
    /// Defaults.
    pub fn defaults() -> Config {
        Config {
            cluster: ClusterConfig { kubeconfig: None, contexts: vec![] },
            lifecycle: LifecycleConfig {
                annotation: "tlc.dev/lifecycle".into(),
                namespaces: vec![],
                mount_dir: "/var/run/tlc/lifecycle".into(),
            },
            tenants: TenantsConfig {
                source: TenantSource::ConfigMaps {
                    namespace: "tenants".into(),
                    selector: "tlc.dev/tenant=true".into(),
                    id_label: "tlc.dev/tenant-id".into(),
                    key: "environment.yaml".into(),
                },
            },
            run: RunConfig {
                engine: Engine::Direct,
                concurrency: 16,
                read_only: false,
                argo_namespace: "argo".into(),
                workflow_template: "tenant-lifecycle".into(),
            },
        }
    }
    /// Load.
    pub fn load(_source: ConfigSource, o: &Overrides) -> Result<Config, ConfigError> {
        let mut c = Config::defaults();
        if let Some(k) = &o.kubeconfig {
            c.cluster.kubeconfig = Some(k.clone());
        }
        if let Some(cs) = &o.contexts {
            c.cluster.contexts = cs
                .iter()
                .map(|e| match e.split_once('=') {
                    Some((r, x)) => RegionContext { region: r.into(), context: x.into() },
                    None => RegionContext { region: e.clone(), context: e.clone() },
                })
                .collect();
        }
        if let Some(a) = &o.annotation {
            c.lifecycle.annotation = a.clone();
        }
        if let Some(n) = &o.namespaces {
            c.lifecycle.namespaces = n.clone();
        }
        if let Some(m) = &o.mount_dir {
            c.lifecycle.mount_dir = m.clone();
        }
        if let Some(s) = &o.tenant_source
            && let Some(p) = s.strip_prefix("dir:")
        {
            c.tenants.source = TenantSource::Directory { path: PathBuf::from(p) };
        }
        if let (Some(ns), TenantSource::ConfigMaps { namespace, .. }) = (&o.tenant_namespace, &mut c.tenants.source) {
            *namespace = ns.clone();
        }
        if let Some(e) = &o.engine {
            c.run.engine = if e == "argo" { Engine::Argo } else { Engine::Direct };
        }
        if let Some(n) = o.concurrency {
            if !(1..=1000).contains(&n) {
                return Err(ConfigError(format!("--concurrency: must be between 1 and 1000, got {n}")));
            }
            c.run.concurrency = n;
        }
        c.run.read_only |= o.read_only;
        Ok(c)
    }
    /// From text.
    pub fn from_toml_str(_t: &str, _o: &Path, ov: &Overrides) -> Result<Config, ConfigError> {
        Config::load(ConfigSource::Default, ov)
    }
    /// Default path.
    pub fn default_path() -> Option<PathBuf> {
        None
    }
    /// Defaults TOML.
    pub fn defaults_toml() -> &'static str {
        ""
    }
}
