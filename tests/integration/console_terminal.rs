//! End to end, the console's terminal behaviour: the real `tlc demo` binary in a pseudo-terminal,
//! read back through a terminal emulator (vt100). It proves that the terminal is handed back on
//! SIGHUP; that Ctrl-Z in a job-control shell stops the console with the terminal restored and
//! `fg` brings it back working; that a storm of resizes is drawn in a handful of frames laid out
//! for the final size; that an idle console draws (almost) nothing; that `:theme` restyles the
//! console at run time and reports bad themes; and that `s` saves a complete incident bundle
//! without ever overwriting one. Every wait polls to a deadline; frames are counted from the
//! bytes the console wrote (see [`frames_in`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::pty::{COLS, Console, DEADLINE, ROWS};

/// The prompt of the job-control shell the Ctrl-Z test types into.
const PROMPT: &str = "e2e-shell$ ";

/// Counts the frames in bytes the console wrote. ratatui ends every `Terminal::draw` by setting
/// the cursor: hidden (`ESC [ ? 25 l`, crossterm's `Hide`) when the frame has no cursor, or shown
/// (`ESC [ ? 25 h`) and moved when a text input has it (ratatui-core `apply_buffer_with_cursor`).
/// It is written even when no cell changed, so each frame leaves exactly one of the two; outside
/// drawing only taking over and handing back the terminal write them.
fn frames_in(bytes: &[u8]) -> usize {
    count(bytes, b"\x1b[?25l") + count(bytes, b"\x1b[?25h")
}

/// How often `needle` occurs in `haystack`.
fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

/// How many bytes the console has written so far.
fn written(c: &Console) -> usize {
    c.raw.lock().expect("raw").len()
}

/// The bytes the console wrote after the first `from`.
fn written_since(c: &Console, from: usize) -> Vec<u8> {
    c.raw.lock().expect("raw")[from..].to_vec()
}

/// Waits until the emulated screen satisfies `check` (for what text alone cannot say: colours,
/// the alternate screen, the cursor), failing with the screen at the deadline.
fn wait_screen(c: &Console, what: &str, check: impl Fn(&vt100::Screen) -> bool) {
    let start = Instant::now();
    loop {
        {
            let parser = c.screen.lock().expect("screen");
            if check(parser.screen()) {
                return;
            }
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}; screen:\n{}", c.contents());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A cell's (foreground, background) colours.
type Colours = (vt100::Color, vt100::Color);

/// The colours of one cell of the screen.
fn colours(c: &Console, row: u16, col: u16) -> Colours {
    let parser = c.screen.lock().expect("screen");
    let cell = parser.screen().cell(row, col).expect("a cell on the screen");
    (cell.fgcolor(), cell.bgcolor())
}

/// Waits for the demo estate: both regions connected, all twelve tenants listed.
fn wait_for_the_tenants(c: &Console) -> String {
    c.wait("both regions' twelve tenants", |s| {
        s.contains("Tenants (12") && s.contains("eu-west ●") && s.contains("us-east ●") && s.contains("wonka-prod")
    })
}

/// Sends `signal` (a `kill` name such as `HUP`) to `pid`.
fn kill(signal: &str, pid: u32) {
    let status =
        std::process::Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}: {status:?}");
}

#[test]
fn sighup_restores_the_terminal_and_ends_the_console() {
    let mut c = Console::start(&["demo"]);
    wait_for_the_tenants(&c);
    assert!(!c.restored(), "the console has the terminal before the hang-up");
    let pid = c.child.process_id().expect("the console's pid");
    kill("HUP", pid);
    let status = c.wait_exit();
    assert_eq!(status.exit_code(), 129, "a death by SIGHUP, as a shell reports it: {status:?}");
    assert!(c.restored(), "the terminal was not restored after SIGHUP");
    let parser = c.screen.lock().expect("screen");
    assert!(!parser.screen().alternate_screen(), "still on the alternate screen after SIGHUP");
    assert!(!parser.screen().hide_cursor(), "the cursor is still hidden after SIGHUP");
}

/// The pid of the only child of `parent` (Linux: `/proc/PID/task/PID/children`).
fn only_child(parent: u32) -> u32 {
    let path = format!("/proc/{parent}/task/{parent}/children");
    let text = std::fs::read_to_string(&path).expect("the children of the shell");
    let children: Vec<u32> = text.split_whitespace().map(|p| p.parse().expect("a pid")).collect();
    assert_eq!(children.len(), 1, "{path}: {text:?}");
    children[0]
}

/// The state letter of a process in `/proc/PID/stat` (`T` stopped, `S` sleeping, …).
fn process_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process's stat");
    // `PID (COMM) STATE …`: COMM may hold spaces and parentheses, the state follows the last ')'.
    let after = &stat[stat.rfind(')').expect("(comm) in stat") + 1..];
    after.trim_start().chars().next().expect("a state")
}

