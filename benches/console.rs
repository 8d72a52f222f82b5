//! Console frame costs, measured (never asserted): `cargo bench --bench console`.
//!
//! - ingest: 100 branches logging 20,000 lines/s in total; every 16 ms frame applies that frame's
//!   320 lines through `update` and draws the logs view at 200×50 (merged and split). Reports the
//!   frame time (update + draw) p50/p99/max.
//! - keystroke: a key press through `update` plus the frame it causes, while lines arrive.
//! - scrollback: draw time of the logs view with 10,000 and with 1,000,000 lines buffered.
//! - memory: peak resident memory (VmHWM) of this process after buffering 1,000,000 lines.
//!
//! Frames are drawn into ratatui's TestBackend (the cost of building the frame: layout, widgets,
//! diffing is the terminal backend's and is the same for any content).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Size;
use tlc::contract::{BranchIdentity, Engine, JobRef};
use tlc::lifecycle::run::RunEvent;
use tlc::logs::mux::{MuxEvent, StreamKey};
use tlc::logs::sanitize::{Style, sanitize_line};
use tlc::tui::app::{App, Msg, update};
use tlc::tui::data::DataEvent;
use tlc::tui::keys::Action;
use tlc::tui::theme::Theme;

const BATCH: &str = "019a0000-0000-7000-8000-000000000001";
const BRANCHES: usize = 100;

fn app(size: Size, scrollback: usize) -> App {
    let regions = vec![("eu-west".to_string(), "eu-west".to_string())];
    let mut app = App::new(&regions, Engine::Direct, false, "/var/run/tlc/lifecycle");
    app.size = size;
    app.scrollback = scrollback;
    for b in 0..BRANCHES {
        let identity = BranchIdentity {
            batch_id: BATCH.into(),
            tenant_id: "1da11ccf-6654-4f57-8807-6bb944658fe6".into(),
            tenant_name: "acme-prod".into(),
            operation: "lifecycle.upsert".into(),
            job_namespace: format!("team-{:03}", b),
            job_name: format!("job-{b}"),
            attempt: 1,
            engine: Some(Engine::Direct),
            region: "eu-west".into(),
            migration: None,
        };
        update(&mut app, Msg::Data(DataEvent::Run(RunEvent::Planned(identity))));
    }
    app.open_logs(BATCH);
    app
}

/// `n` lines, spread round-robin over the branches, as the multiplexer delivers them (in batches per branch).
fn lines(start: usize, n: usize) -> Vec<Msg> {
    let mut per_branch: Vec<Vec<(Option<i64>, tlc::logs::sanitize::SafeLine)>> = vec![Vec::new(); BRANCHES];
    for i in start..start + n {
        let b = i % BRANCHES;
        let text = if i % 97 == 0 {
            format!("\u{1b}[31mError: step {i} failed on node-{b}\u{1b}[0m")
        } else {
            format!("module.tenant.aws_s3_bucket.data[{i}]: Refreshing state... [id=tenant-{b}-bucket-{i}]")
        };
        per_branch[b].push((Some(i as i64 * 50_000), sanitize_line(text.as_bytes(), &mut Style::default())));
    }
    per_branch
        .into_iter()
        .enumerate()
        .filter(|(_, l)| !l.is_empty())
        .map(|(b, lines)| {
            let key = StreamKey {
                batch_id: BATCH.into(),
                job: JobRef::new(&format!("team-{b:03}"), &format!("job-{b}")),
                attempt: 1,
                container: "main".into(),
            };
            Msg::Data(DataEvent::Logs(MuxEvent::Lines { key, lines }))
        })
        .collect()
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App, theme: &Theme) {
    terminal.draw(|f| tlc::tui::views::draw(f, app, theme)).expect("draw");
}

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    format!(
        "p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  (n={})",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        v[v.len() - 1].as_secs_f64() * 1e3,
        v.len()
    )
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn ingest(split: bool) {
    let theme = Theme::default_theme();
    let mut app = app(Size::new(200, 50), 1_000_000);
    if split {
        update(&mut app, Msg::Action(Action::ToggleSplit));
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    // Warm up with 100,000 lines already buffered.
    for m in lines(0, 100_000) {
        update(&mut app, m);
    }
    let per_frame = 20_000 * 16 / 1000;
    let mut frames = Vec::new();
    let mut keys = Vec::new();
    let mut next = 100_000;
    for frame in 0..2_000 {
        let batch = lines(next, per_frame);
        next += per_frame;
        let start = Instant::now();
        for m in batch {
            update(&mut app, m);
        }
        draw(&mut terminal, &app, &theme);
        frames.push(start.elapsed());
        if frame % 10 == 0 {
            // A keystroke: scroll up (pauses), then the frame it causes; every other one resumes.
            let code = if frame % 20 == 0 { KeyCode::Char('k') } else { KeyCode::Char('G') };
            let start = Instant::now();
            update(&mut app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
            draw(&mut terminal, &app, &theme);
            keys.push(start.elapsed());
        }
    }
    let view = if split { "split" } else { "merged" };
    println!("ingest 20,000 lines/s over {BRANCHES} branches, logs {view} at 200x50: frame {}", percentiles(frames));
    println!("  keystroke to frame ({view}):                                      {}", percentiles(keys));
}

fn scrollback(total: usize, split: bool) -> Vec<Duration> {
    let theme = Theme::default_theme();
    let mut app = app(Size::new(200, 50), 2_000_000);
    if split {
        update(&mut app, Msg::Action(Action::ToggleSplit));
    }
    let mut at = 0;
    while at < total {
        let n = 10_000.min(total - at);
        for m in lines(at, n) {
            update(&mut app, m);
        }
        at += n;
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    let mut times = Vec::new();
    for i in 0..500 {
        // Alternate following and a paused position mid-log, so both paths are measured.
        let code = if i % 2 == 0 { KeyCode::Char('k') } else { KeyCode::Char('G') };
        update(&mut app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        let start = Instant::now();
        draw(&mut terminal, &app, &theme);
        times.push(start.elapsed());
    }
    times
}

fn memory() {
    let before = peak_rss_mib().unwrap_or(0.0);
    let theme = Theme::default_theme();
    let mut app = app(Size::new(200, 50), 1_000_000);
    for chunk in 0..100 {
        for m in lines(chunk * 10_000, 10_000) {
            update(&mut app, m);
        }
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    draw(&mut terminal, &app, &theme);
    println!(
        "memory: peak RSS {:.1} MiB with 1,000,000 lines buffered (peak before this step: {before:.1} MiB)",
        peak_rss_mib().unwrap_or(0.0)
    );
}

fn main() {
    // First, so the peak is this step's and not an earlier one's.
    memory();
    ingest(false);
    ingest(true);
    for split in [false, true] {
        let view = if split { "split" } else { "merged" };
        let small = scrollback(10_000, split);
        let large = scrollback(1_000_000, split);
        let median = |v: &Vec<Duration>| {
            let mut v = v.clone();
            v.sort();
            v[v.len() / 2]
        };
        let ratio = median(&large).as_secs_f64() / median(&small).as_secs_f64();
        println!("scrollback {view}:     10,000 lines: draw {}", percentiles(small));
        println!("scrollback {view}:  1,000,000 lines: draw {}", percentiles(large));
        println!("  median ratio 1,000,000 / 10,000: {ratio:.3}");
    }
}
