//! The pre-flight check behind `tlc doctor` and the console's `:doctor`: per region, whether it
//! answers, whether the annotation in force finds lifecycle Jobs (and, when none, which keys on
//! suspended Jobs look like one), whether the tenant source finds tenants, whether the Argo template
//! is installed, and what RBAC lets the caller do. Ready means everything triggering with the
//! configured engine needs is in place.

pub mod annotations;
pub mod permissions;
pub mod render;

use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, DynamicObject, ListParams};

use crate::config::{Config, Engine, TenantSource};
use crate::contract::LifecycleJob;
use crate::lifecycle::discovery::list_all;
use crate::lifecycle::engine::argo::{ArgoSettings, INSTALL_HINT, resource};
use crate::lifecycle::error::{deepest_cause, kube_error};
use crate::lifecycle::regions::{Region, Regions};
use crate::tenants;

pub use annotations::Candidate;
pub use permissions::Permission;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// In place.
    Ok,
    /// Worth knowing; triggering does not need it.
    Note,
    /// Triggering cannot work until this is fixed.
    Fail,
}

/// One check of a region.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// What was checked (`cluster`, `lifecycle Jobs`, `tenants`, `Argo template`, `permissions`).
    pub check: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found (and where it was looked for).
    pub detail: String,
    /// What to do about it, when there is something to do.
    pub hint: Option<String>,
}

impl Check {
    fn new(check: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Check { check, status, detail: detail.into(), hint: None }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// What the doctor found in one region.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegionReport {
    /// The region.
    pub region: String,
    /// Its kube context.
    pub context: String,
    /// Whether everything triggering needs is in place there.
    pub ready: bool,
    /// The checks, in the order they are shown.
    pub checks: Vec<Check>,
    /// Annotation keys on suspended Jobs that look like the lifecycle annotation (only looked for
    /// when no Job carries the one in force).
    pub candidates: Vec<Candidate>,
    /// Every permission tlc uses, with the answer (empty when the region does not answer).
    pub permissions: Vec<Permission>,
}

/// The doctor's report over every region asked about.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// The engine in force.
    pub engine: Engine,
    /// The annotation key in force.
    pub annotation: String,
    /// Whether every region is ready to trigger.
    pub ready: bool,
    /// Each region.
    pub regions: Vec<RegionReport>,
}

/// Examines `names` of `regions` under `config`, all regions at once.
pub async fn examine(config: &Config, regions: &Regions, names: &[String]) -> Report {
    let checks = names.iter().filter_map(|n| regions.get(n)).map(|r| examine_region(config, r));
    let regions: Vec<RegionReport> = futures::future::join_all(checks).await;
    Report {
        engine: config.run.engine,
        annotation: config.lifecycle.annotation.clone(),
        ready: regions.iter().all(|r| r.ready),
        regions,
    }
}

async fn examine_region(config: &Config, region: &Region) -> RegionReport {
    let mut report = RegionReport {
        region: region.name.clone(),
        context: region.context.clone(),
        ready: false,
        checks: Vec::new(),
        candidates: Vec::new(),
        permissions: Vec::new(),
    };
    match region.client.apiserver_version().await {
        Ok(v) => {
            report.checks.push(Check::new("cluster", Status::Ok, format!("answers: Kubernetes {}", v.git_version)))
        }
        Err(e) => {
            let said = match &e {
                kube::Error::Api(s) => format!("the API server answered {}: {}", s.code, s.message),
                other => format!("cannot reach {}: {}", region.url, deepest_cause(other)),
            };
            report.checks.push(
                Check::new("cluster", Status::Fail, said).hint("nothing else can be checked until the region answers"),
            );
            return report;
        }
    }
    let (jobs, candidates) = jobs_check(config, region).await;
    report.checks.push(jobs);
    report.candidates = candidates;
    report.checks.push(tenants_check(config, region).await);
    report.checks.push(argo_check(config, region).await);
    report.permissions = permissions::check(&region.client, config).await;
    report.checks.push(permissions_check(&report.permissions));
    report.ready = report.checks.iter().all(|c| c.status != Status::Fail);
    report
}

