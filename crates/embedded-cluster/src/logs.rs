//! Container logs on the simulated node: what a container wrote, line by line with the kubelet's
//! timestamps, kept per container instance (so `previous=true` works after a restart), bounded in
//! size (the oldest lines rotate away, as on a real node), and observable for `follow`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use kube_grammar::time::{format_rfc3339_nano, now_nanos};

#[derive(Clone, Copy, Debug)]
struct Line {
    /// End offset (exclusive) of the line in `data`, newline included if it had one.
    end: usize,
    /// When the kubelet received the line, in Unix nanoseconds.
    ts: i64,
}

#[derive(Debug, Default)]
struct LogInner {
    data: Vec<u8>,
    lines: Vec<Line>,
    /// Absolute number of the first kept line (earlier ones rotated away).
    base: u64,
    pending: Vec<u8>,
    last_ts: i64,
    closed: bool,
}

/// The log of one container instance.
#[derive(Debug)]
pub struct ContainerLog {
    inner: Mutex<LogInner>,
    max_bytes: usize,
    version: watch::Sender<u64>,
}

/// What a read produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read {
    /// Absolute number of the next line to read.
    pub next: u64,
    /// Lines written to the output.
    pub lines: u64,
    /// The container has stopped and every line has been read.
    pub finished: bool,
}

impl ContainerLog {
    fn new(max_bytes: usize) -> Self {
        ContainerLog {
            inner: Mutex::new(LogInner::default()),
            max_bytes: max_bytes.max(1024),
            version: watch::channel(0).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends what the container wrote; complete lines get a timestamp and become visible.
    pub fn append(&self, text: &[u8]) {
        if text.is_empty() {
            return;
        }
        let mut inner = self.lock();
        if inner.closed {
            return;
        }
        let mut rest = text;
        let mut added = false;
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(pos + 1);
            let pending = std::mem::take(&mut inner.pending);
            inner.data.extend_from_slice(&pending);
            inner.data.extend_from_slice(line);
            push_line(&mut inner);
            added = true;
            rest = tail;
        }
        inner.pending.extend_from_slice(rest);
        if added {
            self.rotate(&mut inner);
            let n = inner.base + inner.lines.len() as u64;
            drop(inner);
            self.version.send_replace(n);
        }
    }

    /// Marks the container stopped: a trailing partial line is kept as the last line and followers
    /// finish once they have read everything.
    pub fn close(&self) {
        let mut inner = self.lock();
        if inner.closed {
            return;
        }
        if !inner.pending.is_empty() {
            let pending = std::mem::take(&mut inner.pending);
            inner.data.extend_from_slice(&pending);
            push_line(&mut inner);
        }
        inner.closed = true;
        let n = inner.base + inner.lines.len() as u64;
        drop(inner);
        self.version.send_replace(n + 1);
    }

    fn rotate(&self, inner: &mut LogInner) {
        if inner.data.len() <= self.max_bytes || inner.lines.len() < 2 {
            return;
        }
        let cut = inner.lines.len() / 2;
        let byte_cut = inner.lines[cut - 1].end;
        inner.data.drain(..byte_cut);
        inner.lines.drain(..cut);
        for l in &mut inner.lines {
            l.end -= byte_cut;
        }
        inner.base += cut as u64;
    }

    /// Notified whenever lines are added or the log closes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Whether the container has stopped writing.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Absolute number of the first line with a timestamp at or after `nanos`.
    pub fn first_line_since(&self, nanos: i64) -> u64 {
        let inner = self.lock();
        inner.base + inner.lines.partition_point(|l| l.ts < nanos) as u64
    }

    /// Absolute numbers of the first kept line and one past the last line.
    pub fn bounds(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.base, inner.base + inner.lines.len() as u64)
    }

    /// Copies lines from absolute line `from` into `out`, prefixed with their RFC3339Nano timestamp
    /// when `timestamps`, stopping after `max_lines` lines or once `out` holds `max_bytes` bytes.
    pub fn read(&self, from: u64, max_lines: u64, max_bytes: usize, timestamps: bool, out: &mut Vec<u8>) -> Read {
        let inner = self.lock();
        let start = from.max(inner.base);
        let mut idx = (start - inner.base) as usize;
        let mut lines = 0;
        while idx < inner.lines.len() && lines < max_lines && out.len() < max_bytes {
            let begin = if idx == 0 { 0 } else { inner.lines[idx - 1].end };
            let line = inner.lines[idx];
            if timestamps {
                format_rfc3339_nano(line.ts, out);
                out.push(b' ');
            }
            out.extend_from_slice(&inner.data[begin..line.end]);
            idx += 1;
            lines += 1;
        }
        let next = inner.base + idx as u64;
        Read { next, lines, finished: inner.closed && idx == inner.lines.len() }
    }

