//! Differential test: every script of `corpus.sh-cases` runs through dash (or busybox for cases
//! marked `@busybox`) and through the simulated shell; merged output and exit status must match
//! byte for byte. Skipped, with a message, only when the reference shell is not installed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::exec::NOT_FOUND_NOTE;
use super::{Host, Program, Vars};

const CORPUS: &str = include_str!("corpus.sh-cases");

struct Case {
    name: String,
    busybox: bool,
    script: String,
}

fn parse_corpus() -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in CORPUS.split_inclusive('\n') {
        if let Some(header) = line.strip_prefix("#### ") {
            let header = header.trim_end();
            let busybox = header.ends_with("@busybox");
            let name = header.trim_end_matches("@busybox").trim().to_string();
            cases.push(Case { name, busybox, script: String::new() });
        } else if let Some(c) = cases.last_mut() {
            c.script.push_str(line);
        }
    }
    cases
}

/// Reads the real filesystem (the corpus files), sleeps instantly, merges both streams.
struct FsHost {
    out: String,
}

impl Host for FsHost {
    fn read_file(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
            _ => e.to_string(),
        })
    }
    fn stdout(&mut self, text: &str) {
        self.out.push_str(text);
    }
    fn stderr(&mut self, text: &str) {
        self.out.push_str(text);
    }
    async fn sleep(&mut self, _seconds: f64) {}
}

fn available(shell: &str) -> bool {
    let mut cmd = Command::new(shell);
    if shell == "busybox" {
        cmd.arg("sh");
    }
    cmd.args(["-c", "true"]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn fixture_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tlc-shell-difftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create fixture dir");
    std::fs::write(dir.join("hello.txt"), "hello\nworld\n").expect("fixture");
    std::fs::write(dir.join("empty.txt"), "").expect("fixture");
    std::fs::write(dir.join("noeol.txt"), "no eol").expect("fixture");
    dir
}

fn env(dir: &Path) -> Vec<(String, String)> {
    vec![
        ("PATH".to_string(), "/usr/bin:/bin".to_string()),
        ("LC_ALL".to_string(), "C".to_string()),
        ("D".to_string(), dir.display().to_string()),
    ]
}

fn run_reference(busybox: bool, script: &str, dir: &Path, n: usize) -> (String, i32) {
    let out_path = dir.join(format!("out-{n}.txt"));
    let file = std::fs::File::create(&out_path).expect("output file");
    let err = file.try_clone().expect("clone output file");
    let mut cmd = if busybox {
        let mut c = Command::new("busybox");
        c.arg("sh");
        c
    } else {
        Command::new("dash")
    };
    let status = cmd
        .args(["-c", script, "sh", "a", "b"])
        .env_clear()
        .envs(env(dir))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .status()
        .expect("run reference shell");
    let out = std::fs::read(&out_path).expect("read output");
    (String::from_utf8_lossy(&out).into_owned(), status.code().unwrap_or(-1))
}

fn run_ours(rt: &tokio::runtime::Runtime, script: &str, dir: &Path) -> Result<(String, i32), String> {
    let argv: Vec<String> = ["sh", "-c", script, "sh", "a", "b"].iter().map(|s| s.to_string()).collect();
    let prog = Program::from_argv(&argv).map_err(|e| e.to_string())?;
    let mut vars: Vars = env(dir).into_iter().collect();
    let mut host = FsHost { out: String::new() };
    let st = rt.block_on(prog.run(&mut vars, &mut host));
    Ok((host.out.replace(NOT_FOUND_NOTE, ""), st))
}

#[test]
fn corpus_matches_reference_shells() {
    let cases = parse_corpus();
    assert!(cases.len() >= 60, "corpus has only {} cases", cases.len());
    let mut have: HashMap<bool, bool> = HashMap::new();
    have.insert(false, available("dash"));
    have.insert(true, available("busybox"));
    if !have[&false] {
        eprintln!("SKIPPED corpus_matches_reference_shells: `dash` is not installed (apt-get install dash)");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let dir = fixture_dir();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (n, case) in cases.iter().enumerate() {
        if !have[&case.busybox] {
            eprintln!("skipping case '{}': busybox is not installed", case.name);
            continue;
        }
        let (ref_out, ref_st) = run_reference(case.busybox, &case.script, &dir, n);
        match run_ours(&rt, &case.script, &dir) {
            Err(e) => failures.push(format!("case '{}': rejected: {e}", case.name)),
            Ok((out, st)) => {
                if out != ref_out || st != ref_st {
                    failures.push(format!(
                        "case '{}':\n--- reference (status {ref_st}):\n{ref_out}\n--- ours (status {st}):\n{out}",
                        case.name
                    ));
                }
            }
        }
        compared += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("differential corpus: {compared} cases compared");
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}
