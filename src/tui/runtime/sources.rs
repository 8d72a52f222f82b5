//! The console's data sources, per region: tenants (ConfigMaps, watched; or a directory, read
//! once), lifecycle Jobs (watched, re-read on every change), branch pods (watched, as run-model
//! events), and what RBAC allows (SelfSubjectAccessReview). Every watch uses kube-rs' watcher
//! with back-off and reports the region's connection state as it changes, so an unreachable
//! region shows as such while the others keep working.

use std::collections::BTreeMap;

use futures::StreamExt;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, PostParams};
use kube::runtime::watcher::{self, Event};
use tokio::sync::mpsc::UnboundedSender;

use crate::contract::LifecycleJob;
use crate::contract::labels::all_branches_selector;
use crate::lifecycle::discovery::Scope;
use crate::lifecycle::regions::Region;
use crate::lifecycle::run::{PodSnapshot, RunEvent};
use crate::tenants::configmaps::{ConfigMapSource, tenant_from_configmap};
use crate::tui::data::{Access, Connection, DataEvent};

/// What a watched collection tells its owner.
enum Change<'a, K> {
    /// The (re)list finished: everything known now, and what vanished since the last list.
    Listed(&'a BTreeMap<String, K>, Vec<K>),
    /// One object was added or changed.
    Applied(&'a BTreeMap<String, K>, &'a K),
    /// One object was deleted.
    Deleted(&'a BTreeMap<String, K>, K),
}

/// Drops the server's field-ownership records, which nothing in the console reads.
fn trim_managed_fields<K: kube::Resource>(o: &mut K) {
    o.meta_mut().managed_fields = None;
}

/// A branch pod as the runs view needs it: metadata, status, and its containers' names (the rest
/// of the spec — scripts, env, volumes — is a few kilobytes a pod, times every branch ever run).
fn trim_branch_pod(pod: &mut Pod) {
    trim_managed_fields(pod);
    if let Some(spec) = pod.spec.as_mut() {
        let containers = std::mem::take(&mut spec.containers)
            .into_iter()
            .map(|c| k8s_openapi::api::core::v1::Container { name: c.name, ..Default::default() })
            .collect();
        *spec = k8s_openapi::api::core::v1::PodSpec { containers, ..Default::default() };
    }
}

fn key_of<K: kube::Resource>(o: &K) -> String {
    format!("{}/{}", o.meta().namespace.as_deref().unwrap_or(""), o.meta().name.as_deref().unwrap_or(""))
}

/// Watches `api` and calls `emit` on every change, reporting the region's connection as it goes;
/// every object is passed through `trim` before it is kept (what the console never reads need not
/// stay in memory for the console's lifetime). Ends when `emit` returns `false` (the console is gone).
async fn watch_collection<K, F>(
    api: Api<K>,
    config: watcher::Config,
    region: &Region,
    tx: &UnboundedSender<DataEvent>,
    trim: fn(&mut K),
    mut emit: F,
) where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
    F: FnMut(Change<'_, K>) -> bool,
{
    let stream = kube::runtime::WatchStreamExt::default_backoff(watcher::watcher(api, config));
    futures::pin_mut!(stream);
    let mut known: BTreeMap<String, K> = BTreeMap::new();
    let mut relist: BTreeMap<String, K> = BTreeMap::new();
    let mut up: Option<bool> = None;
    let connection = |ok: bool, up: &mut Option<bool>, message: String| {
        if *up != Some(ok) {
            *up = Some(ok);
            let state = if ok { Connection::Connected } else { Connection::Down(message) };
            return tx.send(DataEvent::Connection { region: region.name.clone(), state }).is_ok();
        }
        true
    };
    while let Some(event) = stream.next().await {
        let alive = match event {
            Err(e) => connection(false, &mut up, describe_watch_error(&e, &region.url)),
            Ok(Event::Init) => {
                relist.clear();
                true
            }
            Ok(Event::InitApply(mut o)) => {
                trim(&mut o);
                relist.insert(key_of(&o), o);
                true
            }
            Ok(Event::InitDone) => {
                let vanished: Vec<K> =
                    known.iter().filter(|(k, _)| !relist.contains_key(*k)).map(|(_, v)| v.clone()).collect();
                known = std::mem::take(&mut relist);
                connection(true, &mut up, String::new()) && emit(Change::Listed(&known, vanished))
            }
            Ok(Event::Apply(mut o)) => {
                trim(&mut o);
                let k = key_of(&o);
                known.insert(k.clone(), o);
                let ok = connection(true, &mut up, String::new());
                ok && known.get(&k).is_none_or(|o| emit(Change::Applied(&known, o)))
            }
            Ok(Event::Delete(o)) => {
                known.remove(&key_of(&o));
                connection(true, &mut up, String::new()) && emit(Change::Deleted(&known, o))
            }
        };
        if !alive || tx.is_closed() {
            return;
        }
    }
}

/// What an operator needs to read about a failed watch: a refusal says so; a connection problem
/// says what the socket said ("Connection refused", "certificate verify failed"), which kube-rs
/// keeps at the bottom of the error's source chain, and where it was going.
fn describe_watch_error(e: &watcher::Error, url: &str) -> String {
    let text = e.to_string();
    if text.contains("403") || text.to_lowercase().contains("forbidden") {
        return format!("access denied: {text}");
    }
    let mut deepest: &dyn std::error::Error = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    let cause = deepest.to_string();
    if cause == text { text } else { format!("cannot reach {url}: {cause}") }
}

/// Starts the collections behind the first screen before the rest: the tenants source says when a
/// region's tenants are listed, and the Jobs and branch-pod watches of that region wait for it (at
/// most [`FIRST_SCREEN_HEAD_START`]), so the tenant list does not share the first half second with
/// thousands of pods being listed and decoded.
#[derive(Clone)]
pub struct FirstScreen(tokio::sync::watch::Receiver<bool>);

/// How long the other watches of a region wait for its tenants to be listed.
pub const FIRST_SCREEN_HEAD_START: std::time::Duration = std::time::Duration::from_millis(1500);

impl FirstScreen {
    /// A pair: the sender the tenants source sets once listed, and what the others wait on.
    pub fn new() -> (tokio::sync::watch::Sender<bool>, FirstScreen) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, FirstScreen(rx))
    }

    /// Nothing to wait for (tenants from a directory).
    pub fn ready() -> FirstScreen {
        FirstScreen(tokio::sync::watch::channel(true).1)
    }

    /// Waits until the tenants are listed, the source is gone, or the head start is over.
    async fn wait(mut self) {
        let _ = tokio::time::timeout(FIRST_SCREEN_HEAD_START, self.0.wait_for(|listed| *listed)).await;
    }
}