/// Starts a job-control shell in a terminal (answering cursor-position queries when `answering`),
/// runs `tlc demo` from it, waits for the console, and presses Ctrl-Z; returns the shell once it
/// says the console stopped and prompts again, and the console's pid.
fn console_suspended_from_a_shell(answering: bool) -> (Console, u32) {
    // The console must not be the session leader: an orphaned process group ignores SIGTSTP.
    let shell = Console::start_program("bash", &["--norc", "--noprofile", "-i"], &[("PS1", PROMPT)], (ROWS, COLS));
    if answering {
        shell.answer_cursor_queries();
    }
    shell.wait_for(PROMPT);
    let mut shell = shell;
    let bash = shell.child.process_id().expect("the shell's pid");
    shell.keys(&format!("{} demo\r", env!("CARGO_BIN_EXE_tlc")));
    wait_screen(&shell, "the console on the alternate screen", |s| {
        s.alternate_screen() && s.contents().contains("Tenants (12")
    });
    wait_for_the_tenants(&shell);
    let tlc = only_child(bash);

    // Ctrl-Z: the console hands the terminal back and stops; the shell says so and prompts.
    shell.keys("\x1a");
    wait_screen(&shell, "the shell's Stopped and its prompt on the main screen", |s| {
        let text = s.contents();
        !s.alternate_screen() && text.contains("Stopped") && text.trim_end().ends_with(PROMPT.trim_end())
    });
    let start = Instant::now();
    while process_state(tlc) != 'T' {
        assert!(start.elapsed() < DEADLINE, "tlc ({tlc}) is not stopped: state {}", process_state(tlc));
        std::thread::sleep(Duration::from_millis(20));
    }
    (shell, tlc)
}

#[test]
fn ctrl_z_in_a_job_control_shell_suspends_the_console_and_fg_resumes_it() {
    // A real terminal answers the cursor-position query ratatui sends when the console clears
    // the screen on resuming (see `fg_redraws_the_console_on_a_terminal_that_does_not_answer_queries`).
    let (mut shell, _) = console_suspended_from_a_shell(true);
    assert!(shell.restored(), "the terminal was not handed back on Ctrl-Z");
    assert!(!shell.screen.lock().expect("screen").screen().hide_cursor(), "the cursor is hidden at the shell prompt");

    // fg: the console takes the terminal again, draws, and answers keys. (Entering the alternate
    // screen clears it, so the tenants there come from a frame drawn after fg.)
    let before_fg = written(&shell);
    shell.keys("fg\r");
    wait_screen(&shell, "the console drawn again after fg", |s| {
        s.alternate_screen() && s.contents().contains("Tenants (12")
    });
    assert!(frames_in(&written_since(&shell, before_fg)) >= 1, "no frame after fg");
    shell.keys(":jobs\r");
    shell.wait_for("Lifecycle Jobs (");

    // q: the console ends, the shell prompts again, and the terminal is as the shell left it
    // (bash keeps the terminal settings a job that exits normally leaves behind, so `stty`
    // would show raw mode had the console not restored it).
    shell.keys("q");
    wait_screen(&shell, "the shell's prompt after q", |s| {
        !s.alternate_screen() && s.contents().trim_end().ends_with(PROMPT.trim_end())
    });
    assert!(shell.restored(), "the terminal was not restored after q");
    shell.keys("stty -a; echo stty-done\r");
    let text = shell.wait("stty's settings", |s| s.contains("\nstty-done"));
    let settings: Vec<&str> = text.split(|ch: char| ch.is_whitespace() || ch == ';').collect();
    for mode in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(settings.contains(&mode), "the terminal is left without {mode}:\n{text}");
    }
    shell.keys("exit\r");
    let status = shell.wait_exit();
    assert!(status.success(), "{status:?}");
}

