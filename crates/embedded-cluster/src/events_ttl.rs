//! Event expiry, as a real API server's `--event-ttl`: Events are written to etcd with a lease of
//! that length, so an Event is gone that long after it was last written (watchers see it deleted)
//! — which is why an audit trail cannot live in Events.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::store::resource::Resource;
use crate::store::{DeleteOptions, ListQuery, Store};

/// When an Event was last written: its `lastTimestamp`, else `eventTime`, else its creation.
fn last_written(event: &Value) -> Option<jiff::Timestamp> {
    ["/lastTimestamp", "/eventTime", "/metadata/creationTimestamp"]
        .iter()
        .filter_map(|p| event.pointer(p).and_then(Value::as_str))
        .find_map(|t| t.parse().ok())
}

/// Deletes every Event last written more than `ttl` ago; returns how many.
pub fn expire(store: &Store, ttl: Duration, now: jiff::Timestamp) -> usize {
    let Ok(page) = store.list(Resource::Events, &ListQuery::default()) else { return 0 };
    let Ok(ttl) = jiff::SignedDuration::try_from(ttl) else { return 0 };
    let mut expired = 0;
    for event in &page.items {
        if last_written(event).is_some_and(|t| now.duration_since(t) >= ttl) {
            let s = |p: &str| event.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
            if store
                .delete(Resource::Events, &s("/metadata/namespace"), &s("/metadata/name"), &DeleteOptions::default())
                .is_ok()
            {
                expired += 1;
            }
        }
    }
    expired
}

/// Expires Events every so often (a quarter of the TTL, at most a second) until `shutdown`.
pub async fn run(store: Arc<Store>, ttl: Duration, shutdown: CancellationToken) {
    let every = (ttl / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        expire(&store, ttl, jiff::Timestamp::now());
    }
}
