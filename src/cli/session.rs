//! What every cluster-facing command starts from: the configuration (file, then flags), the
//! regions it names, and helpers to read tenants and lifecycle Jobs across them. A region that
//! cannot be read is reported and the others carry on.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use crate::config::{Config, ConfigSource, Overrides, TenantSource};
use crate::contract::LifecycleJob;
use crate::lifecycle::discovery::{self, Scope};
use crate::lifecycle::error::{Error, Result};
use crate::lifecycle::regions::Regions;
use crate::tenants::{self, Tenant, configmaps::ConfigMapSource};

/// Options every cluster-facing command takes; each overrides the configuration file.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Configuration file (default: the user config dir's tlc/config.toml; env TLC_CONFIG).
    #[arg(long, global = true, env = "TLC_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Kubeconfig to read (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// A region's kube context, `CONTEXT` or `REGION=CONTEXT`; repeat for several regions.
    #[arg(long = "context", global = true, value_name = "CONTEXT")]
    pub contexts: Vec<String>,
    /// The lifecycle annotation key (the seed estate uses collibra.com/tenant.lifecycle).
    #[arg(long, global = true, value_name = "KEY")]
    pub annotation: Option<String>,
    /// Discover lifecycle Jobs only in these namespaces (repeatable).
    #[arg(long = "job-namespace", global = true, value_name = "NS")]
    pub job_namespaces: Vec<String>,
    /// Where branch pods mount environment.yaml and changeset.yaml.
    #[arg(long, global = true, value_name = "DIR")]
    pub mount_dir: Option<String>,
    /// Tenant source: `configmaps` or `dir:PATH`.
    #[arg(long, global = true, value_name = "SOURCE")]
    pub tenant_source: Option<String>,
    /// Namespace of tenant ConfigMaps.
    #[arg(long, global = true, value_name = "NS")]
    pub tenant_namespace: Option<String>,
    /// Branches in flight per batch.
    #[arg(long, global = true, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Refuse every mutation.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Write a diagnostics log to this file (watches, launches, kube-rs requests, retries and
    /// back-offs); off by default.
    #[arg(long, global = true, env = "TLC_LOG", value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// What the diagnostics log records (tracing directives, as RUST_LOG).
    #[arg(long, global = true, env = "TLC_LOG_LEVEL", value_name = "FILTER", default_value = crate::diagnostics::DEFAULT_FILTER)]
    pub log_level: String,
}

impl GlobalArgs {
    /// The flags that override the configuration file.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            kubeconfig: self.kubeconfig.clone(),
            contexts: (!self.contexts.is_empty()).then(|| self.contexts.clone()),
            annotation: self.annotation.clone(),
            namespaces: (!self.job_namespaces.is_empty()).then(|| self.job_namespaces.clone()),
            mount_dir: self.mount_dir.clone(),
            tenant_source: self.tenant_source.clone(),
            tenant_namespace: self.tenant_namespace.clone(),
            engine: None,
            concurrency: self.concurrency,
            read_only: self.read_only,
        }
    }

    /// Where the console looks for user themes: `themes/` next to the configuration file in use
    /// (`--config`/`TLC_CONFIG`, else the default one).
    pub fn theme_dir(&self) -> Option<std::path::PathBuf> {
        match &self.config {
            Some(p) => Some(p.parent().unwrap_or(std::path::Path::new(".")).join("themes")),
            None => crate::tui::runtime::default_theme_dir(),
        }
    }

    /// The configuration: defaults, the file, then these flags.
    pub fn load_config(&self) -> Result<Config> {
        let source = match &self.config {
            Some(p) => ConfigSource::Explicit(p.clone()),
            None => ConfigSource::Default,
        };
        Config::load(source, &self.overrides()).map_err(|e| Error::Setup(e.to_string()))
    }
}

/// A configured, connected session.
pub struct Session {
    /// The configuration in force.
    pub config: Config,
    /// The regions.
    pub regions: Regions,
}

impl Session {
    /// Loads the configuration and connects to its regions.
    pub async fn open(args: &GlobalArgs) -> Result<Session> {
        let config = args.load_config()?;
        let contexts: Vec<(String, String)> =
            config.cluster.contexts.iter().map(|c| (c.region.clone(), c.context.clone())).collect();
        let regions = Regions::connect(config.cluster.kubeconfig.as_deref(), &contexts).await?;
        Ok(Session { config, regions })
    }

