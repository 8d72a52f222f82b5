//! The Argo engine's pure core: reading a Workflow's status (in all three forms Argo stores it),
//! showing any Workflow as a batch with branches, and changing a Workflow the way Argo's own client
//! does. No I/O here: the engine lists and watches Workflows and sends what these functions return.
//!
//! - [`status`]: nodes from `status.nodes`, `status.compressedNodes` (gzip, zstd, brotli) or a
//!   clear error for offloaded ones; node ids and pod names.
//! - [`mapping`]: a Workflow → [`WorkflowRun`] (discovery, branches with attempts, steps).
//! - [`actions`]: stop, terminate, suspend, resume, and retry (Argo's `FormulateRetryWorkflow`).

pub mod actions;
pub mod mapping;
pub mod status;

pub use actions::{ActionError, Rerun, RetryPlan};
pub use mapping::{Attempt, Branch, Discovery, Item, Shutdown, Stage, State, Unit, WorkflowPhase, WorkflowRun};
pub use status::{DecodedNodes, Node, NodePhase, NodeType, NodesEncoding, PodNameFormat, StatusError, StatusProblem};

#[cfg(test)]
mod tests;
