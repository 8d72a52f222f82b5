//! tlc, the tenant lifecycle console.

pub mod cli;
pub mod cluster;
