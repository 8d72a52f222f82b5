//! The console's first frame and keystroke-to-frame latency with the real binary in a
//! pseudo-terminal, measured (never asserted): `cargo bench --bench first_frame`.
//!
//! - first frame: `tlc sim --estate generated --tenants 5000 --namespaces 100 --jobs 10 --pods 5000`
//!   (two regions: 10,000 tenants, 2,000 lifecycle Jobs, 10,000 finished branch pods; `RECORDS=n`
//!   adds `--records n`, n batch records per region of batches whose pods are gone), then `tlc`
//!   in a 200×50 pty, several times: from spawn to the first frame (header and footer drawn), to
//!   all tenants listed with both regions connected, and to the visible tenants' last runs shown;
//!   and the console's peak RSS (VmHWM) before it quits.
//! - keystroke to frame, idle: `j`/`k` in the tenants view, from the write to the pty to the
//!   screen showing the other tenant's details.
//! - keystroke to frame while logs stream: a second `tlc sim` whose 100 Jobs print 200 lines/s
//!   each (`--log-rate`), an upsert of its tenant from the console (100 branches), its merged
//!   logs followed; `k` (pause) / `G` (follow) from the write to the title changing. The ingest
//!   rate actually reached is read from the console's own line count.
//!
//! Times end when the pty reader thread took the output that completed the first whole frame
//! satisfying the condition (it signals every chunk; see `tests/common/pty.rs`), so they include
//! the pty but no polling interval. Keystrokes are paced, not queued: each is sent once the
//! previous one's frame is on screen and `KEY_GAP` has passed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test with its message

#[path = "../tests/integration/common/pty.rs"]
mod pty;
#[path = "common/sim.rs"]
mod sim;

use std::time::{Duration, Instant};

use pty::Console;
use sim::{Sim, cpu_time};

/// Terminal size: rows, columns.
const SIZE: (u16, u16) = (50, 200);
/// Console starts measured on the large estate.
const RUNS: usize = 10;
/// Keystrokes measured per scenario.
const KEYSTROKES: usize = 200;
/// Time between two keystrokes (a fast typist; longer than the console's 16 ms frame interval, so
/// each key finds the frame limiter idle).
const KEY_GAP: Duration = Duration::from_millis(30);
/// Tenants per region of the large estate (two regions).
const TENANTS_PER_REGION: usize = 5000;
/// Finished branch pods per region of the large estate.
const PODS_PER_REGION: usize = 5000;
/// Branches of the streaming batch (10 namespaces × 10 Jobs) and their lines per second each.
const BRANCHES: usize = 100;
const LINES_PER_SECOND: usize = 200;

/// Starts the console on `kubeconfig` with the tlc configuration `config`.
fn console(kubeconfig: &std::path::Path, config: &std::path::Path) -> Console {
    let kubeconfig = kubeconfig.to_str().expect("utf-8 path");
    let config = config.to_str().expect("utf-8 path");
    Console::start_with(&[], &[("KUBECONFIG", kubeconfig), ("TLC_CONFIG", config)], SIZE)
}

/// Peak resident set of a process, in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Nearest-rank percentile of sorted values.
fn at<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn spread(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "min {:>7.1}  median {:>7.1}  p95 {:>7.1}  max {:>7.1} ms",
        ms(v[0]),
        ms(at(&v, 0.5)),
        ms(at(&v, 0.95)),
        ms(v[v.len() - 1])
    )
}

fn latencies(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {:>6.1}  p99 {:>6.1}  max {:>6.1} ms  (n={})",
        ms(at(&v, 0.5)),
        ms(at(&v, 0.99)),
        ms(v[v.len() - 1]),
        v.len()
    )
}

/// The console has drawn its chrome: the header and the footer's key hints.
fn drawn(screen: &str) -> bool {
    let lines: Vec<&str> = screen.lines().collect();
    lines.first().is_some_and(|l| l.trim_start().starts_with("tlc")) && lines.len() == SIZE.0 as usize
}

/// Every tenant of both regions is listed and both regions are connected.
fn all_tenants(screen: &str) -> bool {
    screen.contains(&format!("Tenants ({})", 2 * TENANTS_PER_REGION))
        && screen.contains("eu-west ●")
        && screen.contains("us-east ●")
}

