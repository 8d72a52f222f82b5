//! The embedded Argo controller's integration tests: real Workflows on an embedded cluster, pods run
//! by the simulated kubelet with the `argoexec` emulation and a stand-in `tlc` binary, everything
//! observed through the API (watches, never sleeps).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

mod common;
mod control;
mod failures;
mod fanout;
mod gc;
mod large;
mod retry;