    /// Every line as text (tests and the benchmark's own checks).
    pub fn text(&self) -> String {
        let mut out = Vec::new();
        let (base, end) = self.bounds();
        self.read(base, end - base, usize::MAX, false, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn push_line(inner: &mut LogInner) {
    let ts = now_nanos().max(inner.last_ts);
    inner.last_ts = ts;
    let end = inner.data.len();
    inner.lines.push(Line { end, ts });
}

/// The instances of each container, keyed by (pod uid, container name), oldest first.
type Instances = HashMap<(String, String), Vec<Arc<ContainerLog>>>;

/// Every container log on the simulated node, by pod uid and container name.
#[derive(Debug)]
pub struct LogStore {
    max_bytes: usize,
    logs: Mutex<Instances>,
}

impl LogStore {
    /// An empty store keeping at most `max_bytes` per container instance.
    pub fn new(max_bytes: usize) -> Self {
        LogStore { max_bytes, logs: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, Instances> {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a new instance of a container (first start or restart) and returns its log.
    pub fn start(&self, pod_uid: &str, container: &str) -> Arc<ContainerLog> {
        let log = Arc::new(ContainerLog::new(self.max_bytes));
        let mut logs = self.lock();
        let instances = logs.entry((pod_uid.to_string(), container.to_string())).or_default();
        if let Some(prev) = instances.last() {
            prev.close();
        }
        instances.push(log.clone());
        // Like a real node, keep only the current and the previous instance.
        if instances.len() > 2 {
            instances.remove(0);
        }
        log
    }

    /// The current instance's log.
    pub fn current(&self, pod_uid: &str, container: &str) -> Option<Arc<ContainerLog>> {
        self.lock().get(&(pod_uid.to_string(), container.to_string())).and_then(|v| v.last().cloned())
    }

    /// The previous instance's log (after a restart).
    pub fn previous(&self, pod_uid: &str, container: &str) -> Option<Arc<ContainerLog>> {
        self.lock()
            .get(&(pod_uid.to_string(), container.to_string()))
            .and_then(|v| v.len().checked_sub(2).map(|i| v[i].clone()))
    }

    /// Closes and forgets every log of a pod (the pod is gone).
    pub fn forget_pod(&self, pod_uid: &str) {
        let mut logs = self.lock();
        logs.retain(|(uid, _), instances| {
            if uid == pod_uid {
                instances.iter().for_each(|l| l.close());
                false
            } else {
                true
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_visible_at_newline_and_partial_lines_at_close() {
        let log = ContainerLog::new(1 << 20);
        log.append(b"one\ntw");
        assert_eq!(log.text(), "one\n");
        log.append(b"o\nthree");
        assert_eq!(log.text(), "one\ntwo\n");
        log.close();
        assert_eq!(log.text(), "one\ntwo\nthree");
        let mut out = Vec::new();
        let r = log.read(1, 10, usize::MAX, false, &mut out);
        assert_eq!((r.next, r.lines, r.finished), (3, 2, true));
        log.append(b"ignored\n");
        assert_eq!(log.bounds(), (0, 3));
    }

    #[test]
    fn timestamps_prefix_each_line_and_are_monotonic() {
        let log = ContainerLog::new(1 << 20);
        log.append(b"a\nb\n");
        let mut out = Vec::new();
        log.read(0, 10, usize::MAX, true, &mut out);
        let text = String::from_utf8(out).expect("utf8");
        let stamps: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap_or("")).collect();
        assert_eq!(stamps.len(), 2);
        assert!(stamps.iter().all(|s| s.ends_with('Z') && s.contains('T')), "{text}");
        assert!(stamps[0] <= stamps[1] || stamps[0].len() != stamps[1].len());
        assert_eq!(log.first_line_since(i64::MIN), 0);
        assert_eq!(log.first_line_since(i64::MAX), 2);
    }

    #[test]
    fn rotation_drops_the_oldest_lines_and_keeps_numbering() {
        let log = ContainerLog::new(1024);
        for i in 0..200 {
            log.append(format!("line {i:04}\n").as_bytes());
        }
        let (base, end) = log.bounds();
        assert_eq!(end, 200);
        assert!(base > 0);
        let mut out = Vec::new();
        let r = log.read(0, 1, usize::MAX, false, &mut out);
        assert_eq!(String::from_utf8(out).expect("utf8"), format!("line {base:04}\n"));
        assert_eq!(r.next, base + 1);
    }

    #[test]
    fn restarts_keep_the_previous_instance() {
        let store = LogStore::new(1 << 20);
        let first = store.start("uid", "main");
        first.append(b"first\n");
        let second = store.start("uid", "main");
        assert!(first.is_closed());
        second.append(b"second\n");
        assert_eq!(store.previous("uid", "main").map(|l| l.text()), Some("first\n".into()));
        assert_eq!(store.current("uid", "main").map(|l| l.text()), Some("second\n".into()));
        store.forget_pod("uid");
        assert!(second.is_closed());
        assert!(store.current("uid", "main").is_none());
    }
}
