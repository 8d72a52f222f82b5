//! `tlc sim` as a child process for the benchmarks that run the real console against it
//! (`first_frame`, `console_argo`): started, waited for until it serves, stopped with SIGTERM.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::pty;

/// The `tlc` binary to run: this build's, or `$TLC_BIN` (to compare two builds on one machine).
pub fn tlc_binary() -> String {
    std::env::var("TLC_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_tlc").to_string())
}

/// A `tlc sim` child process, stopped with SIGTERM when dropped.
pub struct Sim {
    /// The process.
    pub child: Child,
    _dir: tempfile::TempDir,
    /// The kubeconfig it wrote.
    pub kubeconfig: PathBuf,
    /// The tlc configuration it wrote.
    pub config: PathBuf,
    /// From spawn to its "Serving" banner (seeding included).
    pub ready_after: Duration,
}

impl Sim {
    /// Starts `tlc sim ARGS --kubeconfig …` and waits until it serves (seeding done).
    pub fn start(args: &[&str]) -> Sim {
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        let start = Instant::now();
        let mut child = Command::new(tlc_binary())
            .arg("sim")
            .args(args)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tlc sim starts");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut banner = String::new();
        let mut config = None;
        while !banner.contains("Serving until interrupted") {
            let left = pty::DEADLINE.checked_sub(start.elapsed()).unwrap_or_default();
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => panic!("tlc sim {args:?} did not report readiness ({e}); it printed:\n{banner}"),
            };
            if let Some(path) = line.trim().strip_prefix("export TLC_CONFIG=") {
                config = Some(PathBuf::from(path));
            }
            banner.push_str(&line);
            banner.push('\n');
        }
        let ready_after = start.elapsed();
        let config = config.unwrap_or_else(|| panic!("tlc sim printed no TLC_CONFIG:\n{banner}"));
        // Keep draining its stdout so it can never block on a full pipe.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        Sim { child, _dir: dir, kubeconfig, config, ready_after }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < pty::DEADLINE {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("tlc sim did not stop on SIGTERM; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) a process has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Clock ticks are 100 per second on Linux (USER_HZ).
    Some(Duration::from_millis(ticks * 10))
}
