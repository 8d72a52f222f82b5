//! tlc, the tenant lifecycle console.

pub mod audit;
pub mod cli;
pub mod config;
pub mod contract;
pub mod demo;
pub mod diagnostics;
pub mod doctor;
pub mod lifecycle;
pub mod logs;
pub mod steps;
pub mod tenants;
pub mod tui;
pub mod watch;
