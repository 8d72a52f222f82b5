//! tlc's configuration. The defaults are a TOML preset embedded in the binary (`defaults.toml`,
//! which is also the reference); the user's file is a patch over it, read strictly (an unknown key
//! or a wrong type is an error naming the file, line, column and key); command-line flags override
//! both. See docs/configuration.md.

mod error;
mod load;
mod settings;

use std::path::{Path, PathBuf};

pub use crate::contract::engine::Engine;
pub use error::{ConfigError, Origin};
use load::{PathBase, apply_overrides, read_file, validate};
use settings::Settings;

/// The defaults, as shipped.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Which clusters.
    pub cluster: ClusterConfig,
    /// The lifecycle contract's settings.
    pub lifecycle: LifecycleConfig,
    /// Where tenants come from.
    pub tenants: TenantsConfig,
    /// How operations run.
    pub run: RunConfig,
    /// `[retention]`: what `tlc gc` removes.
    pub retention: crate::lifecycle::retention::Retention,
    /// `retention.regions`: a region's own rules (the others use `retention`).
    pub retention_by_region: std::collections::BTreeMap<String, crate::lifecycle::retention::Retention>,
    /// `[ui]`: the console.
    pub ui: UiConfig,
}

/// `[ui]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiConfig {
    /// The theme's name.
    pub theme: String,
    /// Log lines kept per batch.
    pub scrollback: usize,
    /// Log streams followed at once.
    pub log_streams: usize,
    /// Where incident bundles go (`None`: the current directory).
    pub bundle_dir: Option<PathBuf>,
}

/// `[cluster]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// The kubeconfig (None: kube-rs' default rules).
    pub kubeconfig: Option<PathBuf>,
    /// One kube context per region (empty: the current context).
    pub contexts: Vec<RegionContext>,
}

/// A region and its kube context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionContext {
    /// The region's name.
    pub region: String,
    /// The kube context.
    pub context: String,
}

/// `[lifecycle]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleConfig {
    /// The lifecycle annotation key.
    pub annotation: String,
    /// Namespaces to discover in (empty: all).
    pub namespaces: Vec<String>,
    /// Where branch pods mount the two files.
    pub mount_dir: String,
}

/// Where tenants come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantSource {
    /// ConfigMaps in each region's cluster.
    ConfigMaps {
        /// Their namespace.
        namespace: String,
        /// The label selector picking them.
        selector: String,
        /// The label with the tenant id.
        id_label: String,
        /// The data key with environment.yaml.
        key: String,
    },
    /// A directory of YAML files.
    Directory {
        /// The directory.
        path: PathBuf,
    },
}

/// `[tenants]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantsConfig {
    /// The source.
    pub source: TenantSource,
}

/// `[run]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunConfig {
    /// The default engine.
    pub engine: Engine,
    /// Branches in flight per batch.
    pub concurrency: usize,
    /// Refuse every mutation.
    pub read_only: bool,
    /// Argo: the Workflow namespace.
    pub argo_namespace: String,
    /// Argo: the WorkflowTemplate's name.
    pub workflow_template: String,
    /// Where batch records live (see `audit::record`).
    pub records_namespace: String,
}

/// What the command line overrides.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context` (repeated).
    pub contexts: Option<Vec<String>>,
    /// `--annotation`.
    pub annotation: Option<String>,
    /// `--job-namespace` (repeated).
    pub namespaces: Option<Vec<String>>,
    /// `--mount-dir`.
    pub mount_dir: Option<String>,
    /// `--tenant-source configmaps|dir:PATH`.
    pub tenant_source: Option<String>,
    /// `--tenant-namespace`.
    pub tenant_namespace: Option<String>,
    /// `--engine`.
    pub engine: Option<Engine>,
    /// `--concurrency`.
    pub concurrency: Option<usize>,
    /// `--read-only`.
    pub read_only: bool,
}

/// Which file to read.
#[derive(Clone, Debug)]
pub enum ConfigSource {
    /// The default path; a missing file is fine.
    Default,
    /// A path given by `--config` or `$TLC_CONFIG`; it must exist.
    Explicit(PathBuf),
}

fn defaults_settings() -> Result<Settings, ConfigError> {
    let mut s = Settings::default();
    read_file(&mut s, DEFAULTS_TOML, Path::new("<defaults>"), true)?;
    Ok(s)
}

impl Config {
    /// The built-in defaults (an error only if the shipped defaults.toml were broken; a test holds it).
    pub fn defaults() -> Result<Config, ConfigError> {
        Config::from_toml_str("", Path::new("<defaults>"), &Overrides::default())
    }

    /// The default file path (`~/.config/tlc/config.toml` on Linux).
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("dev", "tlc", "tlc").map(|d| d.config_dir().join("config.toml"))
    }

    /// The shipped defaults file.
    pub fn defaults_toml() -> &'static str {
        DEFAULTS_TOML
    }

    /// Loads the configuration: defaults, then the file, then `overrides`.
    pub fn load(source: ConfigSource, overrides: &Overrides) -> Result<Config, ConfigError> {
        let (path, required) = match source {
            ConfigSource::Explicit(p) => (p, true),
            ConfigSource::Default => match Config::default_path() {
                Some(p) => (p, false),
                None => return Config::from_toml_str("", Path::new("<defaults>"), overrides),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::from_toml_str(&text, &path, overrides),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Config::from_toml_str("", &path, overrides)
            }
            Err(e) => {
                Err(ConfigError { origin: Origin::Path(path), key: None, message: format!("cannot read it: {e}") })
            }
        }
    }

    /// The configuration from a user file's text (at `origin`, for messages and relative paths).
    pub fn from_toml_str(user_text: &str, origin: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut settings = defaults_settings()?;
        read_file(&mut settings, user_text, origin, false)?;
        apply_overrides(&mut settings, overrides);
        let base = PathBase { dir: origin.parent().map(Path::to_path_buf) };
        validate(&settings, user_text, origin, &base)
    }

    /// The retention rules of `region`.
    pub fn retention_for(&self, region: &str) -> &crate::lifecycle::retention::Retention {
        self.retention_by_region.get(region).unwrap_or(&self.retention)
    }

    /// Where lifecycle Jobs are looked for, in words: `in every namespace`, `in namespace billing`.
    pub fn job_scope(&self) -> String {
        match self.lifecycle.namespaces.as_slice() {
            [] => "in every namespace".into(),
            [one] => format!("in namespace {one}"),
            many => format!("in namespaces {}", many.join(", ")),
        }
    }

    /// Where tenants are looked for, in words (for empty results and the doctor).
    pub fn tenant_place(&self) -> String {
        match &self.tenants.source {
            TenantSource::ConfigMaps { namespace, selector, .. } => {
                format!("ConfigMaps labelled {selector} in namespace {namespace}")
            }
            TenantSource::Directory { path } => format!("the files of {}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests;
