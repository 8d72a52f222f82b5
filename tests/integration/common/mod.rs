//! Shared helpers for the integration tests: the embedded cluster's test helpers, `tlc sim`'s
//! banner, and the real binary in a pseudo-terminal ([`pty`]).
#![allow(dead_code)]

pub mod pty;

pub use embedded_cluster::testing::*;

/// Reads `tlc sim`'s banner from its stdout up to "Serving until interrupted" (the clusters are
/// up), failing at the deadline or if it exits first. Returns the banner.
pub fn read_sim_banner(stdout: &mut impl std::io::BufRead) -> String {
    let mut banner = String::new();
    let start = std::time::Instant::now();
    while !banner.contains("Serving until interrupted") {
        assert!(start.elapsed() < DEADLINE, "no banner from tlc sim: {banner}");
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("read the sim banner") == 0 {
            panic!("tlc sim exited early: {banner}");
        }
        banner.push_str(&line);
    }
    banner
}
