//! End to end: the real `tlc demo` binary in a pseudo-terminal, driven by keystrokes and read back
//! through a terminal emulator (vt100), as an operator would use it. Every wait polls the screen
//! until a condition holds or a deadline passes.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const DEADLINE: Duration = Duration::from_secs(60);
const ROWS: u16 = 40;
const COLS: u16 = 140;

/// A running console in a pseudo-terminal.
struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _home: tempfile::TempDir,
}

impl Console {
    fn start(args: &[&str]) -> Console {
        let home = tempfile::tempdir().expect("tempdir");
        let pty = native_pty_system();
        let pair = pty.openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 }).expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tlc"));
        cmd.args(args);
        cmd.cwd(home.path());
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("TLC_DATA_DIR", home.path().join("data"));
        cmd.env("TERM", "xterm-256color");
        cmd.env("USER", "e2e");
        cmd.env_remove("TLC_CONFIG");
        let child = pair.slave.spawn_command(cmd).expect("spawn tlc demo");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(ROWS).expect("rows"),
            std::num::NonZeroU16::new(COLS).expect("cols"),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        {
            let screen = screen.clone();
            let raw = raw.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            screen.lock().expect("screen").process(&buf[..n]);
                            raw.lock().expect("raw").extend_from_slice(&buf[..n]);
                        }
                    }
                }
            });
        }
        // Keep the master alive as long as the console (dropping it hangs up the child).
        std::mem::forget(pair.master);
        Console { screen, raw, writer, child, _home: home }
    }

    fn contents(&self) -> String {
        self.screen.lock().expect("screen").screen().contents()
    }

    /// Waits until the screen satisfies `check`, failing with the screen at the deadline.
    fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.contents();
            if check(&text) {
                return text;
            }
            assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}; screen:\n{text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait(&format!("{needle:?}"), |s| s.contains(needle))
    }

    fn keys(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).expect("write keys");
        self.writer.flush().expect("flush");
    }

    /// The screen row that contains `needle`.
    fn row(&self, needle: &str) -> String {
        self.contents().lines().find(|l| l.contains(needle)).unwrap_or_default().to_string()
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(start.elapsed() < DEADLINE, "tlc did not exit; screen:\n{}", self.contents());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the terminal was handed back: alternate screen left, cursor shown, after the last
    /// time it was entered.
    fn restored(&self) -> bool {
        let raw = self.raw.lock().expect("raw");
        let text = String::from_utf8_lossy(&raw);
        let entered = text.rfind("\u{1b}[?1049h");
        let left = text.rfind("\u{1b}[?1049l");
        let shown = text.rfind("\u{1b}[?25h");
        matches!((entered, left, shown), (Some(e), Some(l), Some(s)) if l > e && s > e)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn an_operator_filters_triggers_an_upsert_reads_the_logs_cancels_a_slow_run_and_quits() {
    let mut c = Console::start(&["demo", "--speed", "2"]);
    c.wait("both regions' tenants", |s| {
        s.contains("acme-prod") && s.contains("wonka-prod") && s.contains("Tenants (12")
    });
    assert!(c.row("eu-west").contains("eu-west ●"), "{}", c.contents());

    // Filter the tenants.
    c.keys("/globex\r");
    let s = c.wait("the filtered list", |s| s.contains("Tenants (1)") || s.contains("Tenants (1 "));
    assert!(s.contains("globex-prod") && !s.contains("acme-prod "), "{s}");

    // Upsert through the preview and the confirmation.
    c.keys("u");
    let s = c.wait_for("Preview — lifecycle.upsert");
    assert!(s.contains("▸ run  lineage/lineage-graph") && s.contains("LIFECYCLE_TENANT_ENV_ID="), "{s}");
    assert!(s.contains("· skip notifications/notifications-webhooks — not suspended"), "{s}");
    c.keys("\r");
    c.wait_for("y yes  n/Esc no");
    c.keys("y");
    c.wait("the batch to finish", |s| s.contains("8/8") && s.contains("✗ failed"));
    let lineage = c.row("lineage/lineage-graph");
    assert!(lineage.contains("✗ failed") && lineage.contains(" 2 "), "{lineage}");
    let identity = c.row("identity/identity-realm");
    assert!(identity.contains("✓ succeeded") && identity.contains(" 0 "), "{identity}");

    // The logs, one pane per branch.
    c.keys("\r");
    c.wait_for("Logs lifecycle.upsert globex-prod");
    c.keys("v");
    c.wait("the failed branch's pane", |s| s.contains("✗ lineage/lineage-graph failed exit 2"));
    c.keys("]");
    let s = c.wait_for("Error: refusing to apply");
    assert!(s.contains("✓ billing/billing-account succeeded exit 0") || s.contains("page"), "{s}");

    // A slow migrate-out, cancelled while it runs.
    c.keys(":tenants\r");
    c.keys("\u{1b}");
    c.wait_for("Tenants (12)");
    c.keys("g");
    c.keys("o");
    c.wait_for("Preview — lifecycle.migrate-out");
    c.keys("\r");
    c.wait("the typed confirmation", |s| s.contains("\"acme-prod\" to confirm"));
    c.keys("acme-prod\r");
    c.wait("the slow branch to run", |s| {
        s.lines().any(|l| l.contains("workflows/workflows-drain") && l.contains("● running"))
    });
    c.keys("x");
    c.wait_for("y yes  n/Esc no");
    c.keys("y");
    c.wait("the cancelled branch", |s| {
        s.lines().any(|l| l.contains("workflows/workflows-drain") && l.contains("⊘ cancelled"))
    });

    // The history records both triggers and the cancel.
    c.keys(":history\r");
    c.wait("three audit records", |s| s.contains("History (3)"));

    c.keys("q");
    let status = c.wait_exit();
    assert!(status.success(), "{status:?}");
    assert!(c.restored(), "the terminal was not restored");
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut c = Console::start(&["demo"]);
    c.wait_for("acme-prod");
    let pid = c.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(killed.success());
    c.wait_exit();
    assert!(c.restored(), "the terminal was not restored after SIGTERM");
}

#[test]
fn the_console_without_a_terminal_says_what_is_wrong() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tlc"))
        .arg("demo")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run tlc");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "tlc: the console needs a terminal (stdin and stdout); for scripts use the commands: tlc --help\n"
    );
}
