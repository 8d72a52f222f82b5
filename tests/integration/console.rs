//! End to end: the real `tlc demo` binary in a pseudo-terminal, driven by keystrokes and read back
//! through a terminal emulator (vt100), as an operator would use it. Every wait polls the screen
//! until a condition holds or a deadline passes.

use crate::common::pty::Console;

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

    // The history records both triggers and the cancel, and the demo's Sensor-started run (its
    // record written by its discovery step).
    c.keys(":history\r");
    let s = c.wait("four audit records", |s| s.contains("History (4)"));
    assert!(s.lines().any(|l| l.contains("umbrella-prod") && l.contains("Argo Workflow argo/")), "{s}");

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
    let status = c.wait_exit();
    assert_eq!(status.exit_code(), 143, "a death by SIGTERM, as a shell reports it: {status:?}");
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

#[test]
fn a_run_no_console_started_is_in_runs_with_its_workflow_and_an_argo_trigger_runs_from_the_preview() {
    let mut c = Console::start(&["demo", "--speed", "10"]);
    c.wait_for("Tenants (12)");
    // The demo's Sensor started a Workflow before this console opened.
    c.keys("3");
    c.wait("the Sensor's run", |s| s.lines().any(|l| l.contains("umbrella-prod") && l.contains(" argo ")));
    c.keys("\r");
    let s = c.wait("its batch, named by its Workflow", |s| s.contains("started by Sensor tenant-lifecycle"));
    assert!(s.contains("Workflow argo/tenant-lifecycle-"), "{s}");
    // An upsert on the Argo engine, chosen in the preview.
    c.keys("1");
    c.wait_for("Tenants (12)");
    c.keys("/stark\r");
    c.wait("the filtered list", |s| s.contains("stark-prod") && !s.contains("acme-prod "));
    c.keys("u");
    c.wait_for("engine direct");
    c.keys("a");
    c.wait_for("engine argo");
    c.keys("\r");
    c.wait_for("y yes  n/Esc no");
    c.keys("y");
    let s = c.wait("the Workflow's batch to finish", |s| {
        s.contains("stark-prod") && s.contains("· argo ·") && s.contains("8/8") && s.contains(" Succeeded")
    });
    assert!(s.contains("Workflow argo/tenant-lifecycle-"), "{s}");
    c.keys("q");
    assert!(c.wait_exit().success());
    assert!(c.restored(), "the terminal was not restored");
}
