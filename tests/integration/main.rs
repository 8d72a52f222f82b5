//! The product's integration tests, one binary (it links once): the lifecycle core, the headless
//! commands and the console against embedded clusters, through real clients over HTTPS, and the
//! real `tlc` binary in a pseudo-terminal. One module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

mod common;

mod argo_engine;
mod argo_kit;
mod argo_steps;
mod cli;
mod console;
mod console_cluster;
mod console_terminal;
mod doctor;
mod estate;
mod kubeconfig_forms;
mod lifecycle;
mod log_follow;
mod mux;
mod retention;
mod sim_cli;
mod watch_layer;
