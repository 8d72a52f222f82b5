//! The console's data sources, per region: tenants (ConfigMaps, watched; or a directory, read
//! once), lifecycle Jobs, branch pods (as run-model events), and what RBAC allows
//! (SelfSubjectAccessReview). The watches are the core's (`tenants::configmaps::watch`,
//! `lifecycle::discovery::watch`, `lifecycle::watch::watch_branches`, all on the one watch layer);
//! this module forwards what they report as the console's events, the region's connection
//! included, so an unreachable region shows as such while the others keep working.

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{Api, DynamicObject, PostParams};
use tokio::sync::mpsc::UnboundedSender;

use crate::lifecycle::discovery::{self, Scope};
use crate::lifecycle::engine::argo::{ArgoSettings, resource};
use crate::lifecycle::regions::Region;
use crate::lifecycle::watch::{watch_branches, watch_workflows};
use crate::tenants::configmaps::{self, ConfigMapSource};
use crate::tui::data::{Access, Connection, DataEvent};
use crate::watch::{self, Report};

/// Forwards a watch's connection changes as the region's connection.
fn connection(tx: &UnboundedSender<DataEvent>, region: &str, c: watch::Connection) -> bool {
    let state = match c {
        watch::Connection::Up => Connection::Connected,
        watch::Connection::Down(why) => Connection::Down(why.to_string()),
    };
    tx.send(DataEvent::Connection { region: region.to_string(), state }).is_ok()
}

/// Starts the collections behind the first screen before the rest: each region's tenants source
/// says when its tenants are listed, and the other watches of every region (Jobs, branch pods,
/// records, Workflows) wait until every region's are (at most [`FIRST_SCREEN_HEAD_START`]), so
/// the tenant lists do not share the first half second with thousands of pods and records being
/// listed and decoded — one region's pods no more than its own.
#[derive(Clone)]
pub struct FirstScreen(Vec<tokio::sync::watch::Receiver<bool>>);

/// How long the other watches wait for every region's tenants to be listed.
pub const FIRST_SCREEN_HEAD_START: std::time::Duration = std::time::Duration::from_millis(1500);

impl FirstScreen {
    /// Nothing to wait for yet (tenants from a directory); [`FirstScreen::listing`] adds a source.
    pub fn ready() -> FirstScreen {
        FirstScreen(Vec::new())
    }

    /// The sender a region's tenants source sets once listed; the first screen waits for it too.
    pub fn listing(&mut self) -> tokio::sync::watch::Sender<bool> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        self.0.push(rx);
        tx
    }

    /// Waits until every region's tenants are listed (or their source is gone), or the head start
    /// is over.
    async fn wait(self) {
        let all = futures::future::join_all(self.0.into_iter().map(|mut rx| async move {
            let _ = rx.wait_for(|listed| *listed).await;
        }));
        let _ = tokio::time::timeout(FIRST_SCREEN_HEAD_START, all).await;
    }
}

/// Tenants of a region from its ConfigMaps, sent whole after every change; `listed` is set once
/// the first list is sent, or the region is found down.
pub async fn tenants(
    region: Region,
    source: ConfigMapSource,
    tx: UnboundedSender<DataEvent>,
    listed: tokio::sync::watch::Sender<bool>,
) {
    let name = region.name.clone();
    configmaps::watch(region.client.clone(), &source, &region.name, &region.url, |report| match report {
        Report::Connection(c) => {
            // A region that is down will not list soon: the other regions' watches need not wait.
            if matches!(c, watch::Connection::Down(_)) {
                listed.send_replace(true);
            }
            connection(&tx, &name, c)
        }
        Report::Data(tenants) => {
            let sent = tx.send(DataEvent::Tenants { region: name.clone(), tenants }).is_ok();
            listed.send_replace(true);
            sent
        }
    })
    .await;
}

/// Lifecycle Jobs of a region, sent whole after every change.
pub async fn jobs(region: Region, scope: Scope, tx: UnboundedSender<DataEvent>, after: FirstScreen) {
    after.wait().await;
    let name = region.name.clone();
    discovery::watch(region.client.clone(), &scope, &region.url, |report| match report {
        Report::Connection(c) => connection(&tx, &name, c),
        Report::Data(jobs) => tx.send(DataEvent::Jobs { region: name.clone(), jobs }).is_ok(),
    })
    .await;
}

