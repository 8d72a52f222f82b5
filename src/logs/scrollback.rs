//! The console's scrollback for one batch: every branch's sanitised lines merged in arrival order,
//! bounded (the oldest lines are dropped and counted), with per-branch, error-line and filter-match
//! indexes kept up to date as lines arrive. Views ask for "the n lines ending at position p" of one
//! of these sequences, so drawing costs the same with ten thousand lines as with a million.
//!
//! Lines are stored in shared chunks of [`CHUNK`] lines, so that a [`LogSnapshot`] of a million
//! lines (for an incident bundle, built on another thread) costs a few hundred reference counts,
//! not a copy, and never holds the console up.

use std::collections::VecDeque;
use std::sync::Arc;

use regex::Regex;

use super::sanitize::{SafeLine, Style};

/// One line in the scrollback: compact (one allocation for the text, one for its style runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrollLine {
    /// Which branch (an index into [`Scrollback::branches`]'s order of first appearance).
    pub branch: u32,
    /// The kubelet's timestamp, Unix nanoseconds (`i64::MIN`: unknown).
    pub ts: i64,
    /// The text, printable characters only.
    pub text: Box<str>,
    /// Style runs, in order; empty for an unstyled line.
    pub styles: Box<[StyleRun]>,
    /// It looks like an error (for "next error line").
    pub error: bool,
}

/// Where a style starts in a line's text (it lasts until the next run starts, or the line ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StyleRun {
    /// The byte offset it starts at.
    pub start: u32,
    /// The style.
    pub style: Style,
}

impl ScrollLine {
    /// The text split into (text, style) runs.
    pub fn runs(&self) -> Vec<(&str, Style)> {
        if self.styles.is_empty() {
            return vec![(&self.text, Style::default())];
        }
        let mut out = Vec::with_capacity(self.styles.len() + 1);
        let first = self.styles[0].start as usize;
        if first > 0 {
            out.push((&self.text[..first], Style::default()));
        }
        for (i, run) in self.styles.iter().enumerate() {
            let end = self.styles.get(i + 1).map_or(self.text.len(), |n| n.start as usize);
            out.push((&self.text[run.start as usize..end], run.style));
        }
        out
    }

    /// The timestamp, when known.
    pub fn timestamp(&self) -> Option<i64> {
        (self.ts != i64::MIN).then_some(self.ts)
    }
}

/// Which sequence of lines a view shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sequence {
    /// Every line, merged.
    All,
    /// Lines matching the filter.
    Matches,
    /// One branch's lines.
    Branch(u32),
    /// One branch's lines that match the filter (a split pane while filtering).
    BranchMatches(u32),
}

/// Lines per storage chunk. Every chunk but the last is full, so a line's place is arithmetic.
pub const CHUNK: usize = 4096;

/// A batch's merged, bounded, indexed log.
#[derive(Clone, Debug)]
pub struct Scrollback {
    /// The kept lines, in chunks; the first `head` lines of the first chunk are already dropped
    /// (at most one chunk of dropped lines stays in memory).
    chunks: VecDeque<Arc<Vec<ScrollLine>>>,
    head: usize,
    /// Lines kept.
    len: usize,
    /// Sequence number of the first kept line.
    base: u64,
    capacity: usize,
    per_branch: Vec<VecDeque<u64>>,
    errors: VecDeque<u64>,
    filter: Option<Regex>,
    matches: VecDeque<u64>,
    branch_matches: Vec<VecDeque<u64>>,
}

/// Appends `seq` to the index of branch `b`, growing the per-branch indexes as branches appear.
fn push_indexed(indexes: &mut Vec<VecDeque<u64>>, b: usize, seq: u64) {
    if indexes.len() <= b {
        indexes.resize_with(b + 1, VecDeque::new);
    }
    indexes[b].push_back(seq);
}

