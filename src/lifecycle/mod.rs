//! The engine room: discovery, the bridge, the direct engine, the run model and the log multiplexer.
//! The same code serves the console, the headless commands, and the Argo WorkflowTemplate's
//! `discover` and `bridge` steps.

pub mod argo;
pub mod bridge;
pub mod bundle;
pub mod discovery;
pub mod engine;
pub mod error;
pub mod regions;
pub mod retention;
pub mod run;
pub mod stop;
pub mod watch;
