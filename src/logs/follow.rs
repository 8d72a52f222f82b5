//! Following one container's log: connect with `timestamps=true`, read raw lines (the bytes are
//! untrusted and need not be UTF-8), and when the stream is cut or ends while the container still
//! runs, reconnect from the cursor so that every line arrives exactly once and in order. A container
//! that has not started yet is waited for on a watch, not polled.

use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::resume::{Cursor, Verdict, split_timestamp};
use crate::lifecycle::error::{Error, Result, kube_error, watch_refusal};

/// Reconnects without progress after which following gives up.
pub const STALL_LIMIT: u32 = 6;

/// Which log to follow.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Source {
    /// Region (for error messages).
    pub region: String,
    /// Pod namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
}

/// One raw line of a container log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawLine {
    /// The kubelet's timestamp (Unix nanoseconds), when the line had one.
    pub ts: Option<i64>,
    /// The bytes of the line, without its newline.
    pub text: Vec<u8>,
}

/// How following ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The container finished and every line was delivered (or, without `follow`, the log so far).
    Complete,
    /// The pod is gone.
    PodGone,
    /// Stopped by the caller, or the receiver went away.
    Stopped,
}

fn container_finished(pod: &Pod, container: &str) -> bool {
    let status = pod.status.as_ref();
    let phase_final = status.and_then(|s| s.phase.as_deref()).is_some_and(|p| p == "Succeeded" || p == "Failed");
    let terminated = status
        .into_iter()
        .flat_map(|s| s.container_statuses.iter().flatten().chain(s.init_container_statuses.iter().flatten()))
        .find(|c| c.name == container)
        .is_some_and(|c| c.state.as_ref().is_some_and(|s| s.terminated.is_some()));
    phase_final || terminated
}

fn container_started(pod: &Pod, container: &str) -> bool {
    pod.status
        .as_ref()
        .into_iter()
        .flat_map(|s| s.container_statuses.iter().flatten().chain(s.init_container_statuses.iter().flatten()))
        .find(|c| c.name == container)
        .is_some_and(|c| c.state.as_ref().is_some_and(|s| s.running.is_some() || s.terminated.is_some()))
        || pod.status.as_ref().and_then(|s| s.phase.as_deref()).is_some_and(|p| p == "Succeeded" || p == "Failed")
}