fn error_pattern() -> Option<&'static Regex> {
    static PATTERN: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| {
            Regex::new(
                r"(?i)\b(error|errors|fatal|failed|failure|panic|exception|traceback)\b|(?i)exit (code|status) [1-9]",
            )
            .ok()
        })
        .as_ref()
}

/// Whether a line reads like an error.
pub fn looks_like_error(text: &str) -> bool {
    error_pattern().is_some_and(|p| p.is_match(text))
}

impl Scrollback {
    /// An empty scrollback keeping at most `capacity` lines.
    pub fn new(capacity: usize) -> Self {
        Scrollback {
            chunks: VecDeque::new(),
            head: 0,
            len: 0,
            base: 0,
            capacity: capacity.max(1),
            per_branch: Vec::new(),
            errors: VecDeque::new(),
            filter: None,
            matches: VecDeque::new(),
            branch_matches: Vec::new(),
        }
    }

    /// Appends one sanitised line of `branch`.
    pub fn push(&mut self, branch: u32, ts: Option<i64>, line: &SafeLine) {
        let mut text = String::with_capacity(line.spans.iter().map(|s| s.text.len()).sum());
        let mut styles = Vec::new();
        for span in &line.spans {
            if !span.style.is_plain() || !styles.is_empty() {
                styles.push(StyleRun { start: text.len() as u32, style: span.style });
            }
            text.push_str(&span.text);
        }
        self.push_text(branch, ts, text, styles);
    }

