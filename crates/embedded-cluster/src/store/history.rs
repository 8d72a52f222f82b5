//! The bounded history of changes that watches are served from. Every write bumps the cluster's single
//! revision counter and appends exactly one change, so revisions in the history are contiguous and a
//! watch cursor is an index. A watch that starts before the oldest kept change is told 410 Expired.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde_json::Value;

use super::resource::Resource;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Removed.
    Deleted,
}

impl ChangeKind {
    /// The watch event type for this change.
    pub fn event_type(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One write to the store, as watchers see it.
#[derive(Debug)]
pub struct Change {
    /// The cluster revision this write produced (the object's new `resourceVersion`).
    pub revision: u64,
    /// Which resource type changed.
    pub resource: Resource,
    /// Created, updated or removed.
    pub kind: ChangeKind,
    /// The object after the change (for `Deleted`, the last state with the delete's revision).
    pub object: Arc<Value>,
    /// The object before the change (for `Modified`), so filtered watches can turn a change that
    /// leaves their selector into `DELETED` and one that enters it into `ADDED`.
    pub previous: Option<Arc<Value>>,
    encoded: OnceLock<Bytes>,
}

impl Change {
    /// A new change record.
    pub fn new(
        revision: u64,
        resource: Resource,
        kind: ChangeKind,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) -> Self {
        Change { revision, resource, kind, object, previous, encoded: OnceLock::new() }
    }

    /// The object's namespace (empty for cluster-scoped objects).
    pub fn namespace(&self) -> &str {
        self.object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default()
    }

    /// The newline-terminated JSON watch event line for this change with its own type, encoded once
    /// however many watchers receive it.
    pub fn encoded_event(&self) -> Bytes {
        self.encoded.get_or_init(|| encode_event(self.kind.event_type(), &self.object)).clone()
    }
}

/// Encodes one watch event line: `{"type":TYPE,"object":OBJECT}\n`.
pub fn encode_event(event_type: &str, object: &Value) -> Bytes {
    let mut buf = Vec::with_capacity(512);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(event_type.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    // Serialising a `Value` into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut buf, object);
    buf.extend_from_slice(b"}\n");
    Bytes::from(buf)
}

/// The history is too short for the requested start revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expired {
    /// The revision asked for.
    pub requested: u64,
    /// The oldest revision a watch may still start from.
    pub oldest: u64,
}

/// A ring of recent changes with contiguous revisions.
#[derive(Debug)]
pub struct History {
    changes: VecDeque<Arc<Change>>,
    capacity: usize,
    /// Every change with a revision ≤ this is gone.
    compacted_through: u64,
}

impl History {
    /// An empty history starting after `revision`, keeping at most `capacity` changes.
    pub fn new(revision: u64, capacity: usize) -> Self {
        History { changes: VecDeque::new(), capacity: capacity.max(1), compacted_through: revision }
    }

    /// Appends a change; its revision must follow the last one.
    pub fn push(&mut self, change: Arc<Change>) {
        debug_assert_eq!(change.revision, self.compacted_through + self.changes.len() as u64 + 1);
        self.changes.push_back(change);
        while self.changes.len() > self.capacity {
            self.changes.pop_front();
            self.compacted_through += 1;
        }
    }

    /// Changes after `revision`, at most `max` of them, or `Expired` when some were already dropped.
    pub fn since(&self, revision: u64, max: usize) -> Result<Vec<Arc<Change>>, Expired> {
        if revision < self.compacted_through {
            return Err(Expired { requested: revision, oldest: self.compacted_through });
        }
        let start = (revision - self.compacted_through) as usize;
        Ok(self.changes.iter().skip(start).take(max).cloned().collect())
    }

    /// The oldest revision a watch may start from.
    pub fn oldest_start(&self) -> u64 {
        self.compacted_through
    }

    /// Drops every change (fault injection: the next watch from an old revision gets 410).
    pub fn compact_all(&mut self) {
        self.compacted_through += self.changes.len() as u64;
        self.changes.clear();
    }

    /// Changes the capacity, dropping the oldest changes beyond it.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(1);
        while self.changes.len() > self.capacity {
            self.changes.pop_front();
            self.compacted_through += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(rev: u64) -> Arc<Change> {
        Arc::new(Change::new(rev, Resource::Pods, ChangeKind::Added, Arc::new(json!({"n": rev})), None))
    }

    #[test]
    fn since_returns_changes_after_revision_and_expires_old_cursors() {
        let mut h = History::new(10, 3);
        for rev in 11..=15 {
            h.push(change(rev));
        }
        // 11 and 12 were dropped; a watch from 12 still sees 13.. .
        assert_eq!(h.since(12, 10).expect("12 ok").iter().map(|c| c.revision).collect::<Vec<_>>(), vec![13, 14, 15]);
        assert_eq!(h.since(14, 10).expect("14 ok").len(), 1);
        assert_eq!(h.since(15, 10).expect("15 ok").len(), 0);
        assert_eq!(h.since(11, 10).err(), Some(Expired { requested: 11, oldest: 12 }));
        h.compact_all();
        assert!(h.since(14, 10).is_err());
        assert_eq!(h.since(15, 10).expect("head ok").len(), 0);
    }

    #[test]
    fn encoded_event_is_one_json_line() {
        let c = change(1);
        let line = c.encoded_event();
        assert!(line.ends_with(b"\n"));
        let v: Value = serde_json::from_slice(&line).expect("json");
        assert_eq!(v, json!({"type": "ADDED", "object": {"n": 1}}));
    }
}