#[test]
fn fg_redraws_the_console_on_a_terminal_that_does_not_answer_queries() {
    let (mut shell, _) = console_suspended_from_a_shell(false);
    shell.keys("fg\r");
    let text = shell.wait("the console after fg: drawn, or an error", |s| {
        s.contains("Tenants (12") || s.contains("cannot suspend")
    });
    assert!(!text.contains("cannot suspend"), "resuming failed:\n{text}");
    // Ctrl-L (redraw) must bring the screen back too.
    shell.keys("\x0c");
    shell.wait_for("Tenants (12");
}

/// The text a stretch of terminal output prints: everything but escape sequences (`ESC [ … final`
/// and two-byte `ESC x`) and control characters.
fn printed_text(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut printed = String::new();
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            if chars.next_if_eq(&'[').is_some() {
                // Parameters and intermediates, up to the final byte (@ to ~).
                for next in chars.by_ref() {
                    if ('@'..='~').contains(&next) {
                        break;
                    }
                }
            } else {
                chars.next();
            }
        } else if !ch.is_control() {
            printed.push(ch);
        }
    }
    printed
}

/// The most frames the console may draw in `window`: it starts a frame no sooner than 16 ms
/// (`FRAME_INTERVAL`, 60 a second) after the previous one ended, whatever asked for it, so a
/// window holds at most one frame per 16 ms plus one at its start; one more for a frame whose
/// bytes straddle the window's start.
fn most_frames_in(window: Duration) -> usize {
    2 + (window.as_millis() / 16) as usize
}

#[test]
fn a_resize_storm_is_drawn_in_a_few_frames_laid_out_for_the_final_size() {
    const FINAL: (u16, u16) = (33, 117);
    const RESIZES: u16 = 100;
    // What the console must end up showing: a console started at the final size.
    let reference = Console::start_with(&["demo"], &[], FINAL);
    let c = Console::start(&["demo"]);
    wait_for_the_tenants(&c);
    let expected = wait_for_the_tenants(&reference);
    assert_ne!((ROWS, COLS), FINAL);

    let before = written(&c);
    let start = Instant::now();
    for i in 0..RESIZES {
        // Sizes all over the place, never the final one (33 rows).
        c.resize(24 + i % 9, 80 + (i * 7) % 41);
        // Paced like a window edge being dragged: so that the console gets (most of) the
        // resizes as events of their own (crossterm merges the SIGWINCHs that arrive between two
        // of its reads into one event) and has to merge them into frames itself.
        std::thread::sleep(Duration::from_millis(1));
    }
    c.resize(FINAL.0, FINAL.1);
    // Poll briskly: the window the frame bound is computed from ends when the final frame is seen.
    let mut screen = c.contents();
    while screen != expected {
        assert!(
            start.elapsed() < DEADLINE,
            "the screen after the storm is not the one a console of {FINAL:?} shows:\n{screen}\nexpected:\n{expected}"
        );
        std::thread::sleep(Duration::from_millis(2));
        screen = c.contents();
    }
    let storm = written_since(&c, before);
    let window = start.elapsed();

    let rows: Vec<&str> = screen.lines().collect();
    assert_eq!(rows.len(), usize::from(FINAL.0), "{screen}");
    assert!(rows[0].starts_with(" tlc │ eu-west ●"), "the header is not on the first row:\n{screen}");
    assert!(
        rows[rows.len() - 1].starts_with(" Space mark  u upsert"),
        "the key hints are not on the last row:\n{screen}"
    );
    let frames = frames_in(&storm);
    // If every resize were drawn there would be 101 frames (and as many screen clears). The console
    // draws once the size has stayed still for 50 ms: one frame for the storm, plus one the 1 s
    // clock may add and one for a scheduler stall of over 50 ms between two resizes of this loop.
    assert!(
        (1..=3).contains(&frames),
        "{frames} frames ({} bytes) for {} resizes in {window:?}; the storm should be drawn once",
        storm.len(),
        RESIZES + 1,
    );
}

