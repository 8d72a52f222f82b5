//! tlc, the tenant lifecycle console.

pub mod audit;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod contract;
pub mod lifecycle;
pub mod logs;
pub mod tenants;
pub mod tui;