/// Tenants of a region from its ConfigMaps, sent whole after every change; `listed` is set once
/// the first list is sent.
pub async fn tenants(
    region: Region,
    source: ConfigMapSource,
    tx: UnboundedSender<DataEvent>,
    listed: tokio::sync::watch::Sender<bool>,
) {
    let api: Api<ConfigMap> = Api::namespaced(region.client.clone(), &source.namespace);
    let config = watcher::Config::default().labels(&source.selector);
    let name = region.name.clone();
    let send = tx.clone();
    watch_collection(api, config, &region, &tx, trim_managed_fields, |change| {
        let all = match change {
            Change::Listed(all, _) | Change::Applied(all, _) | Change::Deleted(all, _) => all,
        };
        let mut list: Vec<_> = all.values().map(|cm| tenant_from_configmap(cm, &source, &name)).collect();
        crate::tenants::sort(&mut list);
        let sent = send.send(DataEvent::Tenants { region: name.clone(), tenants: list }).is_ok();
        listed.send_replace(true);
        sent
    })
    .await;
}

/// Lifecycle Jobs of a region, sent whole after every change.
pub async fn jobs(region: Region, scope: Scope, tx: UnboundedSender<DataEvent>, after: FirstScreen) {
    after.wait().await;
    let name = region.name.clone();
    let send = tx.clone();
    let emit = |all: &BTreeMap<String, Job>| {
        let mut found: Vec<LifecycleJob> = all
            .values()
            .filter(|j| {
                scope.namespaces.is_empty() || scope.namespaces.iter().any(|n| Some(n) == j.metadata.namespace.as_ref())
            })
            .filter_map(|j| LifecycleJob::from_job(j, &scope.annotation, &scope.mount_dir))
            .collect();
        found.sort_by(|a, b| a.job.cmp(&b.job));
        send.send(DataEvent::Jobs { region: name.clone(), jobs: found }).is_ok()
    };
    let api: Api<Job> = Api::all(region.client.clone());
    watch_collection(api, watcher::Config::default(), &region, &tx, trim_managed_fields, |change| match change {
        Change::Listed(all, _) | Change::Applied(all, _) | Change::Deleted(all, _) => emit(all),
    })
    .await;
}