#[test]
fn an_idle_console_draws_only_the_clock_and_changes_no_cell() {
    // Without the run the demo's Sensor starts as it opens: nothing runs.
    let c = Console::start(&["demo", "--no-sensor-run"]);
    wait_for_the_tenants(&c);
    // Settled: a frame went by that changed nothing on the screen (the clock's, once a second).
    let start = Instant::now();
    let mut mark = written(&c);
    loop {
        let since = written_since(&c, mark);
        if frames_in(&since) >= 1 {
            if printed_text(&since).is_empty() {
                break;
            }
            mark = written(&c);
        }
        assert!(start.elapsed() < DEADLINE, "the screen never settled:\n{}", c.contents());
        std::thread::sleep(Duration::from_millis(20));
    }
    let screen = c.contents();

    // A measuring window, not a wait for something: nothing runs, nobody types.
    let before = written(&c);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(2));
    let idle = written_since(&c, before);
    let window = start.elapsed();

    // The clock ticks once a second (`Msg::Tick` marks the state dirty); 60 frames a second
    // would be 120 here. Allow two a second and one more for a straggling update.
    let frames = frames_in(&idle);
    let allowed = 2 + 2 * window.as_secs() as usize;
    assert!(frames <= allowed, "{frames} frames ({} bytes) in {window:?} of idleness; at most {allowed}", idle.len());
    // Nothing changed, so no cell may have been written again.
    assert_eq!(printed_text(&idle), "", "an idle console rewrote text: {:?}", String::from_utf8_lossy(&idle));
    assert_eq!(c.contents(), screen);
}

/// The status line: the row above the footer.
fn status_line(c: &Console) -> String {
    let screen = c.contents();
    screen.lines().rev().nth(1).unwrap_or_default().trim_end().to_string()
}

#[test]
fn theme_switches_at_run_time_and_a_bad_theme_is_reported_and_changes_nothing() {
    use vt100::Color::{Idx, Rgb};
    // Where to look: the header bar ("tlc" on the first row) and the selected row (the first
    // tenant, two rows below the table's border and headings).
    const HEADER: (u16, u16) = (0, 1);
    const SELECTED: (u16, u16) = (3, 3);
    let config_home = tempfile::tempdir().expect("a config home");
    let themes = config_home.path().join("tlc").join("themes");
    std::fs::create_dir_all(&themes).expect("the user theme directory");
    std::fs::write(themes.join("mine.toml"), "extends = \"light\"\nselection = { fg = \"black\", bg = 226 }\n")
        .expect("a user theme");
    let broken = themes.join("broken.toml");
    std::fs::write(&broken, "[branch]\nfailed = { fg = \"redd\", bold = true }\n").expect("a broken user theme");
    // Wide enough for the error with the theme file's path on the status line.
    let config_home_var = config_home.path().to_str().expect("a UTF-8 path");
    let mut c = Console::start_with(&["demo"], &[("XDG_CONFIG_HOME", config_home_var)], (ROWS, 220));
    wait_for_the_tenants(&c);
    assert!(c.row("acme-prod").contains("acme-prod"), "the first tenant is not where the selection is looked for");

    // (theme, header bar colours, selected row colours), from themes/*.toml: white on dark-gray
    // header and a dark-gray selection in dark; black on 250 and black on 252 in light, white on
    // black and black on white in high-contrast, white on Okabe–Ito blue selection in colorblind.
    let themes: [(&str, Colours, Colours); 5] = [
        ("dark", (Idx(15), Idx(8)), (vt100::Color::Default, Idx(8))),
        ("light", (Idx(0), Idx(250)), (Idx(0), Idx(252))),
        ("high-contrast", (Idx(15), Idx(0)), (Idx(0), Idx(15))),
        ("colorblind", (Idx(15), Idx(8)), (Idx(15), Rgb(0x00, 0x72, 0xB2))),
        ("mine", (Idx(0), Idx(250)), (Idx(0), Idx(226))),
    ];
    for (name, header, selected) in themes {
        if name != "dark" {
            c.keys(&format!(":theme {name}\r"));
        }
        wait_screen(&c, &format!("the {name} theme's colours"), |s| {
            let at = |(row, col): (u16, u16)| s.cell(row, col).map(|cell| (cell.fgcolor(), cell.bgcolor()));
            at(HEADER) == Some(header) && at(SELECTED) == Some(selected)
        });
        if name != "dark" {
            c.wait(&format!("the notice for {name}"), |_| status_line(&c) == format!("theme {name}"));
        }
    }
    let before = (colours(&c, HEADER.0, HEADER.1), colours(&c, SELECTED.0, SELECTED.1));

    // An unknown theme: named in the error, and the theme stays.
    c.keys(":theme nosuch\r");
    c.wait("the error for nosuch", |_| status_line(&c).starts_with("no theme named \"nosuch\" (available: "));
    let error = status_line(&c);
    for theme in ["broken", "colorblind", "dark", "high-contrast", "light", "mine"] {
        assert!(error.contains(theme), "{error}");
    }
    assert_eq!((colours(&c, HEADER.0, HEADER.1), colours(&c, SELECTED.0, SELECTED.1)), before);

    // A user theme with a bad colour: the error names the file and the key, and the theme stays.
    c.keys(":theme broken\r");
    let expected = format!(
        "{}: branch.failed.fg: \"redd\" is not a colour (a name like \"red\" or \"light-blue\", \"#rrggbb\", or 0-255)",
        broken.display()
    );
    c.wait("the error for the broken theme", |_| status_line(&c) == expected);
    assert_eq!((colours(&c, HEADER.0, HEADER.1), colours(&c, SELECTED.0, SELECTED.1)), before);

    c.keys(":theme dark\r");
    c.wait("back to dark", |_| status_line(&c) == "theme dark" && colours(&c, SELECTED.0, SELECTED.1).1 == Idx(8));
    c.keys("q");
    c.wait_exit();
    assert!(c.restored());
}

