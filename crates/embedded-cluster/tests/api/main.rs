//! The embedded cluster's API, one test binary: every test talks to a cluster over HTTPS through a
//! real client (kube-rs, or `kubectl`), as production code does. One module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

mod argo;
mod auth;
mod bad_requests;
mod binaries;
mod faults;
mod gc;
mod kube_api;
mod kubectl;
mod kubelet;
mod logs;
mod rbac;
mod service_accounts;
mod watch;
