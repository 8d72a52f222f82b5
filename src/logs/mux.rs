//! The log multiplexer: one follow stream per branch container, merged into one stream of
//! sanitised lines. Streams are started under a budget — at most `limit` at once — in priority
//! order (running branches first, then failed, then the rest), so a thousand-branch batch queues
//! its finished branches instead of failing at a connection limit. Each stream keeps its own
//! cursor, so reconnects deliver every line exactly once and in order within a branch.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::follow::{End, RawLine, Source, follow};
use super::resume::Cursor;
use super::sanitize::{SafeLine, Style, sanitize_line};
use crate::contract::JobRef;

/// Which log a line belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// Batch.
    pub batch_id: String,
    /// Branch (its Job).
    pub job: JobRef,
    /// Attempt.
    pub attempt: u32,
    /// Container.
    pub container: String,
}

/// How urgently a stream is wanted (lower first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// A running branch: follow it live.
    Running = 0,
    /// A failed branch: its log is what the operator needs.
    Failed = 1,
    /// Not started yet: follow it once it starts.
    Pending = 2,
    /// Finished fine: fetch when there is room.
    Finished = 3,
}

impl Priority {
    /// How urgently a branch in `phase` wants its log.
    pub fn of(phase: crate::lifecycle::run::Phase) -> Self {
        use crate::lifecycle::run::Phase;
        match phase {
            Phase::Running => Priority::Running,
            Phase::Failed | Phase::Cancelled => Priority::Failed,
            Phase::Pending => Priority::Pending,
            Phase::Succeeded => Priority::Finished,
        }
    }
}

/// A request to stream one container's log.
#[derive(Clone)]
pub struct Want {
    /// The stream.
    pub key: StreamKey,
    /// Where it is.
    pub source: Source,
    /// A client for its region.
    pub client: kube::Client,
    /// Follow until the container ends (else read what is there).
    pub live: bool,
    /// Its priority.
    pub priority: Priority,
}

impl std::fmt::Debug for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Want")
            .field("key", &self.key)
            .field("live", &self.live)
            .field("priority", &self.priority)
            .finish()
    }
}

/// What the merged stream carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MuxEvent {
    /// Lines of one stream that arrived together, already neutralised, in order.
    Lines {
        /// Their stream.
        key: StreamKey,
        /// Each line with the kubelet's timestamp.
        lines: Vec<(Option<i64>, SafeLine)>,
    },
    /// A stream ended.
    Ended {
        /// Its stream.
        key: StreamKey,
        /// How, or why it failed.
        result: Result<End, String>,
    },
}

enum Control {
    Want(Box<Want>),
    Done(StreamKey),
}

/// Handle to a running multiplexer.
#[derive(Clone, Debug)]
pub struct Mux {
    control: mpsc::UnboundedSender<Control>,
    stop: CancellationToken,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Want(w) => write!(f, "Want({:?})", w.key),
            Control::Done(k) => write!(f, "Done({k:?})"),
        }
    }
}

impl Mux {
    /// Starts a multiplexer running at most `limit` streams at once; returns it and the merged stream.
    pub fn start(limit: usize) -> (Mux, mpsc::Receiver<MuxEvent>) {
        let (control, requests) = mpsc::unbounded_channel();
        let (out, merged) = mpsc::channel(32);
        let stop = CancellationToken::new();
        let mux = Mux { control: control.clone(), stop: stop.clone() };
        tokio::spawn(dispatch(limit.max(1), requests, control, out, stop));
        (mux, merged)
    }

    /// Asks for a stream; asking again raises a queued stream's priority. A stream is followed once.
    pub fn want(&self, want: Want) {
        let _ = self.control.send(Control::Want(Box::new(want)));
    }

    /// Stops every stream.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

async fn dispatch(
    limit: usize,
    mut requests: mpsc::UnboundedReceiver<Control>,
    control: mpsc::UnboundedSender<Control>,
    out: mpsc::Sender<MuxEvent>,
    stop: CancellationToken,
) {
    let mut queue: BinaryHeap<Reverse<(Priority, u64)>> = BinaryHeap::new();
    let mut waiting: HashMap<u64, Want> = HashMap::new();
    let mut queued: HashMap<StreamKey, (u64, Priority)> = HashMap::new();
    let mut started: HashSet<StreamKey> = HashSet::new();
    let mut active = 0usize;
    let mut seq = 0u64;
    loop {
        let msg = tokio::select! {
            _ = stop.cancelled() => return,
            m = requests.recv() => m,
        };
        match msg {
            None => return,
            Some(Control::Want(want)) => {
                if started.contains(&want.key) {
                    continue;
                }
                if let Some((old, prio)) = queued.get(&want.key).copied() {
                    if want.priority >= prio {
                        continue;
                    }
                    waiting.remove(&old);
                }
                seq += 1;
                queued.insert(want.key.clone(), (seq, want.priority));
                queue.push(Reverse((want.priority, seq)));
                waiting.insert(seq, *want);
            }
            Some(Control::Done(_)) => active -= 1,
        }
        while active < limit {
            let Some(Reverse((_, id))) = queue.pop() else { break };
            // Entries superseded by a higher-priority request are skipped.
            let Some(want) = waiting.remove(&id) else { continue };
            queued.remove(&want.key);
            started.insert(want.key.clone());
            active += 1;
            tokio::spawn(run_stream(want, out.clone(), control.clone(), stop.clone()));
        }
    }
}

async fn run_stream(
    want: Want,
    out: mpsc::Sender<MuxEvent>,
    control: mpsc::UnboundedSender<Control>,
    stop: CancellationToken,
) {
    // Small buffers: a slow reader holds the streams back instead of piling lines up in memory.
    let (tx, mut rx) = mpsc::channel::<Vec<RawLine>>(2);
    let key = want.key.clone();
    let forward = {
        let out = out.clone();
        let key = key.clone();
        async move {
            let mut style = Style::default();
            while let Some(raws) = rx.recv().await {
                let lines = raws.iter().map(|raw| (raw.ts, sanitize_line(&raw.text, &mut style))).collect();
                if out.send(MuxEvent::Lines { key: key.clone(), lines }).await.is_err() {
                    return;
                }
            }
        }
    };
    let follow = async {
        let mut cursor = Cursor::default();
        let result = follow(&want.client, &want.source, want.live, &mut cursor, &tx, &stop).await;
        drop(tx);
        result
    };
    let (result, ()) = tokio::join!(follow, forward);
    let _ = out.send(MuxEvent::Ended { key: key.clone(), result: result.map_err(|e| e.to_string()) }).await;
    let _ = control.send(Control::Done(key));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_order_running_first() {
        let mut v = vec![Priority::Finished, Priority::Pending, Priority::Running, Priority::Failed];
        v.sort();
        assert_eq!(v, vec![Priority::Running, Priority::Failed, Priority::Pending, Priority::Finished]);
    }
}
