//! Branch pods found by their labels, turned into run-model events — the one way tlc learns about
//! batches, whoever started them (this console, another one, Argo): a list for re-attaching, and a
//! live watch (through the watch layer) that also reports pods that vanished during a watch gap.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

use super::discovery::list_all;
use super::error::{Result, kube_error};
use super::run::{PodSnapshot, RunEvent, RunState, update};
use crate::contract::labels::all_branches_selector;
use crate::watch::{self, Change, Report};

/// Every batch of a region, rebuilt from its labelled pods (re-attach).
pub async fn list_batches(client: &kube::Client, region: &str, selector: Option<&str>) -> Result<RunState> {
    let api: Api<Pod> = Api::all(client.clone());
    let selector = selector.map_or_else(all_branches_selector, str::to_string);
    let pods = list_all(&api, &ListParams::default().labels(&selector))
        .await
        .map_err(kube_error(region, "list", "pods", None))?;
    let mut state = RunState::default();
    for pod in &pods {
        if let Some(s) = PodSnapshot::from_pod(pod) {
            update(&mut state, RunEvent::Pod(s));
        }
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
