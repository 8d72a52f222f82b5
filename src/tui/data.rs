//! What background work reports to the console: the one small enum every watch, log stream and
//! engine task sends, and the state `update` consumes. Nothing here does I/O.

use std::path::PathBuf;

use crate::audit::AuditRecord;
use crate::contract::{BatchFiles, LifecycleJob};
use crate::lifecycle::run::RunEvent;
use crate::logs::mux::MuxEvent;
use crate::tenants::Tenant;

/// A region's connection, as its watches see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Not listed yet.
    Connecting,
    /// Watches are up.
    Connected,
    /// The last request failed (the watches retry with back-off).
    Down(String),
}

/// What the operator may do in a region (from SelfSubjectAccessReview); `None` = allowed,
/// `Some(reason)` = refused, with the reason shown where the action would be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Creating branch pods (trigger, retry).
    pub create: Option<String>,
    /// Deleting branch pods (cancel).
    pub delete: Option<String>,
}

/// An event from background work.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // events are moved, not stored; the big ones are the common ones
pub enum DataEvent {
    /// A region's connection changed.
    Connection {
        /// The region.
        region: String,
        /// Its state.
        state: Connection,
    },
    /// A region's tenants (the whole list).
    Tenants {
        /// The region (for a directory source: every tenant of the directory, region `*`).
        region: String,
        /// The tenants.
        tenants: Vec<Tenant>,
    },
    /// A region's lifecycle Jobs (the whole list).
    Jobs {
        /// The region.
        region: String,
        /// The Jobs.
        jobs: Vec<LifecycleJob>,
    },
    /// A branch pod changed (or the engine planned or failed one).
    Run(RunEvent),
    /// Log lines or the end of a log stream.
    Logs(MuxEvent),
    /// What RBAC allows in a region.
    Access {
        /// The region.
        region: String,
        /// The answer.
        access: Access,
    },
    /// A message for the status line.
    Notice {
        /// The text.
        text: String,
        /// It is an error.
        error: bool,
    },
    /// A migration's first batch ended.
    MigrationOutDone {
        /// The migration's id (its migrate-out batch id).
        id: String,
        /// Whether every branch succeeded (only then does migrate-in run).
        all_succeeded: bool,
    },
    /// Whether a region has the Argo engine's WorkflowTemplate.
    ArgoTemplate {
        /// The region.
        region: String,
        /// It has it.
        installed: bool,
    },
    /// A migration will not go on (its migrate-in will not run), and why.
    MigrationStopped {
        /// The migration's id.
        id: String,
        /// Why.
        why: String,
    },
    /// The migrate-in batch of a migration was started.
    MigrationInStarted {
        /// The migration's id.
        id: String,
        /// The migrate-in batch id.
        batch_id: String,
    },
    /// What the retention rules would remove (`:gc`), or why it could not be known.
    GcPreview(Result<crate::lifecycle::retention::Previews, String>),
    /// The doctor's report, as lines of text.
    Doctor(Vec<String>),
    /// Batches of a region as their records tell them (a page of records, or one that changed):
    /// shown where the cluster no longer shows them (their pods are gone).
    RecordBatches(Vec<crate::lifecycle::run::Batch>),
    /// A batch record was deleted (by `tlc gc`): its batch goes, unless the cluster still shows it.
    RecordGone {
        /// The batch id.
        batch_id: String,
    },
    /// The audit history, read from disk.
    History {
        /// Newest first.
        records: Vec<AuditRecord>,
        /// Lines that could not be read.
        problems: Vec<String>,
    },
    /// An incident bundle was written.
    BundleSaved(Result<PathBuf, String>),
    /// The environment and changeset a batch ran with (read back from its ConfigMaps).
    BatchFiles {
        /// The batch.
        batch_id: String,
        /// The files.
        files: BatchFiles,
    },
}
