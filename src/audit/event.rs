//! The audit record as a Kubernetes Event. A batch is not an object of its own, so the Event is
//! created in the namespace of the batch's first branch (where the team that owns it looks), about
//! its branch pod, and labelled with the batch id, tenant and operation, so that
//! `kubectl get events -A -l tlc.dev/batch-id=ID` finds every action taken on a batch.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, PostParams};

use super::AuditRecord;
use crate::contract::labels::{BATCH_ID, MANAGED_BY, MANAGER, OPERATION, TENANT_ID};
use crate::lifecycle::error::{Result, kube_error};

/// Where the Event goes and what it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventTarget {
    /// Namespace of the Event.
    pub namespace: String,
    /// The pod it is about (a branch pod of the batch).
    pub pod_name: String,
}

/// The Event for a record.
pub fn audit_event(record: &AuditRecord, target: &EventTarget) -> Event {
    let labels: BTreeMap<String, String> = [
        (BATCH_ID, record.batch_id.as_str()),
        (TENANT_ID, record.tenant_id.as_str()),
        (OPERATION, record.operation.as_str()),
        (MANAGED_BY, MANAGER),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let annotations: BTreeMap<String, String> = [
        ("tlc.dev/actor", record.who.clone()),
        ("tlc.dev/changeset-digest", record.changeset_digest.clone()),
        ("tlc.dev/tenant-name", record.tenant_name.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("tlc-{}-", record.action.as_str())),
            namespace: Some(target.namespace.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Pod".into()),
            name: Some(target.pod_name.clone()),
            namespace: Some(target.namespace.clone()),
            ..Default::default()
        },
        reason: Some(record.action.reason().into()),
        message: Some(record.summary()),
        type_: Some("Normal".into()),
        source: Some(EventSource { component: Some("tlc".into()), host: None }),
        reporting_component: Some("tlc".into()),
        reporting_instance: Some(record.who.clone()),
        action: Some(record.action.as_str().into()),
        first_timestamp: Some(Time(record.at)),
        last_timestamp: Some(Time(record.at)),
        event_time: Some(MicroTime(record.at)),
        count: Some(1),
        ..Default::default()
    }
}

/// Creates the Event in the cluster.
pub async fn post(client: &kube::Client, region: &str, record: &AuditRecord, target: &EventTarget) -> Result<()> {
    let api: Api<Event> = Api::namespaced(client.clone(), &target.namespace);
    api.create(&PostParams::default(), &audit_event(record, target)).await.map(|_| ()).map_err(kube_error(
        region,
        "create",
        "events",
        Some(&target.namespace),
    ))
}