    /// Appends a line already split into text and style runs.
    pub fn push_text(&mut self, branch: u32, ts: Option<i64>, text: String, styles: Vec<StyleRun>) {
        if self.len == self.capacity {
            self.drop_oldest();
        }
        let seq = self.base + self.len as u64;
        let error = looks_like_error(&text);
        if error {
            self.errors.push_back(seq);
        }
        let b = branch as usize;
        if self.filter.as_ref().is_some_and(|f| f.is_match(&text)) {
            self.matches.push_back(seq);
            push_indexed(&mut self.branch_matches, b, seq);
        }
        push_indexed(&mut self.per_branch, b, seq);
        let line = ScrollLine {
            branch,
            ts: ts.unwrap_or(i64::MIN),
            text: text.into_boxed_str(),
            styles: styles.into_boxed_slice(),
            error,
        };
        match self.chunks.back_mut() {
            // Copies the chunk only if a snapshot still shares it (once per snapshot at most).
            Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(line),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK.min(self.capacity));
                chunk.push(line);
                self.chunks.push_back(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    fn drop_oldest(&mut self) {
        let Some(old_branch) = self.get(self.base).map(|l| l.branch) else { return };
        self.head += 1;
        self.len -= 1;
        if self.chunks.front().is_some_and(|c| self.head == c.len()) {
            self.chunks.pop_front();
            self.head = 0;
        }
        let seq = self.base;
        self.base += 1;
        let b = old_branch as usize;
        let queues = [self.per_branch.get_mut(b), Some(&mut self.errors), Some(&mut self.matches)];
        for q in queues.into_iter().flatten().chain(self.branch_matches.get_mut(b)) {
            if q.front() == Some(&seq) {
                q.pop_front();
            }
        }
    }

    /// Lines received in all (kept or dropped).
    pub fn total(&self) -> u64 {
        self.base + self.len as u64
    }

    /// Lines dropped to stay within capacity.
    pub fn dropped(&self) -> u64 {
        self.base
    }

    /// Lines kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A line by sequence number, if still kept.
    pub fn get(&self, seq: u64) -> Option<&ScrollLine> {
        let i = usize::try_from(seq.checked_sub(self.base)?).ok().filter(|i| *i < self.len)?;
        let at = self.head + i;
        self.chunks.get(at / CHUNK)?.get(at % CHUNK)
    }

    /// Every kept line, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &ScrollLine> {
        self.chunks.iter().flat_map(|c| c.iter()).skip(self.head).take(self.len)
    }

    /// What is kept now, shared rather than copied: the lines stay readable on another thread
    /// (for an incident bundle) while this scrollback goes on taking lines.
    pub fn snapshot(&self) -> LogSnapshot {
        LogSnapshot {
            chunks: self.chunks.iter().cloned().collect(),
            head: self.head,
            len: self.len,
            dropped: self.base,
        }
    }

    /// Sets (or clears, with `None`) the filter and rebuilds its matches.
    pub fn set_filter(&mut self, filter: Option<Regex>) {
        self.matches.clear();
        self.branch_matches.clear();
        if let Some(f) = &filter {
            let hits: Vec<(u64, u32)> = self
                .iter()
                .enumerate()
                .filter(|(_, l)| f.is_match(&l.text))
                .map(|(i, l)| (self.base + i as u64, l.branch))
                .collect();
            for (seq, branch) in hits {
                self.matches.push_back(seq);
                push_indexed(&mut self.branch_matches, branch as usize, seq);
            }
        }
        self.filter = filter;
    }

    /// The filter in force.
    pub fn filter(&self) -> Option<&Regex> {
        self.filter.as_ref()
    }

    /// The index behind a sequence (`None` for every line, or a branch that has none).
    fn index(&self, seq: Sequence) -> Option<&VecDeque<u64>> {
        match seq {
            Sequence::All => None,
            Sequence::Matches => Some(&self.matches),
            Sequence::Branch(b) => self.per_branch.get(b as usize),
            Sequence::BranchMatches(b) => self.branch_matches.get(b as usize),
        }
    }

    /// How many lines a sequence has.
    pub fn count(&self, seq: Sequence) -> usize {
        match seq {
            Sequence::All => self.len,
            _ => self.index(seq).map_or(0, VecDeque::len),
        }
    }

    /// The sequence number of the `i`-th line of a sequence.
    pub fn seq_at(&self, seq: Sequence, i: usize) -> Option<u64> {
        match seq {
            Sequence::All => (i < self.len).then(|| self.base + i as u64),
            _ => self.index(seq).and_then(|q| q.get(i)).copied(),
        }
    }

    /// The position of sequence number `s` in a sequence (or of the last line before it).
    pub fn position_of(&self, seq: Sequence, s: u64) -> usize {
        let find = |q: &VecDeque<u64>| match q.binary_search(&s) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        match seq {
            Sequence::All => s.saturating_sub(self.base).min(self.len.saturating_sub(1) as u64) as usize,
            _ => self.index(seq).map_or(0, find),
        }
    }

    /// Up to `n` lines of a sequence ending at position `end` (exclusive), oldest first.
    pub fn window(&self, seq: Sequence, end: usize, n: usize) -> Vec<(u64, &ScrollLine)> {
        let end = end.min(self.count(seq));
        let start = end.saturating_sub(n);
        (start..end).filter_map(|i| self.seq_at(seq, i)).filter_map(|s| self.get(s).map(|l| (s, l))).collect()
    }

    /// The first error line after sequence number `after` (wrapping to the first), optionally of one branch.
    pub fn next_error(&self, after: Option<u64>, branch: Option<u32>) -> Option<u64> {
        let ok = |s: &u64| branch.is_none_or(|b| self.get(*s).is_some_and(|l| l.branch == b));
        let start = after.map_or(0, |a| self.errors.partition_point(|s| *s <= a));
        self.errors.iter().skip(start).find(|s| ok(s)).or_else(|| self.errors.iter().find(|s| ok(s))).copied()
    }

    /// The first match after sequence number `after` (wrapping), or before it with `backwards`.
    pub fn next_match(&self, after: Option<u64>, backwards: bool) -> Option<u64> {
        if self.matches.is_empty() {
            return None;
        }
        match (after, backwards) {
            (None, false) => self.matches.front().copied(),
            (None, true) => self.matches.back().copied(),
            (Some(a), false) => {
                let i = self.matches.partition_point(|s| *s <= a);
                self.matches.get(i).or(self.matches.front()).copied()
            }
            (Some(a), true) => {
                let i = self.matches.partition_point(|s| *s < a);
                if i == 0 { self.matches.back().copied() } else { self.matches.get(i - 1).copied() }
            }
        }
    }

    /// The first kept line of a branch.
    pub fn first_of_branch(&self, branch: u32) -> Option<u64> {
        self.per_branch.get(branch as usize).and_then(|q| q.front()).copied()
    }

    /// Every kept line of a branch, oldest first.
    pub fn branch_lines(&self, branch: u32) -> impl Iterator<Item = &ScrollLine> {
        self.per_branch.get(branch as usize).into_iter().flatten().filter_map(|s| self.get(*s))
    }
}

/// A scrollback's lines at one moment, independent of it (see [`Scrollback::snapshot`]).
#[derive(Clone, Debug)]
pub struct LogSnapshot {
    chunks: Vec<Arc<Vec<ScrollLine>>>,
    head: usize,
    len: usize,
    dropped: u64,
}

impl LogSnapshot {
    /// Every line, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &ScrollLine> {
        self.chunks.iter().flat_map(|c| c.iter()).skip(self.head).take(self.len)
    }

