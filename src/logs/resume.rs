//! Exactly-once log delivery across reconnects. The API's `sinceTime` has whole-second precision,
//! so a resumed stream starts at the beginning of the second of the last line seen and repeats
//! lines already delivered; with `timestamps=true` every line carries the kubelet's RFC3339Nano
//! time, and a line is new when its time is later than the last one seen, or equal to it beyond the
//! number of lines already seen at that exact time. Timestamps never go backwards within one
//! container's log, so nothing is lost or duplicated.

use jiff::Timestamp;

/// Where a follower is in one container's log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Time of the last line delivered (Unix nanoseconds).
    last: Option<i64>,
    /// Lines delivered with exactly that time.
    at_last: usize,
    /// On a resumed stream: lines at exactly `last` still to skip.
    skip_at_last: usize,
}

/// What to do with an incoming line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// New: deliver it.
    Deliver,
    /// Already delivered before the reconnect: drop it.
    Duplicate,
}

impl Cursor {
    /// The `sinceTime` to reconnect with: the start of the second of the last line (None before any line).
    pub fn since(&self) -> Option<Timestamp> {
        let nanos = self.last?;
        Timestamp::from_second(nanos.div_euclid(1_000_000_000)).ok()
    }

    /// Call when a new connection starts (the server will repeat lines from `since()`).
    pub fn reconnected(&mut self) {
        self.skip_at_last = self.at_last;
    }

    /// Decides about a line with time `nanos` (None when the line had no readable timestamp: it is
    /// delivered and does not move the cursor).
    pub fn accept(&mut self, nanos: Option<i64>) -> Verdict {
        let Some(t) = nanos else { return Verdict::Deliver };
        match self.last {
            Some(last) if t < last => Verdict::Duplicate,
            Some(last) if t == last => {
                if self.skip_at_last > 0 {
                    self.skip_at_last -= 1;
                    Verdict::Duplicate
                } else {
                    self.at_last += 1;
                    Verdict::Deliver
                }
            }
            _ => {
                self.last = Some(t);
                self.at_last = 1;
                self.skip_at_last = 0;
                Verdict::Deliver
            }
        }
    }
}

/// Splits a `timestamps=true` line into its time and text (`None` time if there is no valid prefix).
pub fn split_timestamp(line: &[u8]) -> (Option<i64>, &[u8]) {
    let Some(space) = line.iter().position(|&b| b == b' ') else { return (None, line) };
    match std::str::from_utf8(&line[..space]).ok().and_then(kube_grammar::time::parse_rfc3339_nanos) {
        Some(t) => (Some(t), &line[space + 1..]),
        None => (None, line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumed_streams_deliver_each_line_once() {
        // Lines at t=1.1s, 1.5s, 1.5s, 2.0s; the stream is cut after the first 1.5s line.
        let times = [1_100_000_000i64, 1_500_000_000, 1_500_000_000, 2_000_000_000];
        let mut c = Cursor::default();
        let mut delivered = Vec::new();
        for (i, t) in times.iter().take(2).enumerate() {
            if c.accept(Some(*t)) == Verdict::Deliver {
                delivered.push(i);
            }
        }
        assert_eq!(c.since().map(|t| t.as_second()), Some(1));
        c.reconnected();
        // The server repeats everything from second 1.
        for (i, t) in times.iter().enumerate() {
            if c.accept(Some(*t)) == Verdict::Deliver {
                delivered.push(i);
            }
        }
        assert_eq!(delivered, vec![0, 1, 2, 3]);
        // A second cut right after the duplicate-time line, and a third with nothing new.
        c.reconnected();
        let again: Vec<_> = times.iter().map(|t| c.accept(Some(*t))).collect();
        assert!(again.iter().all(|v| *v == Verdict::Duplicate), "{again:?}");
    }

    #[test]
    fn timestamp_prefixes() {
        let (t, rest) = split_timestamp(b"2023-11-14T22:13:20.123456789Z hello world");
        assert_eq!((t, rest), (Some(1_700_000_000_123_456_789), b"hello world".as_slice()));
        assert_eq!(split_timestamp(b"no timestamp here"), (None, b"no timestamp here".as_slice()));
        assert_eq!(split_timestamp(b"nospace"), (None, b"nospace".as_slice()));
        assert_eq!(Cursor::default().since(), None);
        assert_eq!(Cursor::default().accept(None), Verdict::Deliver);
    }
}
