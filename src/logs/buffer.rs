//! Bounded per-branch log buffers: the console keeps the most recent lines of every branch, up to a
//! limit, and counts what it had to drop — memory stays flat however long a batch logs.

use std::collections::{BTreeMap, VecDeque};

use super::sanitize::SafeLine;

/// One buffered line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferedLine {
    /// Its position in the branch's log (0-based, counting dropped lines too).
    pub number: u64,
    /// The kubelet's timestamp (Unix nanoseconds), when known.
    pub ts: Option<i64>,
    /// Container it came from.
    pub container: String,
    /// The sanitised text.
    pub line: SafeLine,
}

/// The most recent lines of one branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchBuffer {
    lines: VecDeque<BufferedLine>,
    capacity: usize,
    next: u64,
}

impl BranchBuffer {
    /// An empty buffer keeping at most `capacity` lines.
    pub fn new(capacity: usize) -> Self {
        BranchBuffer { lines: VecDeque::new(), capacity: capacity.max(1), next: 0 }
    }

    /// Appends a line, dropping the oldest when full.
    pub fn push(&mut self, ts: Option<i64>, container: &str, line: SafeLine) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(BufferedLine { number: self.next, ts, container: container.to_string(), line });
        self.next += 1;
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &BufferedLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// Lines received in all.
    pub fn total(&self) -> u64 {
        self.next
    }

    /// Lines dropped to stay within capacity.
    pub fn dropped(&self) -> u64 {
        self.next - self.lines.len() as u64
    }
}

/// Buffers for many branches, by key.
#[derive(Clone, Debug, Default)]
pub struct Buffers<K: Ord> {
    buffers: BTreeMap<K, BranchBuffer>,
    capacity: usize,
}

impl<K: Ord + Clone> Buffers<K> {
    /// Buffers keeping `capacity` lines per branch.
    pub fn new(capacity: usize) -> Self {
        Buffers { buffers: BTreeMap::new(), capacity }
    }

    /// Appends a line to a branch's buffer.
    pub fn push(&mut self, key: &K, ts: Option<i64>, container: &str, line: SafeLine) {
        let capacity = self.capacity;
        self.buffers.entry(key.clone()).or_insert_with(|| BranchBuffer::new(capacity)).push(ts, container, line);
    }

    /// A branch's buffer.
    pub fn get(&self, key: &K) -> Option<&BranchBuffer> {
        self.buffers.get(key)
    }

    /// All buffers.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &BranchBuffer)> {
        self.buffers.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::sanitize::{Style, sanitize_line};

    #[test]
    fn keeps_the_newest_lines_and_counts_the_rest() {
        let mut b = BranchBuffer::new(3);
        for i in 0..5 {
            b.push(Some(i), "main", sanitize_line(format!("line {i}").as_bytes(), &mut Style::default()));
        }
        let kept: Vec<String> = b.lines().map(|l| l.line.plain()).collect();
        assert_eq!(kept, vec!["line 2", "line 3", "line 4"]);
        assert_eq!((b.total(), b.dropped()), (5, 2));
        assert_eq!(b.lines().next().map(|l| l.number), Some(2));
        let mut all: Buffers<&str> = Buffers::new(2);
        all.push(&"a", None, "c", SafeLine::default());
        assert_eq!(all.get(&"a").map(BranchBuffer::total), Some(1));
        assert!(all.get(&"b").is_none());
    }
}