async fn jobs_check(config: &Config, region: &Region) -> (Check, Vec<Candidate>) {
    const WHAT: &str = "lifecycle Jobs";
    let key = &config.lifecycle.annotation;
    let scope = config.job_scope();
    let mut all: Vec<Job> = Vec::new();
    let namespaces: Vec<Option<&str>> = if config.lifecycle.namespaces.is_empty() {
        vec![None]
    } else {
        config.lifecycle.namespaces.iter().map(|n| Some(n.as_str())).collect()
    };
    for ns in namespaces {
        let api: Api<Job> = match ns {
            None => Api::all(region.client.clone()),
            Some(ns) => Api::namespaced(region.client.clone(), ns),
        };
        match list_all(&api, &ListParams::default()).await {
            Ok(jobs) => all.extend(jobs),
            Err(e) => {
                let e = kube_error(&region.name, "list", "jobs", ns)(e);
                return (Check::new(WHAT, Status::Fail, e.to_string()), Vec::new());
            }
        }
    }
    let found: Vec<LifecycleJob> =
        all.iter().filter_map(|j| LifecycleJob::from_job(j, key, &config.lifecycle.mount_dir)).collect();
    let runnable = found.iter().filter(|j| j.is_runnable()).count();
    if found.is_empty() {
        let suspended = all.iter().filter(|j| j.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false)).count();
        let candidates = annotations::candidates(&all, key);
        let detail =
            format!("no Job carries {key} {scope} ({} Jobs looked at, {suspended} of them suspended)", all.len());
        let hint = match candidates.first() {
            Some(c) => format!(
                "suspended Jobs carry {} ({} Jobs): use --annotation {} or set lifecycle.annotation in the configuration",
                c.key, c.jobs, c.key
            ),
            None => "no suspended Job has an annotation that looks like a lifecycle annotation: check the namespaces (lifecycle.namespaces, --job-namespace) and the context".into(),
        };
        return (Check::new(WHAT, Status::Fail, detail).hint(hint), candidates);
    }
    let detail = format!("{} Jobs carry {key} {scope}, {runnable} runnable", found.len());
    let check = if runnable == 0 {
        Check::new(WHAT, Status::Fail, detail).hint("every one has a problem: `tlc jobs` says which")
    } else if runnable < found.len() {
        Check::new(WHAT, Status::Ok, detail).hint("`tlc jobs` shows what is wrong with the others")
    } else {
        Check::new(WHAT, Status::Ok, detail)
    };
    (check, Vec::new())
}

async fn tenants_check(config: &Config, region: &Region) -> Check {
    const WHAT: &str = "tenants";
    let listed = match (&config.tenants.source, tenants::configmaps::ConfigMapSource::from_config(config)) {
        (_, Some(source)) => tenants::configmaps::list(&region.client, &source, &region.name).await,
        (TenantSource::Directory { path }, None) => {
            tenants::directory::list(path).map(|ts| ts.into_iter().filter(|t| t.region == region.name).collect())
        }
        (TenantSource::ConfigMaps { .. }, None) => Ok(Vec::new()),
    };
    let place = config.tenant_place();
    match listed {
        Ok(ts) if ts.is_empty() => Check::new(WHAT, Status::Fail, format!("none found in {place}")).hint(
            "check tenants.source, tenants.namespace and tenants.selector (or --tenant-source, --tenant-namespace)",
        ),
        Ok(ts) => {
            let broken = ts.iter().filter(|t| !t.problems.is_empty()).count();
            let detail = format!("{} found in {place}", ts.len());
            if broken > 0 {
                Check::new(WHAT, Status::Ok, format!("{detail}, {broken} with problems"))
                    .hint("`tlc tenants` shows the problems")
            } else {
                Check::new(WHAT, Status::Ok, detail)
            }
        }
        Err(e) => Check::new(WHAT, Status::Fail, e.to_string()),
    }
}

async fn argo_check(config: &Config, region: &Region) -> Check {
    const WHAT: &str = "Argo template";
    let argo = ArgoSettings::from_config(config);
    let needed = config.run.engine == Engine::Argo;
    let api: Api<DynamicObject> =
        Api::namespaced_with(region.client.clone(), &argo.namespace, &resource("WorkflowTemplate"));
    let name = format!("{}/{}", argo.namespace, argo.template);
    match api.get_opt(&argo.template).await {
        Ok(Some(_)) => Check::new(WHAT, if needed { Status::Ok } else { Status::Note }, format!("{name} is installed")),
        Ok(None) | Err(kube::Error::Api(_)) if !needed => {
            Check::new(WHAT, Status::Note, format!("{name} is not installed (only the argo engine needs it)"))
        }
        Ok(None) => Check::new(WHAT, Status::Fail, format!("{name} is not installed, and run.engine is argo"))
            .hint(INSTALL_HINT),
        Err(e) => Check::new(
            WHAT,
            Status::Fail,
            kube_error(&region.name, "get", "workflowtemplates", Some(&argo.namespace))(e).to_string(),
        ),
    }
}

fn permissions_check(permissions: &[Permission]) -> Check {
    const WHAT: &str = "permissions";
    let denied_required: Vec<String> = permissions
        .iter()
        .filter(|p| p.required && p.allowed != Some(true))
        .map(|p| {
            format!("{} {}{}", p.verb, p.resource, p.namespace.as_ref().map(|n| format!(" in {n}")).unwrap_or_default())
        })
        .collect();
    let allowed = permissions.iter().filter(|p| p.allowed == Some(true)).count();
    let detail = format!("{allowed} of {} allowed", permissions.len());
    if denied_required.is_empty() {
        let status = Status::Ok;
        if allowed < permissions.len() {
            Check::new(WHAT, status, detail).hint("what is denied limits what you can do; triggering works")
        } else {
            Check::new(WHAT, status, detail)
        }
    } else {
        Check::new(WHAT, Status::Fail, detail).hint(format!("triggering needs: {}", denied_required.join(", ")))
    }
}
