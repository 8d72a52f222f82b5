//! Reading a configuration file (TOML) over the defaults, with every error pointing at the key in
//! the user's file; applying flag overrides; validating the result.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Origin, line_column};
use super::settings::{Kind, Raw, SCHEMA, Settings, Source, suggest};
use super::{
    ClusterConfig, Config, Engine, LifecycleConfig, Overrides, RegionContext, RunConfig, TenantSource, TenantsConfig,
    UiConfig,
};
use crate::contract::engine::UnknownEngine;
use kube_grammar::selector::{is_dns_label, validate_label_key};

/// Reads a file's text into `settings`; `path` is for messages; `defaults` marks the values as the
/// built-in defaults rather than the user's.
pub fn read_file(settings: &mut Settings, text: &str, path: &Path, defaults: bool) -> Result<(), ConfigError> {
    let at = |span: Range<usize>, key: Option<String>, message: String| {
        let (line, column) = line_column(text, span.start);
        ConfigError { origin: Origin::File { path: path.to_path_buf(), line, column }, key, message }
    };
    let doc = DeTable::parse(text)
        .map_err(|e| at(e.span().unwrap_or(0..0), None, format!("invalid TOML: {}", e.message())))?;
    for (table_key, table_value) in doc.get_ref().iter() {
        let table_name: &str = table_key.get_ref();
        let Some((_, keys)) = SCHEMA.iter().find(|(t, _)| *t == table_name) else {
            let hint = suggest(table_name, SCHEMA.iter().map(|(t, _)| *t))
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(at(table_key.span(), None, format!("unknown key `{}`{hint}", table_name.escape_debug())));
        };
        let DeValue::Table(table) = table_value.get_ref() else {
            return Err(at(
                table_value.span(),
                Some(table_name.into()),
                format!("expected a table, found {}", type_name(table_value.get_ref())),
            ));
        };
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            let dotted = format!("{table_name}.{name}");
            let Some((_, kind)) = keys.iter().find(|(k, _)| *k == name) else {
                let hint = suggest(name, keys.iter().map(|(k, _)| *k))
                    .map(|s| format!(" (did you mean `{table_name}.{s}`?)"))
                    .unwrap_or_default();
                return Err(at(key.span(), None, format!("unknown key `{}`{hint}", dotted.escape_debug())));
            };
            let raw = convert(value, *kind).map_err(|m| at(value.span(), Some(dotted.clone()), m))?;
            settings.set(&dotted, raw, if defaults { Source::Default } else { Source::File(value.span()) });
        }
    }
    Ok(())
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn convert(value: &Spanned<DeValue<'_>>, kind: Kind) -> Result<Raw, String> {
    let v = value.get_ref();
    let wrong = || format!("expected {}, found {}", kind.describe(), type_name(v));
    match kind {
        Kind::Str => v.as_str().map(|s| Raw::Str(s.to_string())).ok_or_else(wrong),
        Kind::Bool => v.as_bool().map(Raw::Bool).ok_or_else(wrong),
        Kind::Int => v
            .as_integer()
            .ok_or_else(wrong)
            .and_then(|i| {
                i64::from_str_radix(i.as_str().replace('_', "").trim_start_matches('+'), i.radix())
                    .map_err(|e| format!("invalid integer: {e}"))
            })
            .map(Raw::Int),
        Kind::StrList => {
            let items = v.as_array().ok_or_else(wrong)?;
            items
                .iter()
                .map(|item| {
                    item.get_ref().as_str().map(str::to_string).ok_or_else(|| {
                        format!("expected {}, found an array containing {}", kind.describe(), type_name(item.get_ref()))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Raw::StrList)
        }
    }
}

/// Applies the command-line overrides.
pub fn apply_overrides(settings: &mut Settings, o: &Overrides) {
    let mut set = |key: &str, raw: Raw, flag: &str| settings.set(key, raw, Source::Flag(flag.into()));
    if let Some(v) = &o.kubeconfig {
        set("cluster.kubeconfig", Raw::Str(v.display().to_string()), "--kubeconfig");
    }
    if let Some(v) = &o.contexts {
        set("cluster.contexts", Raw::StrList(v.clone()), "--context");
    }
    if let Some(v) = &o.annotation {
        set("lifecycle.annotation", Raw::Str(v.clone()), "--annotation");
    }
    if let Some(v) = &o.namespaces {
        set("lifecycle.namespaces", Raw::StrList(v.clone()), "--job-namespace");
    }
    if let Some(v) = &o.mount_dir {
        set("lifecycle.mount_dir", Raw::Str(v.clone()), "--mount-dir");
    }
    if let Some(v) = &o.tenant_source {
        match v.strip_prefix("dir:") {
            Some(dir) => {
                set("tenants.source", Raw::Str("directory".into()), "--tenant-source");
                set("tenants.directory", Raw::Str(dir.into()), "--tenant-source");
            }
            None => set("tenants.source", Raw::Str(v.clone()), "--tenant-source"),
        }
    }
    if let Some(v) = &o.tenant_namespace {
        set("tenants.namespace", Raw::Str(v.clone()), "--tenant-namespace");
    }
    if let Some(v) = o.engine {
        set("run.engine", Raw::Str(v.as_str().to_string()), "--engine");
    }
    if let Some(v) = o.concurrency {
        set("run.concurrency", Raw::Int(i64::try_from(v).unwrap_or(i64::MAX)), "--concurrency");
    }
    if o.read_only {
        set("run.read_only", Raw::Bool(true), "--read-only");
    }
}

/// Where a file's relative paths resolve from, and the home directory for `~/`.
pub struct PathBase {
    /// The config file's directory.
    pub dir: Option<PathBuf>,
}

impl PathBase {
    fn resolve(&self, value: &str) -> PathBuf {
        if let Some(rest) = value.strip_prefix("~/")
            && let Some(home) = directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
        {
            return home.join(rest);
        }
        let p = PathBuf::from(value);
        match (&self.dir, p.is_relative()) {
            (Some(dir), true) => dir.join(p),
            _ => p,
        }
    }
}

/// Checks every setting and builds the configuration; `text` and `path` turn file positions into
/// line and column.
pub fn validate(settings: &Settings, text: &str, path: &Path, base: &PathBase) -> Result<Config, ConfigError> {
    let fail = |key: &str, message: String| {
        let origin = match settings.source(key) {
            Source::File(span) => {
                let (line, column) = line_column(text, span.start);
                Origin::File { path: path.to_path_buf(), line, column }
            }
            Source::Flag(flag) => Origin::Flag(flag),
            Source::Default => Origin::Path(path.to_path_buf()),
        };
        ConfigError { origin, key: Some(key.to_string()), message }
    };
    let from_file = |key: &str| matches!(settings.source(key), Source::File(_));
    let path_setting = |key: &str| -> Option<PathBuf> {
        let v = settings.str(key);
        if v.is_empty() {
            None
        } else if from_file(key) {
            Some(base.resolve(&v))
        } else {
            Some(PathBase { dir: None }.resolve(&v))
        }
    };

    let mut contexts: Vec<RegionContext> = Vec::new();
    for (i, entry) in settings.list("cluster.contexts").iter().enumerate() {
        let (region, context) = match entry.split_once('=') {
            Some((r, c)) => (r.trim(), c.trim()),
            None => (entry.trim(), entry.trim()),
        };
        if region.is_empty() || context.is_empty() {
            return Err(fail(
                "cluster.contexts",
                format!("entry {} must be CONTEXT or REGION=CONTEXT, got \"{}\"", i + 1, entry.escape_debug()),
            ));
        }
        if contexts.iter().any(|c| c.region == region) {
            return Err(fail("cluster.contexts", format!("region \"{}\" is listed twice", region.escape_debug())));
        }
        contexts.push(RegionContext { region: region.into(), context: context.into() });
    }

    let annotation = settings.str("lifecycle.annotation");
    if validate_label_key(&annotation).is_err() {
        return Err(fail(
            "lifecycle.annotation",
            format!(
                "must be a Kubernetes annotation key (an optional DNS subdomain prefix and '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), got \"{}\"",
                annotation.escape_debug()
            ),
        ));
    }
    let namespaces = settings.list("lifecycle.namespaces");
    if let Some(bad) = namespaces.iter().find(|n| !is_dns_label(n)) {
        return Err(fail(
            "lifecycle.namespaces",
            format!(
                "\"{}\" is not a namespace name (lowercase letters, digits and '-', at most 63)",
                bad.escape_debug()
            ),
        ));
    }
    let mount_dir = settings.str("lifecycle.mount_dir");
    if !mount_dir.starts_with('/') || mount_dir.trim_end_matches('/').is_empty() {
        return Err(fail(
            "lifecycle.mount_dir",
            format!("must be an absolute path other than /, got \"{}\"", mount_dir.escape_debug()),
        ));
    }

    let source = match settings.str("tenants.source").as_str() {
        "configmaps" => {
            let namespace = settings.str("tenants.namespace");
            if !is_dns_label(&namespace) {
                return Err(fail(
                    "tenants.namespace",
                    format!(
                        "\"{}\" is not a namespace name (lowercase letters, digits and '-', at most 63)",
                        namespace.escape_debug()
                    ),
                ));
            }
            for key in ["tenants.selector", "tenants.id_label", "tenants.key"] {
                if settings.str(key).trim().is_empty() {
                    return Err(fail(key, "must not be empty".into()));
                }
            }
            kube_grammar::selector::LabelSelector::parse(&settings.str("tenants.selector"))
                .map_err(|e| fail("tenants.selector", format!("not a label selector: {}", e.0)))?;
            TenantSource::ConfigMaps {
                namespace,
                selector: settings.str("tenants.selector"),
                id_label: settings.str("tenants.id_label"),
                key: settings.str("tenants.key"),
            }
        }
        "directory" => match path_setting("tenants.directory") {
            Some(path) => TenantSource::Directory { path },
            None => {
                return Err(fail(
                    "tenants.source",
                    "\"directory\" needs tenants.directory: the folder of tenant YAML files".into(),
                ));
            }
        },
        other => {
            return Err(fail(
                "tenants.source",
                format!("must be \"configmaps\" or \"directory\", got \"{}\"", other.escape_debug()),
            ));
        }
    };

    let engine: Engine =
        settings.str("run.engine").parse().map_err(|e: UnknownEngine| fail("run.engine", e.to_string()))?;
    let concurrency = settings.int("run.concurrency");
    if !(1..=1000).contains(&concurrency) {
        return Err(fail("run.concurrency", format!("must be between 1 and 1000, got {concurrency}")));
    }
    let argo_namespace = settings.str("run.argo_namespace");
    if !is_dns_label(&argo_namespace) {
        return Err(fail(
            "run.argo_namespace",
            format!("\"{}\" is not a namespace name", argo_namespace.escape_debug()),
        ));
    }
    let workflow_template = settings.str("run.workflow_template");
    if workflow_template.trim().is_empty() {
        return Err(fail("run.workflow_template", "must not be empty".into()));
    }
    let records_namespace = settings.str("run.records_namespace");
    if !is_dns_label(&records_namespace) {
        return Err(fail(
            "run.records_namespace",
            format!("\"{}\" is not a namespace name", records_namespace.escape_debug()),
        ));
    }
    let age = |key: &str| -> Result<Option<jiff::SignedDuration>, ConfigError> {
        let text = settings.str(key);
        if text.is_empty() {
            return Ok(None);
        }
        crate::lifecycle::retention::parse_age(&text).map(Some).map_err(|e| fail(key, e))
    };
    let keep_last = settings.int("retention.keep_last");
    if keep_last < 0 {
        return Err(fail("retention.keep_last", format!("must be 0 (no such rule) or more, got {keep_last}")));
    }
    let retention = crate::lifecycle::retention::Retention {
        older_than: age("retention.older_than")?,
        keep_last: (keep_last > 0).then_some(keep_last as usize),
        records_older_than: age("retention.records_older_than")?,
    };
    let mut retention_by_region = std::collections::BTreeMap::new();
    for entry in settings.list("retention.regions") {
        let (region, rules) = entry.split_once(':').ok_or_else(|| {
            fail("retention.regions", format!("{entry:?} is not \"REGION: older_than=…, keep_last=…\""))
        })?;
        let rules =
            retention.with_overrides(rules).map_err(|e| fail("retention.regions", format!("{entry:?}: {e}")))?;
        retention_by_region.insert(region.trim().to_string(), rules);
    }
    let theme = settings.str("ui.theme");
    if theme.trim().is_empty() {
        return Err(fail("ui.theme", "must not be empty".into()));
    }
    let scrollback = settings.int("ui.scrollback");
    if !(10_000..=10_000_000).contains(&scrollback) {
        return Err(fail("ui.scrollback", format!("must be between 10000 and 10000000, got {scrollback}")));
    }
    let log_streams = settings.int("ui.log_streams");
    if !(1..=1000).contains(&log_streams) {
        return Err(fail("ui.log_streams", format!("must be between 1 and 1000, got {log_streams}")));
    }
    Ok(Config {
        ui: UiConfig {
            theme,
            scrollback: scrollback as usize,
            log_streams: log_streams as usize,
            bundle_dir: path_setting("ui.bundle_dir"),
        },
        cluster: ClusterConfig { kubeconfig: path_setting("cluster.kubeconfig"), contexts },
        lifecycle: LifecycleConfig { annotation, namespaces, mount_dir },
        tenants: TenantsConfig { source },
        retention,
        retention_by_region,
        run: RunConfig {
            engine,
            concurrency: concurrency as usize,
            read_only: settings.bool("run.read_only"),
            argo_namespace,
            workflow_template,
            records_namespace,
        },
    })
}
