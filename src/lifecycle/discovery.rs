//! Discovery: every lifecycle Job across namespaces (or a namespace list), with its problems; and the
//! seed's JSON (`[{"name":…,"namespace":…}]`, stable order, runnable Jobs only) that feeds an Argo
//! `withParam`. Teams add and remove Jobs at any time: each run of discovery sees the current set.

use k8s_openapi::api::batch::v1::Job;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;

use super::error::{Result, kube_error};
use crate::contract::LifecycleJob;
use crate::watch::{self, Change, Report};

/// What to discover and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    /// The lifecycle annotation key.
    pub annotation: String,
    /// Namespaces to look in; empty means all.
    pub namespaces: Vec<String>,
    /// Where the bridge mounts the files (a template using it is a problem).
    pub mount_dir: String,
}

tokio::task_local! {
    /// The list requests [`list_all`] made, in a task that asked to count them.
    static LIST_REQUESTS: std::cell::Cell<usize>;
}

/// Runs `work`, counting the list requests it makes through [`list_all`] (one per page, a failed
/// one too): what `tlc gc` states its preview cost.
pub async fn counting_list_requests<T>(work: impl std::future::Future<Output = T>) -> (T, usize) {
    LIST_REQUESTS
        .scope(std::cell::Cell::new(0), async move {
            let out = work.await;
            (out, LIST_REQUESTS.with(std::cell::Cell::get))
        })
        .await
}

/// Lists everything matching `params`, page by page (large estates have thousands of Jobs).
pub async fn list_all<K>(api: &Api<K>, params: &ListParams) -> std::result::Result<Vec<K>, kube::Error>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = params.clone().limit(500);
    loop {
        let _ = LIST_REQUESTS.try_with(|n| n.set(n.get() + 1));
        let page = api.list(&params).await?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

/// Every lifecycle Job in the region, sorted by namespace then name.
pub async fn discover(client: &kube::Client, region: &str, scope: &Scope) -> Result<Vec<LifecycleJob>> {
    let mut jobs: Vec<Job> = Vec::new();
    if scope.namespaces.is_empty() {
        let api: Api<Job> = Api::all(client.clone());
        jobs = list_all(&api, &ListParams::default()).await.map_err(kube_error(region, "list", "jobs", None))?;
    } else {
        for ns in &scope.namespaces {
            let api: Api<Job> = Api::namespaced(client.clone(), ns);
            jobs.extend(list_all(&api, &ListParams::default()).await.map_err(kube_error(
                region,
                "list",
                "jobs",
                Some(ns),
            ))?);
        }
    }
    let mut found: Vec<LifecycleJob> =
        jobs.iter().filter_map(|j| LifecycleJob::from_job(j, &scope.annotation, &scope.mount_dir)).collect();
    found.sort_by(|a, b| a.job.cmp(&b.job));
    Ok(found)
}

/// The runnable Jobs that handle `operation`, in discovery order.
pub fn runnable_for<'a>(jobs: &'a [LifecycleJob], operation: &'a str) -> impl Iterator<Item = &'a LifecycleJob> + 'a {
    jobs.iter().filter(move |j| j.is_runnable() && j.handles(operation))
}

/// The seed's discovery output: `[{"name":…,"namespace":…}]` of `jobs` (see [`runnable_for`]).
pub fn seed_json<'a>(jobs: impl IntoIterator<Item = &'a LifecycleJob>) -> String {
    let list: Vec<serde_json::Value> =
        jobs.into_iter().map(|j| serde_json::json!({"name": j.job.name, "namespace": j.job.namespace})).collect();
    serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())
}

/// Watches the lifecycle Jobs of a region through the watch layer: reports every lifecycle Job in
/// `scope` (sorted, with its problems) once listed and again after every change, and the
/// connection as it changes, until `on` returns `false`. Each Job is read once, when it changes.
pub async fn watch(
    client: kube::Client,
    scope: &Scope,
    url: &str,
    mut on: impl FnMut(Report<Vec<LifecycleJob>>) -> bool,
) {
    let api: Api<Job> = Api::all(client);
    let in_scope = |j: &Job| {
        scope.namespaces.is_empty() || scope.namespaces.iter().any(|n| Some(n) == j.metadata.namespace.as_ref())
    };
    let read = |j: &Job| LifecycleJob::from_job(j, &scope.annotation, &scope.mount_dir).filter(|_| in_scope(j));
    let mut found: std::collections::BTreeMap<String, LifecycleJob> = Default::default();
    watch::watch(api, kube::runtime::watcher::Config::default(), url, watch::trim::managed_fields, |change| {
        match change {
            Change::Connection(c) => return on(Report::Connection(c)),
            Change::Listed { all, .. } => {
                found = all.iter().filter_map(|(k, j)| read(j).map(|l| (k.clone(), l))).collect();
            }
            Change::Applied { object, .. } => match read(object) {
                Some(l) => {
                    found.insert(watch::key_of(object), l);
                }
                None => {
                    found.remove(&watch::key_of(object));
                }
            },
            Change::Deleted { object, .. } => {
                found.remove(&watch::key_of(&object));
            }
        }
        let mut list: Vec<LifecycleJob> = found.values().cloned().collect();
        list.sort_by(|a, b| a.job.cmp(&b.job));
        on(Report::Data(list))
    })
    .await;
}
