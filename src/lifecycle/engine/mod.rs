//! Engines run a plan. `direct` runs the fan-out from the console; `argo` (coming) submits a Workflow
//! from the shipped WorkflowTemplate. Both produce the same labelled pods, so status and logs are
//! read the same way.

pub mod argo;
pub mod direct;
pub mod migrate;
pub mod plan;
pub mod runner;

pub use direct::{BranchResult, DirectEngine};
pub use plan::{Plan, PlannedBatch, Request, Skipped, plan};
pub use runner::{Ran, Runner};
