//! What the embedded cluster can tell tests and benchmarks about its own load: how many log streams
//! and watches are open now, and the most that were open at once.

use std::sync::atomic::{AtomicUsize, Ordering};

/// A gauge with a high-water mark.
#[derive(Debug, Default)]
pub struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    /// Counts one more; the returned guard counts it down when dropped.
    pub fn open(&self) -> GaugeGuard<'_> {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(n, Ordering::SeqCst);
        GaugeGuard(self)
    }

    /// Open right now.
    pub fn current(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }

    /// The most open at once since the last reset.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// Starts a new high-water mark from the current value.
    pub fn reset_peak(&self) {
        self.peak.store(self.current(), Ordering::SeqCst);
    }
}

/// Counts a gauge down on drop.
#[derive(Debug)]
pub struct GaugeGuard<'a>(&'a Gauge);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Requests served, by verb and resource (`delete pods`, `deletecollection pods`): what a client
/// costs the API server, counted where it is served.
#[derive(Debug, Default)]
pub struct Requests {
    counts: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Requests {
    /// Counts one `verb` on `resource` (`pods`, `pods/log`).
    pub fn count(&self, verb: &str, resource: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *counts.entry(format!("{verb} {resource}")).or_default() += 1;
    }

    /// Every count so far, by `verb resource`.
    pub fn snapshot(&self) -> std::collections::BTreeMap<String, u64> {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Starts counting from zero.
    pub fn reset(&self) {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }
}

/// The cluster's gauges and counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Open pod log streams.
    pub log_streams: Gauge,
    /// Open watches.
    pub watches: Gauge,
    /// Resource requests served (authorised or not).
    pub requests: Requests,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_track_current_and_peak() {
        let g = Gauge::default();
        let a = g.open();
        let b = g.open();
        assert_eq!((g.current(), g.peak()), (2, 2));
        drop(a);
        drop(b);
        let _c = g.open();
        assert_eq!((g.current(), g.peak()), (1, 2));
        g.reset_peak();
        assert_eq!(g.peak(), 1);
    }
}
