//! Branch pods found by their labels, turned into run-model events — the one way tlc learns about
//! batches, whoever started them (this console, another one, Argo): a list for re-attaching, and a
//! live watch (through the watch layer) that also reports pods that vanished during a watch gap.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DynamicObject, ListParams};

use super::discovery::list_all;
use super::error::{Result, kube_error};
use super::run::{PodSnapshot, RunEvent, RunState, WorkflowSeen, update};
use crate::contract::labels::all_branches_selector;
use crate::watch::{self, Change, Report};

/// Every branch pod of a region (optionally only those matching `selector`), as run-model events.
pub async fn list_branch_pods(client: &kube::Client, region: &str, selector: Option<&str>) -> Result<Vec<RunEvent>> {
    let api: Api<Pod> = Api::all(client.clone());
    let selector = selector.map_or_else(all_branches_selector, str::to_string);
    let pods = list_all(&api, &ListParams::default().labels(&selector))
        .await
        .map_err(kube_error(region, "list", "pods", None))?;
    Ok(pods.iter().filter_map(PodSnapshot::from_pod).map(RunEvent::Pod).collect())
}

/// Every batch of a region, rebuilt from its labelled pods (re-attach).
pub async fn list_batches(client: &kube::Client, region: &str, selector: Option<&str>) -> Result<RunState> {
    let mut state = RunState::default();
    for event in list_branch_pods(client, region, selector).await? {
        update(&mut state, event);
    }
    Ok(state)
}

/// Watches branch pods matching `selector` (default: every branch) in every namespace until `on`
/// returns `false`, reporting `Pod`/`PodGone` events — after a relist, `PodGone` for the pods that
/// vanished during the gap — and the connection as it changes.
pub async fn watch_branches(
    client: kube::Client,
    selector: Option<&str>,
    url: &str,
    mut on: impl FnMut(Report<RunEvent>) -> bool,
) {
    let api: Api<Pod> = Api::all(client);
    let selector = selector.map_or_else(all_branches_selector, str::to_string);
    let config = kube::runtime::watcher::Config::default().labels(&selector);
    watch::watch(api, config, url, watch::trim::branch_pod, |change| match change {
        Change::Connection(c) => on(Report::Connection(c)),
        Change::Listed { all, vanished } => {
            all.values().filter_map(PodSnapshot::from_pod).all(|s| on(Report::Data(RunEvent::Pod(s))))
                && vanished.iter().filter_map(PodSnapshot::from_pod).all(|s| on(Report::Data(RunEvent::PodGone(s))))
        }
        Change::Applied { object, .. } => {
            PodSnapshot::from_pod(object).is_none_or(|s| on(Report::Data(RunEvent::Pod(s))))
        }
        Change::Deleted { object, .. } => {
            PodSnapshot::from_pod(&object).is_none_or(|s| on(Report::Data(RunEvent::PodGone(s))))
        }
    })
    .await;
}

/// [`watch_workflows`] into a channel, until the receiver goes away (see [`forward_branches`]).
pub async fn forward_workflows(
    client: kube::Client,
    region: String,
    namespace: String,
    which: WorkflowsWanted,
    url: String,
    tx: tokio::sync::mpsc::UnboundedSender<RunEvent>,
) {
    let forward = |report| match report {
        Report::Data(e) => tx.send(e).is_ok(),
        Report::Connection(_) => !tx.is_closed(),
    };
    let config = match &which {
        WorkflowsWanted::Labelled(selector) => kube::runtime::watcher::Config::default().labels(selector),
        WorkflowsWanted::Named(name) => {
            kube::runtime::watcher::Config::default().fields(&format!("metadata.name={name}"))
        }
    };
    watch_workflows_with(client, &region, &namespace, config, &url, forward).await;
}

/// Which Workflows [`forward_workflows`] follows: those a label selector matches (tlc's own carry
/// their batch's label from the start), or one by name (one an Argo Events Sensor made carries no
/// batch label: its batch id is its discovery's output).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkflowsWanted {
    /// A label selector.
    Labelled(String),
    /// One Workflow's name.
    Named(String),
}

/// [`watch_branches`] into a channel, until the receiver goes away: the form `tlc run`/`tlc logs`
/// (several regions into one stream) and the tests use. Connection changes are not forwarded: the
/// watch retries with back-off, and what could not be followed is said by the follower's summary.
pub async fn forward_branches(
    client: kube::Client,
    selector: Option<String>,
    url: String,
    tx: tokio::sync::mpsc::UnboundedSender<RunEvent>,
) {
    watch_branches(client, selector.as_deref(), &url, |report| match report {
        Report::Data(e) => tx.send(e).is_ok(),
        Report::Connection(_) => !tx.is_closed(),
    })
    .await;
}

/// The label selector of every Workflow tlc shows: what tlc puts on the Workflows it submits and
/// what the template's `workflowMetadata` puts on every Workflow made from it.
pub fn all_workflows_selector() -> String {
    format!("{},{}=argo", crate::contract::labels::MANAGED_BY_SELECTOR, crate::contract::labels::ENGINE)
}

/// Every Workflow of the Argo engine in `namespace` (optionally only those matching `selector`), as
/// run-model events. A cluster without Argo's resources (404) has none.
pub async fn list_workflows(
    client: &kube::Client,
    region: &str,
    namespace: &str,
    selector: Option<&str>,
) -> Result<Vec<RunEvent>> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), namespace, &crate::lifecycle::engine::argo::resource("Workflow"));
    let selector = selector.map_or_else(all_workflows_selector, str::to_string);
    match list_all(&api, &ListParams::default().labels(&selector)).await {
        Ok(items) => Ok(items.iter().map(|w| RunEvent::Workflow(Box::new(WorkflowSeen::read(region, w)))).collect()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(Vec::new()),
        Err(e) => Err(kube_error(region, "list", "workflows", Some(namespace))(e)),
    }
}

/// Watches the Argo engine's Workflows in `namespace` until `on` returns `false`, reporting each
/// as it changes (its status read by `lifecycle::argo`), those that vanished during a watch gap as
/// gone, and the connection as it changes.
pub async fn watch_workflows(
    client: kube::Client,
    region: &str,
    namespace: &str,
    selector: Option<&str>,
    url: &str,
    on: impl FnMut(Report<RunEvent>) -> bool,
) {
    let selector = selector.map_or_else(all_workflows_selector, str::to_string);
    let config = kube::runtime::watcher::Config::default().labels(&selector);
    watch_workflows_with(client, region, namespace, config, url, on).await;
}

async fn watch_workflows_with(
    client: kube::Client,
    region: &str,
    namespace: &str,
    config: kube::runtime::watcher::Config,
    url: &str,
    mut on: impl FnMut(Report<RunEvent>) -> bool,
) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client, namespace, &crate::lifecycle::engine::argo::resource("Workflow"));
    let seen = |w: &DynamicObject| RunEvent::Workflow(Box::new(WorkflowSeen::read(region, w)));
    let gone = |w: &DynamicObject| RunEvent::WorkflowGone { uid: w.metadata.uid.clone().unwrap_or_default() };
    watch::watch(
        api,
        config,
        url,
        |_| {},
        |change| match change {
            Change::Connection(c) => on(Report::Connection(c)),
            Change::Listed { all, vanished } => {
                all.values().all(|w| on(Report::Data(seen(w)))) && vanished.iter().all(|w| on(Report::Data(gone(w))))
            }
            Change::Applied { object, .. } => on(Report::Data(seen(object))),
            Change::Deleted { object, .. } => on(Report::Data(gone(&object))),
        },
    )
    .await;
}