    /// Lines the scrollback had dropped to stay within its capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::sanitize::sanitize_line;

    fn line(text: &str) -> SafeLine {
        sanitize_line(text.as_bytes(), &mut Style::default())
    }

    #[test]
    fn keeps_per_branch_order_and_drops_the_oldest_everywhere() {
        let mut s = Scrollback::new(4);
        for i in 0..6u32 {
            s.push(i % 2, Some(i as i64), &line(&format!("b{} line {i}", i % 2)));
        }
        assert_eq!((s.total(), s.dropped(), s.len()), (6, 2, 4));
        let b0: Vec<&str> = s.branch_lines(0).map(|l| &*l.text).collect();
        assert_eq!(b0, vec!["b0 line 2", "b0 line 4"]);
        let all: Vec<&str> = s.window(Sequence::All, usize::MAX, 10).into_iter().map(|(_, l)| &*l.text).collect();
        assert_eq!(all, vec!["b0 line 2", "b1 line 3", "b0 line 4", "b1 line 5"]);
        assert_eq!(s.count(Sequence::Branch(1)), 2);
        assert_eq!(s.count(Sequence::Branch(7)), 0);
    }

    #[test]
    fn filter_matches_are_rebuilt_and_kept_up_to_date() {
        let mut s = Scrollback::new(100);
        s.push(0, None, &line("apply started"));
        s.push(0, None, &line("plan: 3 to add"));
        s.set_filter(Regex::new("apply").ok());
        assert_eq!(s.count(Sequence::Matches), 1);
        s.push(1, None, &line("apply complete"));
        assert_eq!(s.count(Sequence::Matches), 2);
        assert_eq!(s.next_match(Some(0), false), Some(2));
        assert_eq!(s.next_match(Some(2), false), Some(0), "wraps");
        assert_eq!(s.next_match(Some(2), true), Some(0));
        assert_eq!(s.count(Sequence::BranchMatches(0)), 1);
        assert_eq!(s.seq_at(Sequence::BranchMatches(1), 0), Some(2));
        assert_eq!(s.count(Sequence::BranchMatches(5)), 0);
        s.set_filter(None);
        assert_eq!(s.count(Sequence::Matches), 0);
        assert_eq!(s.count(Sequence::BranchMatches(1)), 0);
    }

    #[test]
    fn per_branch_matches_drop_with_the_oldest_lines() {
        let mut s = Scrollback::new(3);
        s.set_filter(Regex::new("hit").ok());
        s.push(0, None, &line("hit a"));
        s.push(1, None, &line("hit b"));
        s.push(0, None, &line("miss"));
        s.push(0, None, &line("hit c"));
        assert_eq!((s.count(Sequence::BranchMatches(0)), s.count(Sequence::BranchMatches(1))), (1, 1));
        assert_eq!(s.seq_at(Sequence::BranchMatches(0), 0), Some(3), "the dropped first match is gone");
        assert_eq!(s.position_of(Sequence::BranchMatches(0), 3), 0);
    }