    /// The discovery scope from the configuration.
    pub fn scope(&self) -> Scope {
        Scope {
            annotation: self.config.lifecycle.annotation.clone(),
            namespaces: self.config.lifecycle.namespaces.clone(),
            mount_dir: self.config.lifecycle.mount_dir.clone(),
        }
    }

    /// Region names to work on: `only` if given (checked), else all.
    pub fn region_names(&self, only: &[String]) -> Result<Vec<String>> {
        if only.is_empty() {
            return Ok(self.regions.names());
        }
        for r in only {
            self.regions.require(r)?;
        }
        Ok(only.to_vec())
    }

    /// Tenants of the given regions, with the regions that could not be read.
    pub async fn tenants(&self, regions: &[String]) -> (Vec<Tenant>, Vec<Error>) {
        let mut all = Vec::new();
        let mut errors = Vec::new();
        match (&self.config.tenants.source, ConfigMapSource::from_config(&self.config)) {
            (_, Some(source)) => {
                let reads = regions.iter().filter_map(|r| self.regions.get(r)).map(|r| {
                    let source = source.clone();
                    async move { tenants::configmaps::list(&r.client, &source, &r.name).await }
                });
                for result in futures::future::join_all(reads).await {
                    match result {
                        Ok(t) => all.extend(t),
                        Err(e) => errors.push(e),
                    }
                }
            }
            (TenantSource::Directory { path }, None) => match tenants::directory::list(path) {
                Ok(t) => all.extend(
                    t.into_iter().filter(|t| regions.contains(&t.region) || !self.regions.names().contains(&t.region)),
                ),
                Err(e) => errors.push(e),
            },
            (TenantSource::ConfigMaps { .. }, None) => {}
        }
        tenants::sort(&mut all);
        (all, errors)
    }

    /// Finds tenants by name, id or origin across the given regions; every query must match exactly one.
    pub async fn resolve_tenants(&self, queries: &[String], regions: &[String]) -> Result<Vec<Tenant>> {
        let (all, errors) = self.tenants(regions).await;
        if let Some(e) = errors.into_iter().next() {
            return Err(e);
        }
        let mut chosen: Vec<Tenant> = Vec::new();
        for q in queries {
            let found: Vec<&Tenant> = all.iter().filter(|t| t.matches(q)).collect();
            match found.as_slice() {
                [] => {
                    return Err(Error::NotFound(format!(
                        "no tenant named or with id \"{q}\" in {}",
                        regions.join(", ")
                    )));
                }
                [one] => {
                    if !chosen.iter().any(|c| c.id == one.id && c.region == one.region) {
                        chosen.push((*one).clone());
                    }
                }
                many => {
                    let places: Vec<String> = many.iter().map(|t| format!("{} ({})", t.origin, t.region)).collect();
                    return Err(Error::Input(format!(
                        "\"{q}\" matches several tenants: {}; use the id or --region",
                        places.join(", ")
                    )));
                }
            }
        }
        Ok(chosen)
    }

    /// Lifecycle Jobs of the given regions, with the regions that could not be read.
    pub async fn jobs(&self, regions: &[String]) -> (BTreeMap<String, Vec<LifecycleJob>>, Vec<Error>) {
        let scope = self.scope();
        let reads = regions.iter().filter_map(|r| self.regions.get(r)).map(|r| {
            let scope = scope.clone();
            async move { (r.name.clone(), discovery::discover(&r.client, &r.name, &scope).await) }
        });
        let mut jobs = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, result) in futures::future::join_all(reads).await {
            match result {
                Ok(j) => {
                    jobs.insert(name, j);
                }
                Err(e) => errors.push(e),
            }
        }
        (jobs, errors)
    }
}

/// Prints region errors on stderr (the other regions' results are still shown).
pub fn report(errors: &[Error]) {
    for e in errors {
        eprintln!("tlc: {e}");
    }
}

#[cfg(test)]
mod theme_dir_tests {
    use super::*;

    #[test]
    fn user_themes_live_next_to_the_configuration_in_use() {
        let explicit = GlobalArgs { config: Some(PathBuf::from("/srv/ops/tlc.toml")), ..Default::default() };
        assert_eq!(explicit.theme_dir(), Some(PathBuf::from("/srv/ops/themes")));
        let default = GlobalArgs::default();
        assert_eq!(default.theme_dir(), crate::tui::runtime::default_theme_dir());
    }
}
