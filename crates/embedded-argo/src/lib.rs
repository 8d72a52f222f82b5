//! Argo Workflows' controller and executor, emulated on the embedded cluster: Workflows (inline or
//! from a `workflowTemplateRef`) of `steps` and `container` templates run with pods made the way
//! Argo makes them, and their status is written in Argo's exact format. The subset is the one tlc's
//! `deploy/argo/workflow-template.yaml` uses; anything else fails the Workflow with a message that
//! names it. See `docs/embedded-argo.md`.

pub mod controller;
pub mod executor;
pub mod gojson;
pub mod naming;
pub mod packer;
pub mod spec;
pub mod status;
pub mod subset;
pub mod template;
pub mod validate;

pub use controller::{Controller, ControllerConfig, ControllerStats};