    #[test]
    fn error_lines_are_found_in_order_and_by_branch() {
        let mut s = Scrollback::new(100);
        s.push(0, None, &line("ok"));
        s.push(1, None, &line("Error: lineage graph unreachable"));
        s.push(0, None, &line("terraform apply failed"));
        s.push(0, None, &line("errorless text is fine"));
        assert_eq!(s.next_error(None, None), Some(1));
        assert_eq!(s.next_error(Some(1), None), Some(2));
        assert_eq!(s.next_error(Some(2), None), Some(1), "wraps");
        assert_eq!(s.next_error(None, Some(0)), Some(2));
        assert!(!s.get(3).is_some_and(|l| l.error));
    }

    #[test]
    fn styled_runs_survive_and_windows_are_bounded() {
        let mut s = Scrollback::new(10);
        s.push(0, Some(5), &line("plain \u{1b}[31mred\u{1b}[0m tail"));
        let l = s.get(0).expect("kept");
        let runs: Vec<(&str, bool)> = l.runs().into_iter().map(|(t, st)| (t, st.is_plain())).collect();
        assert_eq!(runs, vec![("plain ", true), ("red", false), (" tail", true)]);
        assert_eq!(l.timestamp(), Some(5));
        for i in 0..9 {
            s.push(0, None, &line(&format!("{i}")));
        }
        assert_eq!(s.window(Sequence::All, 5, 3).iter().map(|(q, _)| *q).collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(s.position_of(Sequence::Branch(0), 4), 4);
    }

    #[test]
    fn lines_across_chunks_are_addressed_and_a_snapshot_is_not_changed_by_later_lines() {
        let capacity = CHUNK * 2 + 10;
        let mut s = Scrollback::new(capacity);
        let text = |seq: usize| if seq < CHUNK * 2 + 5 { format!("line {seq}") } else { format!("later {seq}") };
        for i in 0..CHUNK * 2 + 5 {
            s.push((i % 3) as u32, Some(i as i64), &line(&text(i)));
        }
        let snap = s.snapshot();
        // Enough later lines to drop the first two chunks entirely and part of the third.
        let total = CHUNK * 4 + 30;
        for i in CHUNK * 2 + 5..total {
            s.push((i % 3) as u32, None, &line(&text(i)));
        }
        let dropped = total - capacity;
        assert_eq!((s.len(), s.dropped()), (capacity, dropped as u64), "bounded");
        assert_eq!(s.get(dropped as u64).map(|l| l.text.to_string()), Some(text(dropped)), "the oldest kept line");
        assert_eq!(s.get(dropped as u64 - 1), None, "dropped");
        for seq in [dropped + 1, CHUNK * 3 - 1, CHUNK * 3, CHUNK * 3 + 1, total - 1] {
            assert_eq!(s.get(seq as u64).map(|l| l.text.to_string()), Some(text(seq)), "line {seq}");
        }
        assert_eq!(s.get(total as u64), None);
        assert_eq!(
            s.iter().map(|l| l.text.to_string()).collect::<Vec<_>>(),
            (dropped..total).map(text).collect::<Vec<_>>()
        );
        assert!(s.chunks.len() <= capacity / CHUNK + 2, "dropped chunks are let go: {}", s.chunks.len());
        let taken: Vec<String> = snap.iter().map(|l| l.text.to_string()).collect();
        assert_eq!(taken, (0..CHUNK * 2 + 5).map(text).collect::<Vec<_>>(), "the snapshot keeps what it saw");
        assert_eq!(snap.dropped(), 0);
        let b1: Vec<String> = s.branch_lines(1).take(2).map(|l| l.text.to_string()).collect();
        let first_b1 = (dropped..).find(|i| i % 3 == 1).unwrap_or_default();
        assert_eq!(b1, vec![text(first_b1), text(first_b1 + 3)]);
    }
}