/// Follows (or, with `follow = false`, reads once) a container's log, sending new lines in batches
/// (whatever arrived together).
/// `cursor` carries the position across calls, so a caller may also resume later.
pub async fn follow(
    client: &kube::Client,
    source: &Source,
    follow: bool,
    cursor: &mut Cursor,
    tx: &mpsc::Sender<Vec<RawLine>>,
    stop: &CancellationToken,
) -> Result<End> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &source.namespace);
    let mut backoff = Duration::from_millis(50);
    // Reconnects in a row that brought nothing new: `sinceTime` has whole-second precision, so a
    // stream that keeps being cut before it gets past the lines already seen cannot make progress.
    let mut stalled = 0u32;
    loop {
        if stop.is_cancelled() {
            return Ok(End::Stopped);
        }
        let params = LogParams {
            container: Some(source.container.clone()),
            follow,
            timestamps: true,
            since_time: cursor.since(),
            ..Default::default()
        };
        cursor.reconnected();
        let stream = tokio::select! {
            _ = stop.cancelled() => return Ok(End::Stopped),
            s = pods.log_stream(&source.pod, &params) => s,
        };
        let reader = match stream {
            Ok(r) => r,
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(End::PodGone),
            Err(kube::Error::Api(s)) if s.code == 400 && s.message.contains("waiting to start") => {
                if !wait_until_started(&pods, source, stop).await? {
                    return Ok(if stop.is_cancelled() { End::Stopped } else { End::PodGone });
                }
                continue;
            }
            Err(kube::Error::Api(s)) if s.code == 400 || s.code == 403 => {
                return Err(kube_error(&source.region, "get", "pods/log", Some(&source.namespace))(kube::Error::Api(
                    s,
                )));
            }
            Err(_) => {
                // Unreachable or 5xx: try again shortly.
                tokio::select! {
                    _ = stop.cancelled() => return Ok(End::Stopped),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        futures::pin_mut!(reader);
        // Read whatever has arrived, cut it into lines, and send them as one batch.
        let mut partial: Vec<u8> = Vec::new();
        let mut delivered = false;
        let cut = loop {
            let chunk = tokio::select! {
                _ = stop.cancelled() => return Ok(End::Stopped),
                c = reader.fill_buf() => c.map(<[u8]>::to_vec),
            };
            let bytes = match chunk {
                Ok(b) => b,
                Err(_) => break true,
            };
            reader.consume_unpin(bytes.len());
            if bytes.is_empty() {
                // The last line of a finished container may lack its newline.
                if !partial.is_empty() {
                    let (ts, text) = split_timestamp(&partial);
                    if cursor.accept(ts) == Verdict::Deliver
                        && tx.send(vec![RawLine { ts, text: text.to_vec() }]).await.is_err()
                    {
                        return Ok(End::Stopped);
                    }
                }
                break false;
            }
            let mut batch = Vec::new();
            let mut rest: &[u8] = &bytes;
            while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
                let line: &[u8] = if partial.is_empty() {
                    &rest[..pos]
                } else {
                    partial.extend_from_slice(&rest[..pos]);
                    &partial
                };
                let (ts, text) = split_timestamp(line);
                if cursor.accept(ts) == Verdict::Deliver {
                    batch.push(RawLine { ts, text: text.to_vec() });
                }
                partial.clear();
                rest = &rest[pos + 1..];
            }
            partial.extend_from_slice(rest);
            if !batch.is_empty() {
                backoff = Duration::from_millis(50);
                delivered = true;
                if tx.send(batch).await.is_err() {
                    return Ok(End::Stopped);
                }
            }
        };
        if !follow && !cut {
            return Ok(End::Complete);
        }
        stalled = if delivered { 0 } else { stalled + 1 };
        if cut && stalled >= STALL_LIMIT {
            return Err(Error::gave_up(
                &source.region,
                "get",
                "pods/log",
                Some(&source.namespace),
                format!(
                    "the log stream of {}/{} was cut {STALL_LIMIT} times in a row before any new line arrived; giving up",
                    source.pod, source.container
                ),
            ));
        }
        if !cut {
            // A clean end: done if the container is done, otherwise the server closed early.
            match pods.get_opt(&source.pod).await {
                Ok(None) => return Ok(End::PodGone),
                Ok(Some(p)) if container_finished(&p, &source.container) => return Ok(End::Complete),
                // Whether the container ended cannot be known: a refusal will not fix itself.
                Err(kube::Error::Api(s)) if s.code == 403 => {
                    return Err(kube_error(&source.region, "get", "pods", Some(&source.namespace))(kube::Error::Api(
                        s,
                    )));
                }
                _ => {}
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(End::Stopped),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Waits on a watch until the container has started (true) or the pod is gone or we are stopped (false).
async fn wait_until_started(pods: &Api<Pod>, source: &Source, stop: &CancellationToken) -> Result<bool> {
    use kube::runtime::watcher::{self, Event};
    let config = watcher::Config::default().fields(&format!("metadata.name={}", source.pod));
    let stream = kube::runtime::WatchStreamExt::default_backoff(watcher::watcher(pods.clone(), config));
    futures::pin_mut!(stream);
    let mut listed = false;
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return Ok(false),
            e = stream.next() => e,
        };
        match event {
            None => return Ok(false),
            Some(Ok(Event::Init)) => listed = false,
            Some(Ok(Event::InitApply(p) | Event::Apply(p))) => {
                listed = true;
                if container_started(&p, &source.container) {
                    return Ok(true);
                }
            }
            Some(Ok(Event::InitDone)) if !listed => return Ok(false),
            Some(Ok(Event::Delete(_))) => return Ok(false),
            Some(Ok(Event::InitDone)) => {}
            Some(Err(e)) => {
                if let Some(refused) = watch_refusal(&e, &source.region, "pods", Some(&source.namespace)) {
                    return Err(refused);
                }
            }
        }
    }
}