/// Branch pods of a region as run-model events (the runs view, re-attached from labels).
pub async fn branches(region: Region, tx: UnboundedSender<DataEvent>, after: FirstScreen) {
    after.wait().await;
    let name = region.name.clone();
    watch_branches(region.client.clone(), None, &region.url, |report| match report {
        Report::Connection(c) => connection(&tx, &name, c),
        Report::Data(e) => tx.send(DataEvent::Run(e)).is_ok(),
    })
    .await;
}

/// The batch records of a region (after the first screen), watched: the batches whose pods are
/// gone show from them, page by page as the list arrives, then as records are written or deleted.
/// Records the caller may not read are said once per outage (an unreachable region says so itself).
pub async fn records(region: Region, namespace: String, tx: UnboundedSender<DataEvent>, after: FirstScreen) {
    use crate::audit::record::RecordChange;
    after.wait().await;
    let mut said = false;
    crate::audit::record::watch_batches(&region.client, &region.name, &namespace, &region.url, |report| match report {
        Report::Connection(watch::Connection::Up) => {
            said = false;
            true
        }
        Report::Connection(watch::Connection::Down(watch::Failure::Unreachable { .. })) => true,
        Report::Connection(watch::Connection::Down(why)) if !said => {
            said = true;
            let text = format!(
                "{}: batch records in {namespace} not read ({why}): batches whose pods are gone are not shown",
                region.name
            );
            tx.send(DataEvent::Notice { text, error: true }).is_ok()
        }
        Report::Connection(_) => true,
        Report::Data(RecordChange::Batches(batches)) => tx.send(DataEvent::RecordBatches(batches)).is_ok(),
        Report::Data(RecordChange::Gone(batch_id)) => tx.send(DataEvent::RecordGone { batch_id }).is_ok(),
    })
    .await;
}

/// The Argo engine's Workflows of a region as run-model events: every Workflow made from the
/// template, whoever submitted it (this console, another, `tlc run`, a Sensor). A cluster without
/// Argo's resources has none: nothing is watched there.
pub async fn workflows(region: Region, argo: ArgoSettings, tx: UnboundedSender<DataEvent>, after: FirstScreen) {
    after.wait().await;
    let api: Api<DynamicObject> = Api::namespaced_with(region.client.clone(), &argo.namespace, &resource("Workflow"));
    if let Err(kube::Error::Api(s)) = api.list_metadata(&kube::api::ListParams::default().limit(1)).await
        && s.code == 404
    {
        return;
    }
    watch_workflows(region.client.clone(), &region.name, &argo.namespace, None, &region.url, |report| match report {
        // The region's connection is the other watches' to say; Workflows come and go with it.
        Report::Connection(_) => !tx.is_closed(),
        Report::Data(e) => tx.send(DataEvent::Run(e)).is_ok(),
    })
    .await;
}

/// How often a region is asked again whether it has the Argo engine's template.
const TEMPLATE_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Whether a region has the Argo engine's WorkflowTemplate, reported when first known and on every
/// change (the preview offers the Argo engine only where it is installed).
pub async fn argo_template(region: Region, argo: ArgoSettings, tx: UnboundedSender<DataEvent>) {
    let api: Api<DynamicObject> =
        Api::namespaced_with(region.client.clone(), &argo.namespace, &resource("WorkflowTemplate"));
    let mut known = None;
    loop {
        let installed = match api.get_opt(&argo.template).await {
            Ok(found) => Some(found.is_some()),
            Err(kube::Error::Api(s)) if s.code == 404 => Some(false),
            Err(_) => None,
        };
        if let Some(installed) = installed
            && known != Some(installed)
        {
            known = Some(installed);
            if tx.send(DataEvent::ArgoTemplate { region: region.name.clone(), installed }).is_err() {
                return;
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(TEMPLATE_RECHECK).await;
    }
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
    async fn the_other_watches_go_once_every_regions_tenants_are_listed_or_their_source_is_gone() {
        let mut first_screen = FirstScreen::ready();
        let (eu, us) = (first_screen.listing(), first_screen.listing());
        let waiting = tokio::spawn(first_screen.clone().wait());
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "nothing listed yet: still waiting");
        eu.send_replace(true);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "one region listed of two: still waiting");
        us.send_replace(true);
        tokio::time::timeout(FIRST_SCREEN_HEAD_START * 4, waiting).await.expect("released").expect("task");

        let mut first_screen = FirstScreen::ready();
        drop(first_screen.listing());
        tokio::time::timeout(FIRST_SCREEN_HEAD_START * 4, first_screen.wait())
            .await
            .expect("a dead source holds no one");
        tokio::time::timeout(FIRST_SCREEN_HEAD_START * 4, FirstScreen::ready().wait())
            .await
            .expect("nothing to wait for");
    }
}
