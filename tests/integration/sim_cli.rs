//! `tlc sim` as a user runs it: it writes a kubeconfig kubectl can use, serves until SIGTERM and
//! exits cleanly; it refuses to overwrite a kubeconfig it did not write, and says why.

use std::io::BufReader;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::DEADLINE;

fn tlc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tlc"))
}

#[test]
fn sim_refuses_to_overwrite_a_foreign_kubeconfig() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    std::fs::write(&path, "apiVersion: v1\nkind: Config\n# someone's real kubeconfig\n").expect("write");
    let out = tlc().args(["sim", "--estate", "empty", "--kubeconfig"]).arg(&path).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "tlc: kubeconfig {}: refusing to overwrite a kubeconfig that `tlc sim` did not write; choose another --kubeconfig path",
            path.display()
        )
    );
    assert!(std::fs::read_to_string(&path).expect("read").contains("someone's real kubeconfig"), "untouched");
}

#[test]
fn sim_rejects_bad_options_with_a_clear_message() {
    let out = tlc().args(["sim", "--speed", "0"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "tlc: --speed must be a positive number, got 0");
    let out = tlc().args(["sim", "--regions", "eu-west,eu-west"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "tlc: region names must be unique and DNS labels: [\"eu-west\", \"eu-west\"]"
    );
    let out = tlc().args(["sim", "--pods", "5"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "tlc: --pods applies to the generated estate only (add --estate generated)"
    );
}

#[cfg(unix)]
#[test]
fn sim_serves_the_demo_estate_until_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    let mut child = tlc()
        .args(["sim", "--kubeconfig"])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let banner = crate::common::read_sim_banner(&mut stdout);
    assert!(banner.contains("eu-west") && banner.contains("us-east"), "{banner}");
    assert!(banner.contains(&format!("export KUBECONFIG={}", path.display())), "{banner}");
    let config = std::fs::read_to_string(&path).expect("kubeconfig written");
    for context in
        ["name: eu-west", "name: eu-west-viewer", "name: us-east", "name: us-east-viewer", "certificate-authority-data"]
    {
        assert!(config.contains(context), "{context} in {config}");
    }
    if let Some(kubectl) = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("kubectl")).find(|k| k.is_file()))
    {
        let out = Command::new(kubectl)
            .args(["--context", "us-east", "get", "configmaps", "-n", "tenants", "-o", "name"])
            .env("KUBECONFIG", &path)
            .output()
            .expect("kubectl runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6, "six us-east tenants");
    }
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(killed.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(start.elapsed() < DEADLINE, "tlc sim did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exits 0 on SIGTERM: {status:?}");
}
