//! Watching branch pods by their labels and turning what is seen into run-model events — the one
//! way the console learns about batches, whoever started them (this console, another one, Argo).

use std::collections::HashMap;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::runtime::watcher::{self, Event};
use tokio::sync::mpsc;

use super::discovery::list_all;
use super::error::{Result, kube_error};
use super::run::{PodSnapshot, RunEvent, RunState, update};
use crate::contract::labels::all_branches_selector;

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

/// Watches branch pods matching `selector` in every namespace until the receiver goes away,
/// sending `Pod`/`PodGone` events (a relist after a gap reports the pods that vanished meanwhile).
pub async fn watch_branches(client: kube::Client, selector: String, tx: mpsc::UnboundedSender<RunEvent>) {
    let api: Api<Pod> = Api::all(client);
    let stream = kube::runtime::WatchStreamExt::default_backoff(watcher::watcher(
        api,
        watcher::Config::default().labels(&selector),
    ));
    futures::pin_mut!(stream);
    let mut known: HashMap<String, PodSnapshot> = HashMap::new();
    let mut relisted: HashMap<String, PodSnapshot> = HashMap::new();
    let key = |s: &PodSnapshot| format!("{}/{}", s.identity.job_namespace, s.pod_name);
    while let Some(event) = stream.next().await {
        let sent = match event {
            Ok(Event::Apply(p)) => PodSnapshot::from_pod(&p).is_none_or(|s| {
                known.insert(key(&s), s.clone());
                tx.send(RunEvent::Pod(s)).is_ok()
            }),
            Ok(Event::Delete(p)) => PodSnapshot::from_pod(&p).is_none_or(|s| {
                known.remove(&key(&s));
                tx.send(RunEvent::PodGone(s)).is_ok()
            }),
            Ok(Event::Init) => {
                relisted.clear();
                true
            }
            Ok(Event::InitApply(p)) => PodSnapshot::from_pod(&p).is_none_or(|s| {
                relisted.insert(key(&s), s.clone());
                tx.send(RunEvent::Pod(s)).is_ok()
            }),
            Ok(Event::InitDone) => {
                let vanished: Vec<PodSnapshot> =
                    known.iter().filter(|(k, _)| !relisted.contains_key(*k)).map(|(_, s)| s.clone()).collect();
                known = std::mem::take(&mut relisted);
                vanished.into_iter().all(|s| tx.send(RunEvent::PodGone(s)).is_ok())
            }
            Err(_) => !tx.is_closed(),
        };
        if !sent {
            return;
        }
    }
}
