//! Every task the console starts, and the one token that stops them. On quit the watches end at
//! once, engines stop launching branches (the ones launched go on in the cluster), and the tasks
//! that were carrying out an action get a bounded time to finish, so what they did is audited
//! before the process exits.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The console's background work.
#[derive(Clone, Default)]
pub struct Background {
    tracker: TaskTracker,
    stop: CancellationToken,
}

impl Background {
    /// No tasks yet.
    pub fn new() -> Self {
        Background::default()
    }

    /// Starts a task that simply ends when the console stops (a watch, a log stream).
    pub fn spawn_until_stopped<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(self.stop.clone().run_until_cancelled_owned(task));
    }

    /// Starts a task that sees [`Background::stop_token`] itself and finishes its work (an action
    /// that must be audited); it is waited for, up to the grace period, on quit.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tracker.spawn(task);
    }

    /// Starts blocking work (file I/O, building a bundle) off the async threads.
    pub fn spawn_blocking<F>(&self, work: F)
    where
        F: FnOnce() + Send + 'static,
    {
        self.tracker.spawn_blocking(work);
    }

    /// The token tasks watch to stop.
    pub fn stop_token(&self) -> &CancellationToken {
        &self.stop
    }

    /// Stops everything and waits up to `grace` for the tasks to end. Returns how many were still
    /// running at the deadline (they end with the process).
    pub async fn shutdown(&self, grace: Duration) -> usize {
        self.stop.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait()).await.is_ok() { 0 } else { self.tracker.len() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quitting_ends_watches_at_once_and_waits_for_actions_to_finish() {
        let background = Background::new();
        background.spawn_until_stopped(std::future::pending());
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let stop = background.stop_token().clone();
        background.spawn(async move {
            stop.cancelled().await;
            // An action that sees the stop, then records what it did.
            tokio::task::yield_now().await;
            let _ = done_tx.send("recorded");
        });
        assert_eq!(background.shutdown(Duration::from_secs(10)).await, 0, "nothing left running");
        assert_eq!(done_rx.await.ok(), Some("recorded"), "the action finished its work before shutdown returned");

        let stuck = Background::new();
        stuck.spawn(std::future::pending());
        assert_eq!(stuck.shutdown(Duration::from_millis(10)).await, 1, "a task that never ends is counted");
    }
}
