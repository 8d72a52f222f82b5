//! Unit tests that need no reference shell: parse-time rejection, argv handling, busybox echo,
//! the Host contract (sleep, files, streams), yielding and cancellation, and garbage input.

use std::collections::HashMap;
use std::time::Duration;

use super::exec::NOT_FOUND_NOTE;
use super::{Host, Program, Unsupported, Vars};

/// In-memory host: files from a map, instant sleeps that are recorded, streams kept apart
/// and merged.
#[derive(Default)]
struct TestHost {
    files: HashMap<String, String>,
    out: String,
    err: String,
    merged: String,
    sleeps: Vec<f64>,
}

impl Host for TestHost {
    fn read_file(&self, path: &str) -> Result<String, String> {
        self.files.get(path).cloned().ok_or_else(|| "No such file or directory".to_string())
    }
    fn stdout(&mut self, text: &str) {
        self.out.push_str(text);
        self.merged.push_str(text);
    }
    fn stderr(&mut self, text: &str) {
        self.err.push_str(text);
        self.merged.push_str(text);
    }
    async fn sleep(&mut self, seconds: f64) {
        self.sleeps.push(seconds);
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime").block_on(f)
}

/// Runs a future under a time limit inside a fresh runtime; None if the limit was hit.
fn with_timeout<F: std::future::Future>(ms: u64, f: F) -> Option<F::Output> {
    block_on(async { tokio::time::timeout(Duration::from_millis(ms), f).await.ok() })
}

fn run_prog(prog: &Program, host: &mut TestHost) -> i32 {
    let mut vars = Vars::new();
    block_on(prog.run(&mut vars, host))
}

/// Runs a script; returns merged output and status.
fn run(script: &str) -> (String, i32) {
    let prog = Program::parse_script(script).unwrap_or_else(|e| panic!("parse failed: {e}"));
    let mut host = TestHost::default();
    let st = run_prog(&prog, &mut host);
    (host.merged, st)
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn parse_err(script: &str) -> String {
    match Program::parse_script(script) {
        Ok(_) => panic!("expected {script:?} to be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn public_types_have_the_required_traits() {
    fn check<T: Clone + std::fmt::Debug + Send + Sync>() {}
    check::<Program>();
    check::<Vars>();
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    error::<Unsupported>();
}

#[test]
fn run_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let prog = Program::parse_script("echo hi").expect("parse");
    let mut vars = Vars::new();
    let mut host = TestHost::default();
    let fut = prog.run(&mut vars, &mut host);
    assert_send(&fut);
    let st = block_on(fut);
    assert_eq!(st, 0);
}

#[test]
fn spec_example_message_for_pipes() {
    let msg = parse_err("echo a\necho b\necho ab | cat");
    assert_eq!(msg, "tlc simulated shell: line 3, column 9: pipes ('|') are not supported");
}

#[test]
fn unsupported_syntax_is_rejected_at_parse_time_with_position() {
    let cases: &[(&str, &str)] = &[
        ("sleep 1 &", "line 1, column 9: background jobs ('&')"),
        ("echo $(date)", "line 1, column 6: command substitution '$(...)'"),
        ("echo `date`", "line 1, column 6: command substitution (backquotes)"),
        ("x=\"a `b`\"", "column 6: command substitution (backquotes)"),
        ("(echo sub)", "line 1, column 1: subshells"),
        ("f() { echo; }", "column 2: function definitions are not supported"),
        ("function f { echo; }", "column 1: function definitions are not supported"),
        ("cat <<EOF\nx\nEOF", "column 5: here-documents ('<<')"),
        ("echo hi > /tmp/x", "column 9: file redirections"),
        ("echo hi >> /tmp/x", "column 9: file redirections"),
        ("echo hi 2>/dev/null", "column 9: file redirections"),
        ("cat < /etc/x", "column 5: input redirections"),
        ("echo hi >&3", "only '>&1' and '>&2'"),
        ("echo hi 3>&1", "only file descriptors 1 and 2"),
        ("echo hi &> x", "'&>' redirection"),
        ("if [[ a == a ]]; then :; fi", "column 4: '[[ ... ]]' tests are not supported"),
        ("a=(1 2)", "column 3: arrays are not supported"),
        ("echo $'a\\n'", "$'...' strings"),
        ("echo ${x/a/b}", "pattern substitution"),
        ("echo ${x:1:2}", "substring expansion"),
        ("echo ${x^}", "case modification"),
        ("echo ~/x", "tilde expansion"),
        ("x=~/bin", "tilde expansion"),
        ("echo $$", "'$$' (process id)"),
        ("echo $!", "'$!'"),
        ("case a in a) echo;& esac", "fall-through"),
        ("echo 'open", "line 1, column 6: syntax error: unterminated quoted string"),
        ("echo \"open", "syntax error: unterminated quoted string"),
        ("echo ${x", "missing '}'"),
        ("echo $((1+2)", "missing '))'"),
        ("echo $(( \"1\" ))", "quotes and backslashes inside '$(( ))'"),
        ("if true; then fi", "line 1, column 15: syntax error: 'fi' unexpected"),
        ("while true; do", "column 15: syntax error: end of script unexpected"),
        ("while true; do :;", "syntax error: end of script unexpected (expecting 'done')"),
        ("echo a;;", "syntax error: ';;' unexpected"),
        ("! ! true", "syntax error: '!' unexpected"),
        ("{ }", "syntax error: '}' unexpected"),
        ("for 1 in a; do :; done", "bad for loop variable"),
        ("echo a |", "pipes ('|') are not supported"),
        ("true || | x", "pipes ('|') are not supported"),
    ];
    for (script, expected) in cases {
        let msg = parse_err(script);
        assert!(msg.starts_with("tlc simulated shell: line "), "{script}: {msg}");
        assert!(msg.contains(expected), "{script}: got {msg:?}, want {expected:?}");
    }
}

#[test]
fn nothing_runs_when_a_later_line_is_unsupported() {
    assert!(Program::parse_script("echo first\nsleep 1 | cat").is_err());
}

#[test]
fn deep_nesting_is_rejected_not_overflowing() {
    let deep_groups = "{ ".repeat(5000) + "true" + &"; }".repeat(5000);
    assert!(parse_err(&deep_groups).contains("nested too deeply"));
    let deep_param = "echo ".to_string() + &"${x:-".repeat(5000) + &"}".repeat(5000);
    assert!(parse_err(&deep_param).contains("nested too deeply"));
    let (out, st) = run(&format!("echo $(({}1{}))", "(".repeat(5000), ")".repeat(5000)));
    assert_eq!(st, 2, "{out}");
    let long_sum = format!("echo $(({}1))", "1+".repeat(50_000));
    let (out, st) = run(&long_sum);
    assert_eq!(st, 2, "{out}");
    assert!(out.contains("arithmetic expression"), "{out}");
}

#[test]
fn not_found_is_a_runtime_error_with_the_tlc_note() {
    let (out, st) = run("echo before\ncurl -s http://x\necho status $?");
    assert_eq!(out, format!("before\nsh: 2: curl: not found{NOT_FOUND_NOTE}\nstatus 127\n"));
    assert_eq!(st, 0);
    let (out, st) = run("set -e\nterraform apply\necho unreachable");
    assert_eq!(out, format!("sh: 2: terraform: not found{NOT_FOUND_NOTE}\n"));
    assert_eq!(st, 127);
    // Not reached: no error at all.
    let (out, st) = run("if false; then kubectl get pods; fi; echo ok");
    assert_eq!((out.as_str(), st), ("ok\n", 0));
}

#[test]
fn error_messages_use_dollar_zero() {
    let prog = Program::from_argv(&argv(&["sh", "-c", "nope_cmd", "myjob"])).expect("argv");
    let mut host = TestHost::default();
    assert_eq!(run_prog(&prog, &mut host), 127);
    assert!(host.err.starts_with("myjob: 1: nope_cmd: not found"), "{}", host.err);
    let prog = Program::from_argv(&argv(&["/bin/sh", "-c", "echo $0; nope_cmd"])).expect("argv");
    let mut host = TestHost::default();
    run_prog(&prog, &mut host);
    assert_eq!(host.out, "/bin/sh\n");
    assert!(host.err.starts_with("/bin/sh: 1: nope_cmd"), "{}", host.err);
    let (out, _) = run("echo $0 $#");
    assert_eq!(out, "sh 0\n");
}

#[test]
fn from_argv_accepts_shell_forms() {
    let forms: &[&[&str]] = &[
        &["sh", "-c", "echo $1-$2 $0", "name", "x", "y"],
        &["/bin/sh", "-c", "echo $1-$2 $0", "name", "x", "y"],
        &["bash", "-c", "echo $1-$2 $0", "name", "x", "y"],
        &["/bin/bash", "-lc", "echo $1-$2 $0", "name", "x", "y"],
        &["/usr/bin/env", "sh", "-c", "echo $1-$2 $0", "name", "x", "y"],
        &["ash", "-ec", "echo $1-$2 $0", "name", "x", "y"],
        &["dash", "-euc", "echo $1-$2 $0", "name", "x", "y"],
        &["busybox", "sh", "-c", "echo $1-$2 $0", "name", "x", "y"],
        &["sh", "-e", "-o", "pipefail", "-c", "echo $1-$2 $0", "name", "x", "y"],
        &["sh", "-c", "--", "echo $1-$2 $0", "name", "x", "y"],
    ];
    for f in forms {
        let prog = Program::from_argv(&argv(f)).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        let mut host = TestHost::default();
        assert_eq!(run_prog(&prog, &mut host), 0, "{f:?}");
        assert_eq!(host.out, "x-y name\n", "{f:?}");
    }
}

#[test]
fn from_argv_options_apply() {
    let prog = Program::from_argv(&argv(&["sh", "-ec", "false; echo no"])).expect("argv");
    let mut host = TestHost::default();
    assert_eq!(run_prog(&prog, &mut host), 1);
    assert_eq!(host.out, "");
    let prog = Program::from_argv(&argv(&["sh", "-xc", "echo hi"])).expect("argv");
    let mut host = TestHost::default();
    run_prog(&prog, &mut host);
    assert_eq!(host.merged, "+ echo hi\nhi\n");
    let prog = Program::from_argv(&argv(&["sh", "-uc", "echo $nope"])).expect("argv");
    let mut host = TestHost::default();
    assert_eq!(run_prog(&prog, &mut host), 2);
    assert_eq!(host.err, "sh: 1: nope: parameter not set\n");
}

#[test]
fn from_argv_runs_bare_builtins() {
    let prog = Program::from_argv(&argv(&["echo", "hello", "$HOME", "*"])).expect("argv");
    let mut host = TestHost::default();
    assert_eq!(run_prog(&prog, &mut host), 0);
    assert_eq!(host.out, "hello $HOME *\n");

    let prog = Program::from_argv(&argv(&["sleep", "3600"])).expect("argv");
    let mut host = TestHost::default();
    assert_eq!(run_prog(&prog, &mut host), 0);
    assert_eq!(host.sleeps, vec![3600.0]);

    let prog = Program::from_argv(&argv(&["/bin/sleep", "infinity"])).expect("argv");
    let mut host = TestHost::default();
    run_prog(&prog, &mut host);
    assert_eq!(host.sleeps, vec![f64::INFINITY]);

    let prog = Program::from_argv(&argv(&["cat", "/etc/config/app.conf"])).expect("argv");
    let mut host = TestHost::default();
    host.files.insert("/etc/config/app.conf".into(), "key=value\n".into());
    assert_eq!(run_prog(&prog, &mut host), 0);
    assert_eq!(host.out, "key=value\n");

    let prog = Program::from_argv(&argv(&["printf", "%s=%d\n", "a", "1", "b", "2"])).expect("argv");
    let mut host = TestHost::default();
    run_prog(&prog, &mut host);
    assert_eq!(host.out, "a=1\nb=2\n");

    let prog = Program::from_argv(&argv(&["true"])).expect("argv");
    assert_eq!(run_prog(&prog, &mut TestHost::default()), 0);
    let prog = Program::from_argv(&argv(&["false"])).expect("argv");
    assert_eq!(run_prog(&prog, &mut TestHost::default()), 1);
}

#[test]
fn from_argv_rejects_other_programs() {
    let e = Program::from_argv(&argv(&["nginx", "-g", "daemon off;"])).expect_err("nginx");
    assert_eq!(
        e.message,
        "tlc simulated kubelet: cannot run 'nginx': only `sh -c SCRIPT` and the builtins echo, \
         printf, sleep, cat, true, false are interpreted"
    );
    let e = Program::from_argv(&[]).expect_err("empty");
    assert!(e.message.contains("default entrypoint"), "{e}");
    let e = Program::from_argv(&argv(&["sh", "/scripts/run.sh"])).expect_err("script file");
    assert!(e.message.contains("'sh /scripts/run.sh'"), "{e}");
    let e = Program::from_argv(&argv(&["sh"])).expect_err("stdin");
    assert!(e.message.contains("only `sh -c SCRIPT`"), "{e}");
    let e = Program::from_argv(&argv(&["sh", "-c"])).expect_err("no script");
    assert!(e.message.contains("-c needs a script"), "{e}");
    let e = Program::from_argv(&argv(&["sh", "-i", "-c", "x"])).expect_err("interactive");
    assert!(e.message.contains("-i is not supported"), "{e}");
    let e = Program::from_argv(&argv(&["sh", "-c", "echo a | wc -l"])).expect_err("pipe");
    assert!(e.message.contains("pipes"), "{e}");
    let e = Program::from_argv(&argv(&["python3", "-c", "print(1)"])).expect_err("python");
    assert!(e.message.contains("'python3'"), "{e}");
}

#[test]
fn echo_is_busybox_like() {
    let (out, _) = run(r#"echo -e "a\tb\x41\0101 \101 \q \\"; echo -n x; echo "a\nb"; echo -E "c\nd""#);
    assert_eq!(out, "a\tbAA A \\q \\\nxa\\nb\nc\\nd\n");
    let (out, _) = run(r#"echo -e "stop\chere" more; echo -ne "x\n"; echo -nx y; echo -"#);
    assert_eq!(out, "stopx\n-nx y\n-\n");
    let (out, _) = run(r#"echo -e "\x4g|\xg|\400|\e""#);
    assert_eq!(out, "\x04g|\\xg| 0|\x1b\n");
}

#[test]
fn no_pathname_expansion() {
    let (out, _) = run("echo * /etc/*.conf [ab]?");
    assert_eq!(out, "* /etc/*.conf [ab]?\n");
}

#[test]
fn sleep_goes_through_the_host() {
    let prog = Program::parse_script("sleep 1 2m 0.5h 1d; sleep .25; sleep 1e1; sleep inf").expect("parse");
    let mut host = TestHost::default();
    assert_eq!(run_prog(&prog, &mut host), 0);
    assert_eq!(host.sleeps, vec![1.0 + 120.0 + 1800.0 + 86400.0, 0.25, 10.0, f64::INFINITY]);
    let prog = Program::parse_script("sleep 5 x; echo $?").expect("parse");
    let mut host = TestHost::default();
    run_prog(&prog, &mut host);
    assert!(host.sleeps.is_empty());
    assert_eq!(host.merged, "sleep: invalid time interval 'x'\nTry 'sleep --help' for more information.\n1\n");
}

#[test]
fn cat_reads_host_files() {
    let prog = Program::parse_script("cat /cfg/a /cfg/missing /cfg/b; echo \"st=$?\"; cat; echo $?").expect("parse");
    let mut host = TestHost::default();
    host.files.insert("/cfg/a".into(), "A\n".into());
    host.files.insert("/cfg/b".into(), "B".into());
    run_prog(&prog, &mut host);
    assert_eq!(host.out, "A\nBst=1\n0\n");
    assert_eq!(host.err, "cat: /cfg/missing: No such file or directory\n");
    let (out, st) = run("cat -n /x; echo $?");
    assert_eq!(st, 0);
    assert!(out.contains("not supported by the tlc simulated shell\n1\n"), "{out}");
}

#[test]
fn test_file_operators_use_the_host() {
    let prog = Program::parse_script(
        "[ -f /c/x ] && echo f; [ -e /c/none ] || echo e; [ -s /c/empty ] || echo s; \
         [ -r /c/x ] && echo r; [ -d /c ] || echo d",
    )
    .expect("parse");
    let mut host = TestHost::default();
    host.files.insert("/c/x".into(), "data".into());
    host.files.insert("/c/empty".into(), String::new());
    run_prog(&prog, &mut host);
    assert_eq!(host.out, "f\ne\ns\nr\nd\n");
    let (out, _) = run("[ -x /bin/sh ]; echo $?");
    assert_eq!(out, "sh: 1: [: -x: this file test is not supported by the tlc simulated shell\n2\n");
}

#[test]
fn streams_are_kept_apart_and_redirections_route_them() {
    let prog = Program::parse_script("echo o1; echo e1 >&2; echo e2 1>&2; echo o2 2>&1; { echo e3; } >&2; echo o3")
        .expect("parse");
    let mut host = TestHost::default();
    run_prog(&prog, &mut host);
    assert_eq!(host.out, "o1\no2\no3\n");
    assert_eq!(host.err, "e1\ne2\ne3\n");
    // 2>&1 then >&2: stderr goes to the old stdout, stdout to the old stderr.
    let prog = Program::parse_script("nope_x 2>&1; { nope_y; } 2>&1 >&2").expect("parse");
    let mut host = TestHost::default();
    run_prog(&prog, &mut host);
    assert!(host.out.contains("nope_x: not found"), "{}", host.out);
    assert!(host.out.contains("nope_y: not found"), "{}", host.out);
    assert_eq!(host.err, "");
}

#[test]
fn vars_seed_and_receive_assignments() {
    let prog = Program::parse_script("echo \"$GREETING $WHO\"; WHO=cluster; export NEW=1; unset GONE; : ${DEF:=d}")
        .expect("parse");
    let mut vars: Vars = [
        ("GREETING".to_string(), "hello".to_string()),
        ("WHO".to_string(), "world".to_string()),
        ("GONE".to_string(), "x".to_string()),
    ]
    .into_iter()
    .collect();
    let mut host = TestHost::default();
    let st = block_on(prog.run(&mut vars, &mut host));
    assert_eq!(st, 0);
    assert_eq!(host.out, "hello world\n");
    assert_eq!(vars.get("WHO"), Some("cluster"));
    assert_eq!(vars.get("NEW"), Some("1"));
    assert_eq!(vars.get("GONE"), None);
    assert_eq!(vars.get("DEF"), Some("d"));
    let mut names: Vec<&str> = vars.iter().map(|(k, _)| k).collect();
    names.sort();
    assert_eq!(names, vec!["DEF", "GREETING", "NEW", "WHO"]);
}

#[test]
fn export_and_set_listings() {
    let (out, _) = run("export B='it'\\''s' A; C=3; export -p; set");
    assert_eq!(out, "export A\nexport B='it'\"'\"'s'\nB='it'\"'\"'s'\nC='3'\n");
}

#[test]
fn pipefail_and_noop_options_are_accepted() {
    let (out, st) = run("set -o pipefail; set -euo pipefail; set -f; set -v; set +o pipefail; echo ok");
    assert_eq!((out.as_str(), st), ("ok\n", 0));
    let (out, st) = run("set -o nosuch; echo no");
    assert_eq!((out.as_str(), st), ("sh: 1: set: Illegal option -o nosuch\n", 2));
    let (out, st) = run("set -n; echo no");
    assert_eq!(st, 2);
    assert!(out.contains("-n is not supported"), "{out}");
}

#[test]
fn printf_float_formats_are_reported() {
    let (out, st) = run("printf '%.2f\\n' 1.5; echo $?");
    assert_eq!(st, 0);
    assert_eq!(out, "sh: 1: printf: %.2f: floating-point formats are not supported by the tlc simulated shell\n2\n");
}

#[test]
fn exit_status_is_always_a_byte() {
    for (script, want) in [
        ("exit 255", 255),
        ("exit 256", 0),
        ("exit 1000", 232),
        ("nope_cmd", 127),
        ("false", 1),
        ("exit 99999999999", 2),
    ] {
        let (_, st) = run(script);
        assert_eq!(st, want, "{script}");
        assert!((0..=255).contains(&st));
    }
}

#[test]
fn programs_can_run_repeatedly() {
    let prog = Program::parse_script("i=${i:-0}; i=$((i+1)); echo $i").expect("parse");
    let mut vars = Vars::new();
    let mut host = TestHost::default();
    block_on(async {
        prog.run(&mut vars, &mut host).await;
        prog.run(&mut vars, &mut host).await;
    });
    assert_eq!(host.out, "1\n2\n");
    let copy = prog.clone();
    let mut host = TestHost::default();
    run_prog(&copy, &mut host);
    assert_eq!(host.out, "1\n");
}

#[test]
fn endless_loop_yields_to_the_runtime() {
    let prog = Program::parse_script("while true; do :; done").expect("parse");
    let mut vars = Vars::new();
    let mut host = TestHost::default();
    let r = with_timeout(50, prog.run(&mut vars, &mut host));
    assert!(r.is_none(), "the loop must still be running when the timeout fires");
    let prog = Program::parse_script("until false; do i=1; done").expect("parse");
    let r = with_timeout(20, prog.run(&mut vars, &mut host));
    assert!(r.is_none());
}

/// A host whose sleep really waits, to check that stopping a container mid-sleep is safe.
struct SlowHost {
    out: String,
}

impl Host for SlowHost {
    fn read_file(&self, _path: &str) -> Result<String, String> {
        Err("No such file or directory".into())
    }
    fn stdout(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn stderr(&mut self, text: &str) {
        self.out.push_str(text);
    }
    async fn sleep(&mut self, seconds: f64) {
        if seconds.is_finite() {
            tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        } else {
            std::future::pending::<()>().await;
        }
    }
}

#[test]
fn dropping_the_future_mid_sleep_stops_the_script() {
    let prog = Program::parse_script("echo started; sleep 3600; echo never").expect("parse");
    let mut vars = Vars::new();
    let mut host = SlowHost { out: String::new() };
    let r = with_timeout(20, prog.run(&mut vars, &mut host));
    assert!(r.is_none());
    assert_eq!(host.out, "started\n");
    let prog = Program::from_argv(&argv(&["sleep", "infinity"])).expect("argv");
    let r = with_timeout(10, prog.run(&mut vars, &mut host));
    assert!(r.is_none());
}

/// Deterministic xorshift generator for the garbage tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parses `source` and, if accepted, runs it with an instant host under a time budget
/// (scripts with endless loops are cut off by the timeout thanks to the periodic yields).
fn parse_and_maybe_run(rt: &tokio::runtime::Runtime, source: &str) -> bool {
    let Ok(prog) = Program::parse_script(source) else {
        return false;
    };
    let mut vars: Vars = [("D".to_string(), "/x".to_string())].into_iter().collect();
    let mut host = TestHost::default();
    host.files.insert("/x/f".into(), "content\n".into());
    let r =
        rt.block_on(async { tokio::time::timeout(Duration::from_millis(20), prog.run(&mut vars, &mut host)).await });
    if let Ok(st) = r {
        assert!((0..=255).contains(&st), "{source:?} -> {st}");
    }
    true
}

#[test]
fn garbage_input_never_panics() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Raw bytes, mostly shell-ish ASCII.
    const ALPHABET: &[u8] = b" \t\n;&|<>()$`'\"\\{}[]*?#=!~-+/%:0123456789abcdefxyzIFS@^,.";
    for _ in 0..3000 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| if rng.below(10) == 0 { (rng.next() & 0xff) as u8 } else { ALPHABET[rng.below(ALPHABET.len())] })
            .collect();
        parse_and_maybe_run(&rt, &String::from_utf8_lossy(&bytes));
    }
    // Token soup: far more likely to parse, so it exercises the evaluator.
    const TOKENS: &[&str] = &[
        "if",
        "then",
        "elif",
        "else",
        "fi",
        "while",
        "until",
        "do",
        "done",
        "for",
        "x",
        "in",
        "case",
        "esac",
        ")",
        ";;",
        "{",
        "}",
        "!",
        "&&",
        "||",
        ";",
        "\n",
        "echo",
        "printf",
        "\"%s %d %5.2x %b %c\"",
        "test",
        "[",
        "]",
        "-eq",
        "-z",
        "-n",
        "=",
        "!=",
        "-a",
        "-o",
        "(",
        "$x",
        "\"$@\"",
        "$*",
        "$#",
        "$?",
        "$1",
        "${x:-d}",
        "${x:=1}",
        "${x#*}",
        "${#x}",
        "${x%%?}",
        "$((x+1))",
        "$((1/x))",
        "$((x=x*2))",
        "x=1",
        "x=",
        "IFS=,",
        "export",
        "unset",
        "set",
        "-e",
        "-u",
        "-x",
        "--",
        "shift",
        "break",
        "continue",
        "exit",
        "2",
        "true",
        "false",
        ":",
        "cat",
        "$D/f",
        "sleep",
        "0",
        "-1",
        "'*'",
        "\\",
        ">&2",
        "2>&1",
        "a,b",
        "\"a b\"",
        "nope_cmd",
        "echo -e '\\x41\\c'",
    ];
    let mut parsed = 0;
    for _ in 0..3000 {
        let n = 1 + rng.below(14);
        let mut src = String::new();
        for _ in 0..n {
            src.push_str(TOKENS[rng.below(TOKENS.len())]);
            src.push(' ');
        }
        if parse_and_maybe_run(&rt, &src) {
            parsed += 1;
        }
    }
    assert!(parsed > 100, "only {parsed} token-soup scripts parsed");
}
