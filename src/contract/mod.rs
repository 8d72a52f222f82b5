//! The lifecycle contract, as pure code (no I/O): what teams write (a suspended Job and an
//! annotation listing operations), what every branch gets (five `LIFECYCLE_*` variables and two
//! mounted files), and what the console writes (labels, annotations, deterministic names, batch ids).
//! The team-facing description is docs/lifecycle-contract.md.

pub mod annotation;
pub mod context;
pub mod engine;
pub mod job;
pub mod labels;
pub mod names;
pub mod operation;

pub use context::{BatchFiles, TenantContext};
pub use engine::Engine;
pub use job::{JobProblem, JobRef, LifecycleJob};
pub use labels::BranchIdentity;
pub use names::{branch_pod_name, new_batch_id};
pub use operation::Operation;