/// The visible tenants' rows show their last run (the branch pods are in), not the `—` of none.
fn last_runs_shown(screen: &str) -> bool {
    all_tenants(screen) && screen.contains("upsert ") && !screen.contains('—')
}

/// Sends `keys` in turn, each answered when `expect(i)` is on screen; returns each latency.
fn keystrokes(c: &mut Console, what: &str, keys: &[&str], expect: &dyn Fn(usize) -> String) -> Vec<Duration> {
    let mut out = Vec::with_capacity(KEYSTROKES);
    for i in 0..KEYSTROKES {
        std::thread::sleep(KEY_GAP);
        let wanted = expect(i);
        let sent = Instant::now();
        c.keys(keys[i % keys.len()]);
        let (_, shown) = c.wait_timed(&format!("{what}: {wanted:?} after key {i}"), |s| s.contains(&wanted));
        out.push(shown.saturating_duration_since(sent));
    }
    out
}

fn quit(c: &mut Console) {
    c.keys("q");
    let status = c.wait_exit();
    assert!(status.success(), "tlc exited with {status:?}; screen:\n{}", c.contents());
}

fn first_frame() {
    let (tenants, pods) = (TENANTS_PER_REGION.to_string(), PODS_PER_REGION.to_string());
    // RECORDS=n: batch records (of older batches whose pods are gone) per region, which the
    // console reads after its first screen.
    let records = std::env::var("RECORDS").unwrap_or_else(|_| "0".into());
    let sim = Sim::start(&[
        "--estate",
        "generated",
        "--tenants",
        &tenants,
        "--namespaces",
        "100",
        "--jobs",
        "10",
        "--pods",
        &pods,
        "--records",
        &records,
    ]);
    println!(
        "estate: 2 regions x ({TENANTS_PER_REGION} tenants, 100 namespaces x 10 Jobs, {PODS_PER_REGION} finished branch pods, {records} batch records); tlc sim ready in {:.0} ms",
        ms(sim.ready_after)
    );
    let (mut first, mut data, mut runs, mut rss) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut idle_keys = None;
    for run in 0..RUNS {
        let mut c = console(&sim.kubeconfig, &sim.config);
        let (_, drawn_at) = c.wait_timed("the first frame", drawn);
        let (_, data_at) = c.wait_timed("every tenant with both regions connected", all_tenants);
        let (_, runs_at) = c.wait_timed("the visible tenants' last runs", last_runs_shown);
        first.push(drawn_at - c.spawned);
        data.push(data_at - c.spawned);
        runs.push(runs_at - c.spawned);
        let pid = c.child.process_id().expect("console pid");
        if run == RUNS - 1 {
            let cpu_before = cpu_time(pid);
            let idle = keystrokes(&mut c, "tenants view", &["j", "k"], &|i| {
                format!("name: {}", if i % 2 == 0 { "tenant-00001" } else { "tenant-00000" })
            });
            let per_key = cpu_time(pid).zip(cpu_before).map(|(a, b)| ms((a - b) / KEYSTROKES as u32));
            idle_keys = Some((idle, per_key));
        }
        rss.push(peak_rss_mib(pid).unwrap_or(f64::NAN));
        quit(&mut c);
    }
    rss.sort_by(f64::total_cmp);
    println!();
    println!("first frame, {RUNS} console starts in a {}x{} pty (from spawn):", SIZE.1, SIZE.0);
    println!("  (a) first frame (header, footer):             {}", spread(first));
    let all = format!("(b) all {} tenants, both regions ●:", 2 * TENANTS_PER_REGION);
    println!("  {all:<46}{}   bar: <= 300 ms", spread(data));
    println!("      (b) + the visible tenants' last runs:     {}", spread(runs));
    println!(
        "  (c) peak RSS (VmHWM) before quitting:         min {:>7.1}  median {:>7.1}  max {:>7.1} MiB",
        rss[0],
        at(&rss, 0.5),
        rss[rss.len() - 1]
    );
    if let Some((idle, per_key)) = idle_keys {
        println!();
        println!(
            "keystroke to frame, tenants view, idle (j/k, {} ms apart):  {}   bar: p99 <= 50 ms",
            KEY_GAP.as_millis(),
            latencies(idle)
        );
        println!("  console CPU per keystroke: {:.1} ms", per_key.unwrap_or(f64::NAN));
    }
}

