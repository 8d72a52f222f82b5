//! Fault injection, driven by tests and benchmarks through the cluster handle: drop every open watch,
//! cut log streams after N lines, answer 429/5xx for a number of requests or a while, add latency.
//! (Expiring the watch history lives on the store: `Store::compact_history`.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::api::status::ApiError;

/// A window of injected failures.
#[derive(Clone, Debug)]
struct Failing {
    code: u16,
    remaining: Option<u64>,
    until: Option<Instant>,
    path_contains: Option<String>,
}

/// The fault switches of one embedded cluster.
#[derive(Debug)]
pub struct Faults {
    latency_micros: AtomicU64,
    log_cut_after: AtomicU64,
    failing: Mutex<Option<Failing>>,
    watch_epoch: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_micros: AtomicU64::new(0),
            log_cut_after: AtomicU64::new(0),
            failing: Mutex::new(None),
            watch_epoch: watch::channel(0).0,
        }
    }
}

impl Faults {
    /// Aborts every watch stream open right now (their connections drop mid-stream).
    pub fn drop_watches(&self) {
        self.watch_epoch.send_modify(|e| *e += 1);
    }

    /// Notified when `drop_watches` is called; watch streams select on it.
    pub fn watch_drops(&self) -> watch::Receiver<u64> {
        self.watch_epoch.subscribe()
    }

    /// Cuts every log stream (new and following ones) after `lines` lines; `None` switches it off.
    pub fn cut_logs_after(&self, lines: Option<u64>) {
        self.log_cut_after.store(lines.unwrap_or(0), Ordering::SeqCst);
    }

    /// The current log cut, if any.
    pub fn log_cut(&self) -> Option<u64> {
        match self.log_cut_after.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n),
        }
    }

    /// Adds `latency` before every request is handled.
    pub fn set_latency(&self, latency: Duration) {
        self.latency_micros.store(latency.as_micros() as u64, Ordering::SeqCst);
    }

    /// The injected latency.
    pub fn latency(&self) -> Duration {
        Duration::from_micros(self.latency_micros.load(Ordering::SeqCst))
    }

    /// Answers the next `count` requests whose path contains `path_contains` (all if `None`) with
    /// `code` (429, 500, 503, …).
    pub fn fail_next(&self, code: u16, count: u64, path_contains: Option<&str>) {
        *self.lock() = Some(Failing {
            code,
            remaining: Some(count),
            until: None,
            path_contains: path_contains.map(str::to_string),
        });
    }

    /// Answers every matching request with `code` for `duration`.
    pub fn fail_for(&self, code: u16, duration: Duration, path_contains: Option<&str>) {
        *self.lock() = Some(Failing {
            code,
            remaining: None,
            until: Some(Instant::now() + duration),
            path_contains: path_contains.map(str::to_string),
        });
    }

    /// Switches every fault off.
    pub fn clear(&self) {
        *self.lock() = None;
        self.set_latency(Duration::ZERO);
        self.cut_logs_after(None);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Failing>> {
        self.failing.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The injected failure for a request to `path`, if one is due (consumes one from a count).
    pub fn injected_failure(&self, path: &str) -> Option<ApiError> {
        let mut guard = self.lock();
        let failing = guard.as_mut()?;
        if failing.path_contains.as_deref().is_some_and(|p| !path.contains(p)) {
            return None;
        }
        if failing.until.is_some_and(|u| Instant::now() >= u) {
            *guard = None;
            return None;
        }
        if let Some(n) = failing.remaining.as_mut() {
            if *n == 0 {
                *guard = None;
                return None;
            }
            *n -= 1;
        }
        let code = failing.code;
        Some(if code == 429 {
            ApiError::too_many_requests(1)
        } else {
            ApiError::server_error(
                code,
                format!("injected fault: the embedded cluster answers {code} (fault injection)"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_failures_run_out() {
        let f = Faults::default();
        f.fail_next(503, 2, Some("/pods"));
        assert!(f.injected_failure("/api/v1/configmaps").is_none(), "other paths pass");
        assert_eq!(f.injected_failure("/api/v1/pods").map(|e| e.code), Some(503));
        assert_eq!(f.injected_failure("/api/v1/pods").map(|e| e.code), Some(503));
        assert!(f.injected_failure("/api/v1/pods").is_none());
        f.fail_next(429, 1, None);
        let e = f.injected_failure("/x").expect("429");
        assert_eq!((e.code, e.retry_after_seconds), (429, Some(1)));
    }

    #[test]
    fn timed_failures_expire() {
        let f = Faults::default();
        f.fail_for(500, Duration::ZERO, None);
        assert!(f.injected_failure("/x").is_none());
    }
}