/// A console on the demo estate (at 8× speed) whose configuration file saves incident bundles
/// in `bundles`; the file lives in `dir`.
fn console_saving_bundles_in(dir: &Path, bundles: &Path) -> Console {
    let config = dir.join("config.toml");
    let bundle_dir = bundles.to_str().expect("a UTF-8 path");
    std::fs::write(&config, format!("[ui]\nbundle_dir = {bundle_dir:?}\n")).expect("the configuration file");
    let c = Console::start(&["--config", config.to_str().expect("a UTF-8 path"), "demo", "--speed", "8"]);
    wait_for_the_tenants(&c);
    c
}

/// Upserts globex-prod (8 branches) through the preview, with the changeset `changeset` typed
/// into the changeset editor, and confirms; returns once the batch view shows it.
fn upsert_globex_with_changeset(c: &mut Console, changeset: &str) {
    c.keys("/globex\r");
    c.wait("the filtered list", |s| s.contains("Tenants (1)") || s.contains("Tenants (1 "));
    c.keys("u");
    c.wait_for("Preview — lifecycle.upsert");
    c.keys("e");
    c.wait_for("changeset.yaml — lifecycle.upsert");
    // Ctrl-K deletes the `{}` the editor starts with, Ctrl-S keeps the text.
    c.keys(&format!("\x0b{changeset}\x13"));
    c.wait("the preview again", |s| !s.contains("changeset.yaml — lifecycle.upsert") && s.contains("Preview — "));
    c.keys("\r");
    c.wait_for("y yes  n/Esc no");
    c.keys("y");
    // The batch view's summary line, once the batch's first branch pod is there.
    c.wait_for("lifecycle.upsert for globex-prod (");
}

/// The bundles in `dir`, by name.
fn bundle_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("a directory entry").path()).collect();
    files.sort();
    files
}

/// The number of log lines the logs view's title says the console holds (`· N lines ·`).
fn lines_held(c: &Console) -> usize {
    let title = c.row("Logs lifecycle.upsert globex-prod");
    let (before, _) = title.split_once(" lines ").expect("`N lines` in the logs title");
    before.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("a line count")
}

