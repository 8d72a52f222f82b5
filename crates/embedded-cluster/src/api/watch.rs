//! Watches, served as a real API server does: a chunked 200 response of newline-delimited JSON
//! events; initial `ADDED`s when no (or `0`) resourceVersion is given or `sendInitialEvents=true`;
//! `BOOKMARK`s when allowed; `timeoutSeconds`; and a start before the kept history answered in-band
//! with an `ERROR` event holding a 410 `Expired` Status (the form kube-rs relists on).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use serde_json::{Value, json};

use super::body::{Body, StreamSender, cut, streaming_response};
use super::handler::Render;
use super::objects::selectors;
use super::query::Query;
use super::route::Target;
use super::server::ApiState;
use super::status::{ApiError, ApiResult};
use super::table;
use crate::store::history::{ChangeKind, encode_event};
use crate::store::resource::ResourceInfo;
use crate::store::{ListQuery, resource::Resource};
use kube_grammar::selector::{FieldSelector, LabelSelector};

/// Which events a watch passes.
struct Filter {
    resource: Resource,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && object.pointer("/metadata/namespace").and_then(Value::as_str) != Some(ns.as_str())
        {
            return false;
        }
        self.labels.matches(object) && self.fields.matches(object)
    }
}

/// How events are encoded for this client.
struct Encoder {
    info: &'static ResourceInfo,
    render: Render,
    headers_sent: bool,
}

impl Encoder {
    fn event(&mut self, event_type: &str, object: &Arc<Value>) -> Bytes {
        match self.render {
            Render::Json => encode_event(event_type, object),
            Render::Table(include) => {
                let t = table::table(self.info, std::slice::from_ref(object), include, None, None, !self.headers_sent);
                self.headers_sent = true;
                encode_event(event_type, &t)
            }
        }
    }

    fn bookmark(&self, revision: u64, initial_events_end: bool) -> Bytes {
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        encode_event(
            "BOOKMARK",
            &json!({"kind": self.info.kind, "apiVersion": self.info.api_version(), "metadata": metadata}),
        )
    }
}

fn expired_event(requested: u64, oldest: u64) -> Bytes {
    let status = ApiError::expired(format!("too old resource version: {requested} ({oldest})")).to_status();
    encode_event("ERROR", &status)
}

/// Starts a watch and returns its streaming response.
pub fn serve(state: &Arc<ApiState>, target: &Target, query: &Query, render: Render) -> ApiResult<Response<Body>> {
    let info = target.info;
    let (labels, fields) = selectors(info, query)?;
    let bookmarks = query.flag("allowWatchBookmarks")?;
    let send_initial = query.flag("sendInitialEvents")?;
    let rv = query.get("resourceVersion").unwrap_or_default().to_string();
    if send_initial && (query.get("resourceVersionMatch") != Some("NotOlderThan") || !bookmarks) {
        return Err(ApiError::bad_request(
            "sendInitialEvents is forbidden for watch unless resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true",
        ));
    }
    let timeout = match query.number("timeoutSeconds")? {
        Some(t) if t > 0 => Duration::from_secs(t as u64),
        Some(_) => return Err(ApiError::bad_request("timeoutSeconds must be positive")),
        None => state.settings.default_watch_timeout,
    };
    let start: Option<u64> = match rv.as_str() {
        "" | "0" => None,
        v => Some(v.parse().map_err(|_| ApiError::bad_request(format!("invalid resource version: \"{v}\"")))?),
    };
    let current = state.store.revision();
    if let Some(s) = start
        && s > current
    {
        return Err(ApiError::server_error(504, format!("Too large resource version: {s}, current: {current}")));
    }
    let mut filter = Filter { resource: info.resource, namespace: target.namespace.clone(), labels, fields };
    if let Some(name) = &target.name {
        // A watch on a named object is a watch with a metadata.name field selector.
        filter.fields.requirements.push(kube_grammar::selector::FieldRequirement {
            field: "metadata.name".into(),
            value: name.clone(),
            negated: false,
        });
    }
    let (response, tx) = streaming_response("application/json");
    let encoder = Encoder { info, render, headers_sent: false };
    let state = state.clone();
    let initial = start.is_none() || send_initial;
    tokio::spawn(async move {
        run(state, filter, encoder, tx, start, initial, send_initial, bookmarks, timeout).await;
    });
    Ok(response)
}

#[allow(clippy::too_many_arguments)]
async fn run(
    state: Arc<ApiState>,
    filter: Filter,
    mut encoder: Encoder,
    tx: StreamSender,
    start: Option<u64>,
    initial: bool,
    initial_bookmark: bool,
    bookmarks: bool,
    timeout: Duration,
) {
    let _open = state.metrics.watches.open();
    let mut revisions = state.store.subscribe();
    let mut drops = state.faults.watch_drops();
    drops.borrow_and_update();
    revisions.borrow_and_update();
    let mut cursor = match start {
        Some(s) => s,
        None => state.store.revision(),
    };
    if initial {
        let query = ListQuery {
            namespace: filter.namespace.as_deref(),
            labels: filter.labels.clone(),
            fields: filter.fields.clone(),
            ..Default::default()
        };
        let Ok(page) = state.store.list(filter.resource, &query) else { return };
        cursor = page.revision;
        let mut chunk = Vec::new();
        for item in &page.items {
            chunk.extend_from_slice(&encoder.event("ADDED", item));
            if chunk.len() > 64 * 1024 && tx.send(Ok(Bytes::from(std::mem::take(&mut chunk)))).await.is_err() {
                return;
            }
        }
        if initial_bookmark {
            chunk.extend_from_slice(&encoder.bookmark(cursor, true));
        }
        if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            return;
        }
    }
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let period = state.settings.bookmark_interval.max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        // Deliver everything after the cursor.
        loop {
            revisions.borrow_and_update();
            let changes = match state.store.changes_since(cursor, 1024) {
                Ok(c) => c,
                Err(expired) => {
                    let _ = tx.send(Ok(expired_event(expired.requested, expired.oldest))).await;
                    return;
                }
            };
            let Some(last) = changes.last() else { break };
            cursor = last.revision;
            let mut chunk = Vec::new();
            for change in changes.iter().filter(|c| c.resource == filter.resource) {
                let now = filter.matches(&change.object);
                let before = change.previous.as_ref().is_some_and(|p| filter.matches(p));
                let event_type = match (change.kind, now, before) {
                    (ChangeKind::Added, true, _) => "ADDED",
                    (ChangeKind::Modified, true, true) => "MODIFIED",
                    (ChangeKind::Modified, true, false) => "ADDED",
                    (ChangeKind::Modified, false, true) => "DELETED",
                    (ChangeKind::Deleted, true, _) => "DELETED",
                    _ => continue,
                };
                if event_type == change.kind.event_type() && encoder.render == Render::Json {
                    chunk.extend_from_slice(&change.encoded_event());
                } else {
                    chunk.extend_from_slice(&encoder.event(event_type, &change.object));
                }
            }
            if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
        tokio::select! {
            biased;
            _ = state.shutdown.cancelled() => return,
            _ = drops.changed() => {
                cut(&tx, "watch dropped by fault injection").await;
                return;
            }
            _ = &mut deadline => return,
            _ = tx.closed() => return,
            changed = revisions.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = ticker.tick(), if bookmarks => {
                if tx.send(Ok(encoder.bookmark(cursor, false))).await.is_err() {
                    return;
                }
            }
        }
    }
}