/// Branch pods of a region as run-model events (the runs view, re-attached from labels).
pub async fn branches(region: Region, tx: UnboundedSender<DataEvent>, after: FirstScreen) {
    after.wait().await;
    let api: Api<Pod> = Api::all(region.client.clone());
    let config = watcher::Config::default().labels(&all_branches_selector());
    let send = tx.clone();
    let run = |e: RunEvent| send.send(DataEvent::Run(e)).is_ok();
    watch_collection(api, config, &region, &tx, trim_branch_pod, |change| match change {
        Change::Listed(all, vanished) => {
            all.values().filter_map(PodSnapshot::from_pod).all(|s| run(RunEvent::Pod(s)))
                && vanished.iter().filter_map(PodSnapshot::from_pod).all(|s| run(RunEvent::PodGone(s)))
        }
        Change::Applied(_, pod) => PodSnapshot::from_pod(pod).is_none_or(|s| run(RunEvent::Pod(s))),
        Change::Deleted(_, pod) => PodSnapshot::from_pod(&pod).is_none_or(|s| run(RunEvent::PodGone(s))),
    })
    .await;
}

/// Asks the API server whether the operator may `verb` pods (in every namespace).
async fn may(client: &kube::Client, verb: &str) -> Result<Option<String>, String> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some("pods".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = api.create(&PostParams::default(), &review).await.map_err(|e| e.to_string())?;
    let status = answer.status.unwrap_or_default();
    Ok(if status.allowed {
        None
    } else {
        let why = status.reason.filter(|r| !r.is_empty()).map(|r| format!(" ({r})")).unwrap_or_default();
        Some(format!("RBAC does not allow you to {verb} pods in {}{why}", "this region"))
    })
}

/// How long to wait before asking again when a region could not answer what RBAC allows.
const ACCESS_RETRY: std::time::Duration = std::time::Duration::from_secs(15);

/// Checks what RBAC allows in a region and reports it; asks again until the region answers (one
/// that is down at start is checked once it is back).
pub async fn access(region: Region, tx: UnboundedSender<DataEvent>) {
    loop {
        match (may(&region.client, "create").await, may(&region.client, "delete").await) {
            (Ok(create), Ok(delete)) => {
                let name = &region.name;
                let fix = |r: Option<String>| r.map(|r| r.replace("this region", name));
                let _ = tx.send(DataEvent::Access {
                    region: region.name.clone(),
                    access: Access { create: fix(create), delete: fix(delete) },
                });
                return;
            }
            // Unknown for now: the actions stay enabled, and a 403 from the request itself is
            // reported as it comes.
            _ if tx.is_closed() => return,
            _ => tokio::time::sleep(ACCESS_RETRY).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_other_watches_go_once_the_tenants_are_listed_or_their_source_is_gone() {
        let (listed, first_screen) = FirstScreen::new();
        let waiting = tokio::spawn(first_screen.clone().wait());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "nothing listed yet: still waiting");
        listed.send_replace(true);
        tokio::time::timeout(FIRST_SCREEN_HEAD_START * 4, waiting).await.expect("released").expect("task");

        let (gone, first_screen) = FirstScreen::new();
        drop(gone);
        tokio::time::timeout(FIRST_SCREEN_HEAD_START * 4, first_screen.wait())
            .await
            .expect("a dead source holds no one");
        tokio::time::timeout(FIRST_SCREEN_HEAD_START * 4, FirstScreen::ready().wait())
            .await
            .expect("nothing to wait for");
    }
}

#[cfg(test)]
mod trim_tests {
    use super::*;
    use crate::lifecycle::run::PodSnapshot;

    #[test]
    fn a_trimmed_branch_pod_reads_as_the_same_branch() {
        let mut pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "lineage",
                "labels": {"tlc.dev/batch-id": "b", "tlc.dev/tenant-id": "t", "tlc.dev/operation": "lifecycle.upsert",
                    "tlc.dev/job": "lineage-graph", "tlc.dev/attempt": "1", "tlc.dev/engine": "direct",
                    "app.kubernetes.io/managed-by": "tlc"},
                "annotations": {"tlc.dev/job-ref": "lineage/lineage-graph", "tlc.dev/region": "eu-west"},
                "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "spec": {"containers": [{"name": "main", "image": "busybox", "args": ["a long script"],
                "env": [{"name": "LIFECYCLE_TENANT_ENV_ID", "value": "t"}]}],
                "volumes": [{"name": "lifecycle", "configMap": {"name": "p"}}]},
            "status": {"phase": "Failed", "containerStatuses": [{"name": "main", "image": "busybox", "imageID": "",
                "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}
        }))
        .expect("a pod");
        let before = PodSnapshot::from_pod(&pod).expect("a branch");
        trim_branch_pod(&mut pod);
        assert_eq!(PodSnapshot::from_pod(&pod), Some(before), "the runs view sees the same branch");
        let spec = pod.spec.as_ref().expect("spec");
        assert!(spec.volumes.is_none() && spec.containers[0].args.is_none() && spec.containers[0].env.is_none());
        assert!(pod.metadata.managed_fields.is_none());
    }
}
