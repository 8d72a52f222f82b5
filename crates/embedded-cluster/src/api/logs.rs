//! `pods/{name}/log`: container selection and the kubelet's messages for containers that have not
//! started, then the log as a stream — to its current end, or (with `follow`) until the container
//! terminates — honouring `timestamps`, `sinceSeconds`, `sinceTime`, `tailLines` and `limitBytes`.

use std::sync::Arc;

use bytes::Bytes;
use hyper::Response;
use serde_json::Value;

use super::body::{Body, StreamSender, cut, streaming_response};
use super::query::Query;
use super::route::Target;
use super::server::ApiState;
use super::status::{ApiError, ApiResult};
use crate::logs::ContainerLog;
use crate::store::resource::Resource;
use kube_grammar::time::{now_nanos, parse_rfc3339_nanos};

const CHUNK_BYTES: usize = 64 * 1024;

fn container_names(pod: &Value, list: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{list}"))
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default()
}

fn container_status<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    ["containerStatuses", "initContainerStatuses"].iter().find_map(|list| {
        pod.pointer(&format!("/status/{list}"))
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(container)))
    })
}

/// Which log lines a request selects.
struct Selection {
    since_nanos: Option<i64>,
    tail: Option<u64>,
    limit_bytes: Option<u64>,
    timestamps: bool,
    follow: bool,
}

fn selection(query: &Query) -> ApiResult<Selection> {
    let since_seconds = query.number("sinceSeconds")?;
    let since_time = query.get("sinceTime").filter(|s| !s.is_empty());
    if since_seconds.is_some() && since_time.is_some() {
        return Err(ApiError::bad_request("at most one of `sinceTime` or `sinceSeconds` may be specified"));
    }
    let since_nanos = match (since_seconds, since_time) {
        (Some(s), _) if s < 1 => {
            return Err(ApiError::bad_request("sinceSeconds: Invalid value: must be greater than 0"));
        }
        (Some(s), _) => Some(now_nanos() - s.saturating_mul(1_000_000_000)),
        // sinceTime is a metav1.Time: whole seconds, as the real API server passes it to the kubelet.
        (None, Some(t)) => {
            let n = parse_rfc3339_nanos(t)
                .ok_or_else(|| ApiError::bad_request(format!("sinceTime: invalid RFC3339 time \"{t}\"")))?;
            Some(n.div_euclid(1_000_000_000) * 1_000_000_000)
        }
        (None, None) => None,
    };
    let tail = match query.number("tailLines")? {
        Some(n) if n < 0 => {
            return Err(ApiError::bad_request("tailLines: Invalid value: must be greater than or equal to 0"));
        }
        other => other.map(|n| n as u64),
    };
    let limit_bytes = match query.number("limitBytes")? {
        Some(n) if n < 1 => return Err(ApiError::bad_request("limitBytes: Invalid value: must be greater than 0")),
        other => other.map(|n| n as u64),
    };
    Ok(Selection {
        since_nanos,
        tail,
        limit_bytes,
        timestamps: query.flag("timestamps")?,
        follow: query.flag("follow")?,
    })
}

/// Serves a pod log request.
pub async fn serve(state: &Arc<ApiState>, target: &Target, query: &Query) -> ApiResult<Response<Body>> {
    let namespace = target.namespace.as_deref().unwrap_or_default();
    let name = target.name.as_deref().unwrap_or_default();
    let pod = state.store.get(Resource::Pods, namespace, name)?;
    let containers = container_names(&pod, "containers");
    let init = container_names(&pod, "initContainers");
    let container = match query.get("container").filter(|c| !c.is_empty()) {
        Some(c) if containers.iter().chain(&init).any(|n| n == c) => c.to_string(),
        Some(c) => return Err(ApiError::bad_request(format!("container {c} is not valid for pod {name}"))),
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            let mut msg =
                format!("a container name must be specified for pod {name}, choose one of: [{}]", containers.join(" "));
            if !init.is_empty() {
                msg.push_str(&format!(" or one of the init containers: [{}]", init.join(" ")));
            }
            return Err(ApiError::bad_request(msg));
        }
    };
    let selection = selection(query)?;
    let uid = pod.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default();
    let log = if query.flag("previous")? {
        state.logs.previous(uid, &container).ok_or_else(|| {
            ApiError::bad_request(format!("previous terminated container \"{container}\" in pod \"{name}\" not found"))
        })?
    } else {
        match state.logs.current(uid, &container) {
            Some(l) => l,
            None => {
                let reason = container_status(&pod, &container)
                    .and_then(|s| s.pointer("/state/waiting/reason"))
                    .and_then(Value::as_str)
                    .unwrap_or(if init.is_empty() { "ContainerCreating" } else { "PodInitializing" });
                return Err(ApiError::bad_request(format!(
                    "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
                )));
            }
        }
    };
    let (response, tx) = streaming_response("text/plain");
    let state = state.clone();
    tokio::spawn(async move { stream(state, log, selection, tx).await });
    Ok(response)
}

async fn stream(state: Arc<ApiState>, log: Arc<ContainerLog>, sel: Selection, tx: StreamSender) {
    let _open = state.metrics.log_streams.open();
    let mut changes = log.subscribe();
    changes.borrow_and_update();
    let (base, end) = log.bounds();
    let mut next = match sel.since_nanos {
        Some(n) => log.first_line_since(n),
        None => base,
    };
    if let Some(tail) = sel.tail {
        next = next.max(end.saturating_sub(tail));
    }
    // Without `follow`, the response ends at the log's end as of the request.
    let stop_at = if sel.follow { u64::MAX } else { end };
    let cut_after = state.faults.log_cut();
    let mut sent_lines = 0u64;
    let mut sent_bytes = 0u64;
    loop {
        loop {
            changes.borrow_and_update();
            if next >= stop_at {
                return;
            }
            let max_lines = cut_after.map_or(u64::MAX, |c| c.saturating_sub(sent_lines)).min(stop_at - next);
            let mut chunk = Vec::with_capacity(CHUNK_BYTES);
            let read = log.read(next, max_lines, CHUNK_BYTES, sel.timestamps, &mut chunk);
            next = read.next;
            sent_lines += read.lines;
            if let Some(limit) = sel.limit_bytes {
                let room = limit.saturating_sub(sent_bytes) as usize;
                if chunk.len() >= room {
                    chunk.truncate(room);
                    let _ = tx.send(Ok(Bytes::from(chunk))).await;
                    return;
                }
            }
            sent_bytes += chunk.len() as u64;
            if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
            if cut_after.is_some_and(|c| sent_lines >= c) {
                cut(&tx, "log stream cut by fault injection").await;
                return;
            }
            if read.finished || (!sel.follow && read.lines == 0) {
                return;
            }
            if read.lines == 0 {
                break;
            }
        }
        tokio::select! {
            biased;
            _ = state.shutdown.cancelled() => return,
            _ = tx.closed() => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