#[test]
fn s_saves_an_incident_bundle_with_every_branch_log_environment_and_changeset_and_never_overwrites() {
    let outside = tempfile::tempdir().expect("a directory for the configuration and bundles");
    let bundles = outside.path().join("bundles");
    let mut c = console_saving_bundles_in(outside.path(), &bundles);
    let running = written(&c);
    let start = Instant::now();
    upsert_globex_with_changeset(&mut c, "reason: e2e incident");
    c.wait("the batch to finish", |s| s.contains("8/8") && s.contains("✗ failed"));
    // While it ran (log lines streaming in, pods changing) frames stayed at 60 a second at most.
    let (frames, window) = (frames_in(&written_since(&c, running)), start.elapsed());
    assert!(frames <= most_frames_in(window), "{frames} frames in {window:?}");

    // Its logs, down to the failed branch's error; then `s`.
    c.keys("\r");
    c.wait_for("Logs lifecycle.upsert globex-prod");
    c.keys("/refusing\r");
    c.wait_for("Error: refusing to apply");
    let held_before = lines_held(&c);
    c.keys("s");
    c.wait_for("incident bundle saved: ");
    let held_after = lines_held(&c);
    let saved = bundle_files(&bundles);
    assert_eq!(saved.len(), 1, "{saved:?}");
    let first = &saved[0];
    let name = first.file_name().and_then(|n| n.to_str()).expect("a file name");
    assert!(c.contents().contains(&format!("incident bundle saved: {}", first.display())), "{}", c.contents());

    let text = std::fs::read_to_string(first).expect("the bundle");
    let bundle: serde_json::Value = serde_json::from_str(&text).expect("the bundle is JSON");
    let batch_id = bundle["batch"]["id"].as_str().expect("batch.id");
    assert!(
        name.starts_with(&format!("tlc-incident-globex-prod-upsert-{}-", &batch_id[batch_id.len() - 8..])),
        "{name}"
    );
    assert!(name.ends_with("Z.json"), "{name}");
    assert_eq!(bundle["kind"], "tlc-incident-bundle");
    assert_eq!(bundle["batch"]["tenant_name"], "globex-prod");
    assert_eq!(bundle["batch"]["operation"], "lifecycle.upsert");
    assert_eq!(bundle["batch"]["phase"], "failed");

    // Every branch with its phase and exit code; lineage failed with 2, the rest succeeded.
    let branches = bundle["branches"].as_array().expect("branches");
    assert_eq!(branches.len(), 8, "{text}");
    for branch in branches {
        let job = branch["job"].as_str().expect("job");
        let attempts = branch["attempts"].as_array().expect("attempts");
        let exit = attempts.last().and_then(|a| a["exit_code"].as_i64());
        if job == "lineage/lineage-graph" {
            assert_eq!((branch["phase"].as_str(), exit), (Some("failed"), Some(2)), "{branch}");
        } else {
            assert_eq!((branch["phase"].as_str(), exit), (Some("succeeded"), Some(0)), "{branch}");
        }
    }
    // Every log line the console held, the failed branch's error among them.
    let lineage = branches.iter().find(|b| b["job"] == "lineage/lineage-graph").expect("the lineage branch");
    let lineage_log: Vec<&str> =
        lineage["log"].as_array().expect("log").iter().map(|l| l["text"].as_str().expect("text")).collect();
    assert!(lineage_log.iter().any(|l| l.starts_with("Error: refusing to apply")), "{lineage_log:?}");
    let lines: usize = branches.iter().map(|b| b["log"].as_array().expect("log").len()).sum();
    assert!((held_before..=held_after).contains(&lines), "{lines} lines in the bundle, {held_before} held");
    // The environment and changeset it ran with, and the five variables.
    let environment = bundle["files"]["environment.yaml"].as_str().expect("environment.yaml");
    assert!(environment.contains("name: globex-prod\n"), "{environment}");
    assert_eq!(bundle["files"]["changeset.yaml"], "reason: e2e incident\n");
    let env = bundle["env"].as_object().expect("env");
    assert_eq!(env.len(), 5, "{env:?}");
    assert_eq!(env["LIFECYCLE_BATCH_OPERATION_ID"], batch_id);
    assert_eq!(env["LIFECYCLE_OPERATION_NAME"], "lifecycle.upsert");
    assert_eq!(env["LIFECYCLE_TENANT_ENV_ID"], bundle["batch"]["tenant_id"]);

    // `s` again, in a later second (the name has the time to the second; the same second is
    // `pressing_s_twice_in_one_second_saves_two_bundles`): a second file, the first untouched.
    let saved_in = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
    let start = Instant::now();
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() <= saved_in {
        assert!(start.elapsed() < DEADLINE, "the clock stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
    c.keys("s");
    let start = Instant::now();
    while bundle_files(&bundles).len() < 2 {
        assert!(start.elapsed() < DEADLINE, "no second bundle; status: {}", status_line(&c));
        std::thread::sleep(Duration::from_millis(20));
    }
    let saved = bundle_files(&bundles);
    assert_eq!(saved.len(), 2, "{saved:?}");
    assert_eq!(std::fs::read_to_string(first).expect("the first bundle"), text, "the first bundle changed");
    c.wait_for("incident bundle saved: ");
}

#[test]
fn pressing_s_twice_in_one_second_saves_two_bundles() {
    let outside = tempfile::tempdir().expect("a directory for the configuration and bundles");
    let bundles = outside.path().join("bundles");
    let mut c = console_saving_bundles_in(outside.path(), &bundles);
    upsert_globex_with_changeset(&mut c, "reason: twice");
    c.keys("ss");
    let start = Instant::now();
    while bundle_files(&bundles).len() < 2 {
        let status = status_line(&c);
        assert!(!status.starts_with("could not save the incident bundle"), "{status}");
        assert!(start.elapsed() < DEADLINE, "no second bundle; status: {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_log_line_that_sets_the_terminal_title_keeps_its_colour_and_never_reaches_the_terminal_raw() {
    // identity/identity-realm's upsert ends with a line that sets the terminal title (OSC 0) and
    // colours "Apply complete!" green, as many tools' output does.
    let outside = tempfile::tempdir().expect("a directory for the configuration");
    let mut c = console_saving_bundles_in(outside.path(), &outside.path().join("bundles"));
    upsert_globex_with_changeset(&mut c, "reason: hostile line");
    c.wait("identity to succeed", |s| {
        s.lines().any(|l| l.contains("identity/identity-realm") && l.contains("✓ succeeded"))
    });
    c.keys("\r");
    c.wait_for("Logs lifecycle.upsert globex-prod");
    c.keys("/Resources: 2 added\r");
    let s = c.wait_for("Apply complete! Resources: 2 added, 1 changed, 0 destroyed.");
    // The title request never reached the terminal: no OSC from the pod in what the console wrote.
    let raw = c.raw.lock().expect("raw").clone();
    assert_eq!(count(&raw, b"\x1b]0;"), 0, "an OSC title sequence reached the terminal");
    assert_eq!(count(&raw, b"terraform: apply complete"), 0, "the title's text was printed");
    // The colour survived: "Apply complete!" is drawn green, the rest of the line is not.
    let (row, line) = s
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("Apply complete! Resources: 2 added, 1 changed"))
        .map(|(i, l)| (i as u16, l.to_string()))
        .expect("the line on screen");
    let col = line.find("Apply complete!").map(|b| line[..b].chars().count() as u16).expect("the text's column");
    let green = colours(&c, row, col).0;
    assert_eq!(green, vt100::Color::Idx(2), "the pod's green is kept: {line}");
    let after = line[..line.find(" Resources").expect("the rest")].chars().count() as u16 + 1;
    assert_ne!(colours(&c, row, after).0, vt100::Color::Idx(2), "the colour is reset where the pod reset it");
}

#[test]
fn a_panic_hands_the_terminal_back_before_the_message_is_printed() {
    // `examples/terminal_panic.rs`: the console's terminal handling, then a panic. `cargo test`
    // builds examples next to the test binaries' directory.
    let exe = std::env::current_exe().expect("the test binary");
    let example =
        exe.parent().and_then(|deps| deps.parent()).expect("the target directory").join("examples/terminal_panic");
    if !example.exists() {
        // A whole `cargo test` builds the examples; `cargo test --test console_terminal` does not.
        assert!(std::env::var("CI").is_err(), "{} is not built (run the whole cargo test)", example.display());
        eprintln!("skipped: {} is not built; `cargo test` (all targets) builds it", example.display());
        return;
    }
    let mut c = Console::start_program(example.to_str().expect("a UTF-8 path"), &[], &[], (ROWS, COLS));
    let status = c.wait_exit();
    assert!(!status.success(), "it panicked: {status:?}");
    assert!(c.restored(), "the terminal was not restored after a panic");
    let raw = String::from_utf8_lossy(&c.raw.lock().expect("raw")).into_owned();
    // The hook leaves the alternate screen before the message (and unwinding's Drop again, after).
    let left = raw.find("\u{1b}[?1049l").expect("the alternate screen was left");
    let message = raw.find("a bug in the console").expect("the panic message");
    assert!(left < message, "the panic message was printed before the terminal was handed back");
    let parser = c.screen.lock().expect("screen");
    assert!(!parser.screen().alternate_screen(), "still on the alternate screen");
    assert!(parser.screen().contents().contains("a bug in the console"), "the message is readable on the screen");
}