/// The `N lines` of the logs view's title.
fn title_lines(screen: &str) -> Option<u64> {
    let title = screen.lines().find(|l| l.contains("Logs lifecycle.upsert"))?;
    title.split('·').find_map(|part| {
        let part = part.trim();
        let (n, rest) = part.split_once(' ')?;
        rest.starts_with("lines").then(|| n.parse().ok()).flatten()
    })
}

fn streaming() {
    let lines_per_branch = (LINES_PER_SECOND * 600).to_string();
    let rate = LINES_PER_SECOND.to_string();
    let sim = Sim::start(&[
        "--regions",
        "eu-west",
        "--estate",
        "generated",
        "--tenants",
        "1",
        "--namespaces",
        "10",
        "--jobs",
        "10",
        "--log-lines",
        &lines_per_branch,
        "--log-rate",
        &rate,
    ]);
    // Every branch in flight and followed at once.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("tlc.toml");
    let sim_config = std::fs::read_to_string(&sim.config).expect("tlc sim's configuration");
    std::fs::write(
        &config,
        format!("{sim_config}\n[run]\nconcurrency = {BRANCHES}\n\n[ui]\nlog_streams = {BRANCHES}\n"),
    )
    .expect("write the configuration");
    let mut c = console(&sim.kubeconfig, &config);
    c.wait("the tenant", |s| s.contains("Tenants (1)") && s.contains("eu-west ●"));
    c.keys("u");
    c.wait_for("Preview — lifecycle.upsert");
    c.keys("\r");
    c.wait_for("y yes  n/Esc no");
    c.keys("y");
    c.wait(&format!("all {BRANCHES} branches running"), |s| s.contains(&format!("●{BRANCHES} ")));
    c.keys("\r");
    c.wait("the logs, following", |s| s.contains("Logs lifecycle.upsert tenant-00000") && s.contains("following"));
    // Let a second of lines arrive before measuring.
    c.wait("a second's worth of lines", |s| title_lines(s).is_some_and(|n| n >= (BRANCHES * LINES_PER_SECOND) as u64));
    let pid = c.child.process_id().expect("console pid");
    let (screen, start) = c.wait_timed("the line count", |s| title_lines(s).is_some());
    let lines_before = title_lines(&screen).unwrap_or_default();
    let cpu_before = (cpu_time(pid), cpu_time(sim.pid()));
    let streaming = keystrokes(&mut c, "logs view while streaming", &["k", "G"], &|i| {
        if i % 2 == 0 { "PAUSED".into() } else { "following".into() }
    });
    let (screen, end) = c.wait_timed("the line count", |s| s.contains("following") && title_lines(s).is_some());
    let lines_after = title_lines(&screen).unwrap_or_default();
    let cpu_after = (cpu_time(pid), cpu_time(sim.pid()));
    let elapsed = end - start;
    let rate = (lines_after - lines_before) as f64 / elapsed.as_secs_f64();
    let share = |before: Option<Duration>, after: Option<Duration>| match (before, after) {
        (Some(b), Some(a)) => format!("{:.0}%", 100.0 * (a - b).as_secs_f64() / elapsed.as_secs_f64()),
        _ => "?".into(),
    };
    println!();
    println!(
        "keystroke to frame, logs view (merged, following) while lines stream (k/G, {} ms apart): {}   bar: p99 <= 50 ms",
        KEY_GAP.as_millis(),
        latencies(streaming)
    );
    println!(
        "  ingest during the measurement: {} lines in {:.1} s = {:.0} lines/s into the console (target 20,000/s: {BRANCHES} branches x {LINES_PER_SECOND} lines/s)",
        lines_after - lines_before,
        elapsed.as_secs_f64(),
        rate
    );
    println!(
        "  CPU meanwhile (of one core; the machine has {}): console {}, tlc sim {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        share(cpu_before.0, cpu_after.0),
        share(cpu_before.1, cpu_after.1)
    );
    quit(&mut c);
}

/// `cargo bench --bench first_frame [-- first|streaming]`: both parts, or the one named.
fn main() {
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    if wanted("first") {
        first_frame();
    }
    if wanted("streaming") {
        streaming();
    }
}
